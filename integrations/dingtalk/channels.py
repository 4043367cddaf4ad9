"""DingTalk as delivery channels of notices (alerts' channel registry calls these).

Each takes one inbox row (`alerts.models.Notification`), renders it in its recipient's
language and sends it; it returns False when there is nothing to send through it (no DingTalk
connection set up for it, or a recipient DingTalk does not know) and raises DingTalkError
when sending failed, for the caller to count the attempt and retry.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alerts.channels import notice_render
from alerts.models import Notification
from integrations.models import Connection, ConnectionKind

from .client import DingTalkClient


def _connection(needs: str, *, secret: bool) -> Connection | None:
    for connection in Connection.objects.filter(
        kind=ConnectionKind.DINGTALK, enabled=True
    ).order_by("pk"):
        source = connection.secrets if secret else connection.settings
        if (source or {}).get(needs):
            return connection
    return None


def _rendered(notification: Notification) -> tuple[str, str, str, str]:
    """Title, markdown body, button text and link, in the recipient's language (rendered
    as every channel renders a notice)."""
    notice = notice_render(notification)
    with translation.override(notice.language):
        button = _("Open in TargetPilot")
    body = f"### {notice.title}\n\n{notice.text}" if notice.text else f"### {notice.title}"
    return notice.title, body, button, notice.link


def _action_card(title: str, markdown: str, button: str, url: str) -> dict[str, Any]:
    return {
        "msgtype": "action_card",
        "action_card": {
            "title": title,
            "markdown": markdown,
            "single_title": button,
            "single_url": url,
        },
    }


def work_notice_message(notification: Notification) -> dict[str, Any]:
    return _action_card(*_rendered(notification))


def robot_message(notification: Notification) -> dict[str, Any]:
    title, body, button, url = _rendered(notification)
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": f"{body}\n\n[{button}]({url})"},
    }


def deliver_work_notice(
    notification: Notification, *, connection: Connection | None = None
) -> bool:
    """A personal work notification from the DingTalk app to the recipient."""
    userid = notification.recipient.dingtalk_userid
    connection = connection or _connection("agent_id", secret=False)
    if connection is None or not userid:
        return False
    DingTalkClient(connection).work_notice_send(
        userids=[userid], msg=work_notice_message(notification)
    )
    return True


def deliver_robot(notification: Notification, *, connection: Connection | None = None) -> bool:
    """The notice posted by the group robot (at most 20 a minute: waits, never drops)."""
    connection = connection or _connection("robot_access_token", secret=True)
    if connection is None:
        return False
    DingTalkClient(connection).robot_send(robot_message(notification))
    return True


def deliver_work_notice_digest(digest) -> bool:
    """One work notification with the day's notices (an `alerts.channels.Digest`)."""
    userid = digest.recipient.dingtalk_userid
    connection = _connection("agent_id", secret=False)
    if connection is None or not userid:
        return False
    lines = [f"### {digest.title}"] + [
        f"- [{title}]({link})" for title, _text, link in digest.items
    ]
    with translation.override(digest.language):
        button = _("Open in TargetPilot")
    DingTalkClient(connection).work_notice_send(
        userids=[userid],
        msg=_action_card(digest.title, "\n".join(lines), button, digest.link),
    )
    return True


def deliver_alert_to_group(notification: Notification) -> bool:
    """The group robot posts an alert once, whoever of the group it was addressed to:
    every recipient's notice comes here, the group should read it one time. Personal
    notices (a proposal decided, a flag answered) are not the group's business."""
    alert = notification.alert
    if alert is None:
        return False
    # Atomic on the shared cache (Redis in production), so two workers delivering two
    # recipients' notices post once; the raise time keeps the key unique over the years.
    claim = f"dingtalk-robot-alert-{alert.pk}-{alert.created_at.timestamp()}"
    if not cache.add(claim, 1, timeout=7 * 86400):
        return False
    try:
        return deliver_robot(notification)
    except Exception:
        cache.delete(claim)  # let the retry post it
        raise


def reaches(user) -> bool:
    return bool(user.dingtalk_userid)


def register() -> None:
    """DingTalk joins the alerts' channels (called when the integrations app loads)."""
    from alerts.channels import channel_register

    channel_register(
        "dingtalk",
        gettext_lazy("DingTalk work notification"),
        deliver_work_notice,
        deliver_digest=deliver_work_notice_digest,
        reaches=reaches,
    )
    channel_register("dingtalk_robot", gettext_lazy("DingTalk group robot"), deliver_alert_to_group)
