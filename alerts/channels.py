"""Delivery channels: a small registry every way out of the inbox plugs into.

The in-app inbox is the `Notification` row itself and is not a channel. A channel is a
`deliver(notice)` callable that raises when the notice did not go out (the attempt is
logged and retried) and may return False when there is nothing to send through it (no
address, channel not set up: nothing logged), optionally with a
`deliver_digest(digest)` for the daily digest and a `reaches(user)` test (an e-mail
address, a DingTalk user id). E-mail is built in; others are named in the setting
`ALERT_CHANNELS` (code → dotted paths, resolved when the app loads) or registered with
`channel_register`, so the apps that speak to other systems and this one import nothing
of each other.

What a channel receives is a `Notification` with `title`, `text`, `link` and `language`
set, rendered in its recipient's language; a digest is a `Digest`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy, ngettext

from alerts.messages import notice_link, notice_text, notice_title
from alerts.models import Notification
from targets.models import User

log = logging.getLogger(__name__)


@dataclass
class Digest:
    """One user's notices of one company day, rendered in their language."""

    recipient: User
    day: date
    language: str
    title: str
    link: str
    settings: str
    # [(title, text, link)] in the order raised
    items: list[tuple[str, str, str]] = field(default_factory=list)
    notifications: Sequence[Notification] = ()


@dataclass(frozen=True)
class Channel:
    code: str
    label: object  # a lazy translation
    deliver: Callable[[Notification], object]
    deliver_digest: Callable[[Digest], object] | None = None
    reaches: Callable[[User], bool] = lambda user: True

    @property
    def digests(self) -> bool:
        return self.deliver_digest is not None


_CHANNELS: dict[str, Channel] = {}


def channel_register(
    code: str,
    label,
    deliver: Callable[[Notification], object],
    *,
    deliver_digest: Callable[[Digest], object] | None = None,
    reaches: Callable[[User], bool] | None = None,
) -> Channel:
    """Add (or replace) a channel; its notices are then delivered per users' preferences."""
    channel = Channel(
        code=code,
        label=label,
        deliver=deliver,
        deliver_digest=deliver_digest,
        reaches=reaches or (lambda user: True),
    )
    _CHANNELS[code] = channel
    return channel


def channel_unregister(code: str) -> None:
    _CHANNELS.pop(code, None)


def channels() -> list[Channel]:
    return list(_CHANNELS.values())


def channel_get(code: str) -> Channel | None:
    return _CHANNELS.get(code)


def channels_register_from_settings() -> None:
    """`ALERT_CHANNELS = {"code": {"label": "…", "deliver": "pkg.mod.func",
    "deliver_digest": "…", "reaches": "…"}}`; a path that does not import is logged and
    skipped, so a half-configured channel never stops the app."""
    for code, spec in getattr(settings, "ALERT_CHANNELS", {}).items():
        try:
            channel_register(
                code,
                spec.get("label", code),
                import_string(spec["deliver"]),
                deliver_digest=import_string(spec["deliver_digest"])
                if spec.get("deliver_digest")
                else None,
                reaches=import_string(spec["reaches"]) if spec.get("reaches") else None,
            )
        except (ImportError, KeyError) as error:
            log.error("channel %s not registered: %s", code, error)


# Rendering -----------------------------------------------------------------------------


def _language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def _link(notice: Notification) -> str:
    return settings.SITE_URL + (notice_link(notice) or reverse("inbox"))


def notice_render(notice: Notification) -> Notification:
    """Set `title`, `text`, `link` and `language` on the notice, in its recipient's
    language: what every channel sends."""
    notice.language = _language(notice.recipient)
    with translation.override(notice.language):
        notice.title = str(notice_title(notice))
        notice.text = str(notice_text(notice))
        notice.link = _link(notice)
    return notice


def digest_render(*, recipient: User, day: date, notices: Sequence[Notification]) -> Digest:
    language = _language(recipient)
    with translation.override(language):
        title = ngettext(
            "TargetPilot: %(count)s notice of %(day)s",
            "TargetPilot: %(count)s notices of %(day)s",
            len(notices),
        ) % {
            "count": len(notices),
            "day": day.isoformat(),
        }
        items = [
            (str(notice_title(n)), str(notice_text(n)), _link(n))
            for n in sorted(notices, key=lambda n: (n.created_at, n.pk))
        ]
    return Digest(
        recipient=recipient,
        day=day,
        language=language,
        title=title,
        link=settings.SITE_URL + reverse("inbox"),
        settings=settings.SITE_URL + reverse("notification-settings"),
        items=items,
        notifications=notices,
    )


# E-mail --------------------------------------------------------------------------------


def _email_reaches(user: User) -> bool:
    return bool(user.email)


def email_deliver(notice: Notification) -> None:
    """One notice by e-mail (Django's mail backend: SMTP settings from the environment)."""
    context = {
        "notice": notice,
        "title": notice.title,
        "text": notice.text,
        "link": notice.link,
        "inbox": settings.SITE_URL + reverse("inbox"),
    }
    with translation.override(notice.language):
        body = render_to_string("alerts/email.txt", context)
        html = render_to_string("alerts/email.html", context)
    message = EmailMultiAlternatives(subject=notice.title, body=body, to=[notice.recipient.email])
    message.attach_alternative(html, "text/html")
    message.send()


def email_deliver_digest(digest: Digest) -> None:
    context = {"digest": digest}
    with translation.override(digest.language):
        body = render_to_string("alerts/digest.txt", context)
        html = render_to_string("alerts/digest.html", context)
    message = EmailMultiAlternatives(subject=digest.title, body=body, to=[digest.recipient.email])
    message.attach_alternative(html, "text/html")
    message.send()


channel_register(
    "email",
    gettext_lazy("E-mail"),
    email_deliver,
    deliver_digest=email_deliver_digest,
    reaches=_email_reaches,
)
