from __future__ import annotations

import socket
import threading

import pytest
from django.core import mail

from alerts.models import Alert, Notification
from tests.alerts.helpers import recompute, rep_target, set_actual


def _turn_red(owner):
    set_actual(owner, "900000")
    recompute()
    set_actual(owner, "100000")
    recompute()


@pytest.fixture
def target(org):
    return rep_target(org.alice)


def test_each_alert_is_emailed_in_the_recipients_language_with_a_link(
    org, target, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://tp.example.com"
    org.alice.language = "en"
    org.alice.save(update_fields=["language"])
    org.mgr_east.language = "zh-hans"
    org.mgr_east.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        _turn_red(org.alice)
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"alice@example.com", "mgr_east@example.com"}
    english, chinese = by_address["alice@example.com"], by_address["mgr_east@example.com"]
    assert "Status worsened" in english.subject
    assert "went from" in english.body
    assert f"https://tp.example.com/targets/{target.pk}/" in english.body
    assert "红色预警" in chinese.body
    assert Notification.objects.filter(email_sent_at__isnull=False).count() == 2


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_smtp_server_that_is_down_leaves_the_inbox_delivered(
    org, target, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
        "127.0.0.1",
        _closed_port(),
        2,
    )
    with django_capture_on_commit_callbacks(execute=True):
        _turn_red(org.alice)
    assert Alert.objects.count() == 1
    notices = Notification.objects.all()
    assert {n.recipient.username for n in notices} == {"alice", "mgr_east"}
    assert all(n.email_sent_at is None and n.email_attempts == 1 for n in notices)
    assert all(n.email_error for n in notices)
    # The inbox shows it all the same.
    from django.test import Client

    client = Client()
    client.force_login(org.alice)
    assert client.get("/inbox/badge/").content.decode().count('data-testid="unread-count"') == 1


class _SmtpResponder(threading.Thread):
    """The least of an SMTP server on 127.0.0.1: enough for smtplib to hand over mail."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.messages: list[bytes] = []

    def run(self):
        try:
            while True:
                conn, _ = self.sock.accept()
                with conn:
                    self._session(conn.makefile("rwb"))
        except OSError:
            return

    def _session(self, stream):
        def say(line: str):
            stream.write(line.encode() + b"\r\n")
            stream.flush()

        say("220 localhost ready")
        while line := stream.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                say("250 localhost")
            elif verb == "DATA":
                say("354 go ahead")
                body = b""
                while (chunk := stream.readline()) not in (b".\r\n", b""):
                    body += chunk
                self.messages.append(body)
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("250 ok")

    def stop(self):
        self.sock.close()


def test_alert_emails_go_through_a_real_smtp_server(
    org, target, settings, django_capture_on_commit_callbacks
):
    server = _SmtpResponder()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _turn_red(org.alice)
    finally:
        server.stop()
    assert len(server.messages) == 2
    assert Notification.objects.filter(email_sent_at__isnull=False).count() == 2
