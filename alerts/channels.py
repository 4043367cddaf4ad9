"""Delivery channels. Each reads the inbox rows (`Notification`) and delivers them on its
own: a channel that fails records its attempt and error and leaves the others alone.
DingTalk (work notification, group robot) joins here with the integrations clients."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from alerts.messages import notice_link, notice_text, notice_title
from alerts.models import Notification

log = logging.getLogger(__name__)


def notification_email_send(*, notification_id: int) -> bool:
    """Send one notice by e-mail in its recipient's language; True when sent (or nothing to
    send). A failure is counted and kept on the row, then raised for the task to retry."""
    notice = (
        Notification.objects.select_related(
            "recipient", "target", "target__owner_user", "target__owner_unit", "alert"
        )
        .filter(pk=notification_id, email_sent_at__isnull=True)
        .first()
    )
    if notice is None or not notice.recipient.email:
        return True
    language = notice.recipient.language or settings.LANGUAGE_CODE
    with translation.override(language):
        link = settings.SITE_URL + (notice_link(notice) or reverse("inbox"))
        context = {
            "notice": notice,
            "title": notice_title(notice),
            "text": notice_text(notice),
            "link": link,
            "inbox": settings.SITE_URL + reverse("inbox"),
        }
        subject = str(context["title"])
        body = render_to_string("alerts/email.txt", context)
        html = render_to_string("alerts/email.html", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[notice.recipient.email])
    message.attach_alternative(html, "text/html")
    Notification.objects.filter(pk=notice.pk).update(email_attempts=F("email_attempts") + 1)
    try:
        message.send()
    except Exception as error:
        Notification.objects.filter(pk=notice.pk).update(email_error=str(error)[:500])
        log.warning("e-mail for notice %s failed: %s", notice.pk, error)
        raise
    Notification.objects.filter(pk=notice.pk).update(email_sent_at=timezone.now(), email_error="")
    return True
