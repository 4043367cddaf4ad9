"""Channels deliver on their own: a real SMTP server (aiosmtpd) up or down, and a test
channel posting to a real HTTP server (pytest-httpserver) that answers 200 or 500."""

from __future__ import annotations

import json
import socket
import urllib.request
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from alerts.channels import channel_register, channel_unregister
from alerts.models import Alert, DeliveryAttempt, Notification
from alerts.tasks import MAX_RETRIES
from tests.alerts.helpers import recompute, rep_target, set_actual


def _turn_red(owner):
    set_actual(owner, "900000")
    recompute()
    set_actual(owner, "100000")
    recompute()


@pytest.fixture
def target(org):
    return rep_target(org.alice)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_up(settings):
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
        "127.0.0.1",
        controller.port,
        5,
    )
    yield handler
    controller.stop()


@pytest.fixture
def smtp_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
        "127.0.0.1",
        _free_port(),  # nothing listens there: connection refused
        2,
    )


@pytest.fixture
def hook(httpserver):
    """A channel that posts each notice as JSON to a real HTTP endpoint (as a group
    robot would), raising on any answer but 2xx."""

    def deliver(notice):
        body = json.dumps({"to": notice.recipient.username, "title": notice.title}).encode()
        request = urllib.request.Request(
            httpserver.url_for("/hook"), data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5):
            pass

    channel_register("hook", "Hook", deliver)
    yield httpserver
    channel_unregister("hook")


def _attempts(channel: str):
    return DeliveryAttempt.objects.filter(channel=channel).order_by("notification_id", "attempt")


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
    assert _attempts("email").filter(ok=True, attempt=1).count() == 2


def test_alert_emails_go_through_a_real_smtp_server_beside_another_channel(
    org, target, smtp_up, hook, django_capture_on_commit_callbacks
):
    hook.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    with django_capture_on_commit_callbacks(execute=True):
        _turn_red(org.alice)
    assert sorted(rcpt[0] for rcpt, _m in smtp_up.messages) == [
        "alice@example.com",
        "mgr_east@example.com",
    ]
    assert sorted(json.loads(r.data)["to"] for r, _resp in hook.log) == ["alice", "mgr_east"]
    assert list(_attempts("email").values_list("attempt", "ok")) == [(1, True), (1, True)]
    assert list(_attempts("hook").values_list("attempt", "ok")) == [(1, True), (1, True)]


def test_an_smtp_server_that_is_down_leaves_the_other_channels_and_the_inbox_delivered(
    org, target, smtp_down, hook, django_capture_on_commit_callbacks
):
    hook.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    with django_capture_on_commit_callbacks(execute=True):
        _turn_red(org.alice)
    assert Alert.objects.count() == 1
    assert {n.recipient.username for n in Notification.objects.all()} == {"alice", "mgr_east"}
    # The other channel went out once per notice …
    assert _attempts("hook").filter(ok=True).count() == 2
    assert len(hook.log) == 2
    # … while e-mail was tried a bounded number of times per notice, each attempt logged.
    email = list(_attempts("email").values_list("notification_id", "attempt", "ok"))
    per_notice = {n for n, _a, _ok in email}
    assert len(per_notice) == 2
    for notice in per_notice:
        assert [(a, ok) for n, a, ok in email if n == notice] == [
            (number, False) for number in range(1, MAX_RETRIES + 2)
        ]
    assert all(
        "Connection refused" in e or "Errno" in e
        for e in _attempts("email").values_list("error", flat=True)
    )
    # The inbox shows it all the same.
    from django.test import Client

    client = Client()
    client.force_login(org.alice)
    assert client.get("/inbox/badge/").content.decode().count('data-testid="unread-count"') == 1


def test_a_channel_answering_500_is_retried_a_bounded_number_of_times_while_email_goes(
    org, target, smtp_up, hook, django_capture_on_commit_callbacks
):
    hook.expect_request("/hook", method="POST").respond_with_data("down", status=500)
    with django_capture_on_commit_callbacks(execute=True):
        _turn_red(org.alice)
    assert len(smtp_up.messages) == 2
    assert _attempts("email").filter(ok=True).count() == 2
    failed = _attempts("hook")
    assert failed.count() == 2 * (MAX_RETRIES + 1)
    assert not failed.filter(ok=True).exists()
    assert "500" in failed.first().error
    assert len(hook.log) == 2 * (MAX_RETRIES + 1)


def test_a_delivered_notice_is_not_delivered_twice(
    org, target, hook, django_capture_on_commit_callbacks
):
    from alerts.tasks import deliver_notice

    hook.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    with django_capture_on_commit_callbacks(execute=True):
        _turn_red(org.alice)
    notice = Notification.objects.filter(recipient=org.alice).get()
    assert deliver_notice.apply(args=[notice.pk, "hook"]).get() == "skipped"
    assert len(hook.log) == 2
    assert _attempts("hook").filter(notification=notice).count() == 1


def test_a_user_without_an_address_gets_no_email_attempt(
    org, target, django_capture_on_commit_callbacks
):
    org.mgr_east.email = ""
    org.mgr_east.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        _turn_red(org.alice)
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert set(_attempts("email").values_list("recipient__username", flat=True)) == {"alice"}


def test_a_channel_with_nothing_to_send_logs_no_attempt(
    org, target, django_capture_on_commit_callbacks
):
    # As a DingTalk channel does for a recipient DingTalk does not know.
    channel_register("quiet", "Quiet", lambda notice: False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _turn_red(org.alice)
    finally:
        channel_unregister("quiet")
    assert not _attempts("quiet").exists()
    assert _attempts("email").filter(ok=True).count() == 2
