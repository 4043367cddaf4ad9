from __future__ import annotations

import logging
import smtplib

from celery import shared_task

from alerts.channels import notification_email_send

log = logging.getLogger(__name__)

MAX_RETRIES = 3


@shared_task(bind=True, max_retries=MAX_RETRIES)
def deliver_email(self, notification_ids: list[int]) -> dict[str, int]:
    """E-mail each notice; those that fail are retried (bounded, with backoff) on their own.

    Without a broker (eager mode) there is no later to retry at: failures stay recorded
    on the notices and nothing is raised into the request that wrote them.
    """
    sent, failed = 0, []
    for notification_id in notification_ids:
        try:
            notification_email_send(notification_id=notification_id)
            sent += 1
        except (OSError, smtplib.SMTPException):
            failed.append(notification_id)
    if failed and not self.request.is_eager and self.request.retries < MAX_RETRIES:
        raise self.retry(args=[failed], countdown=60 * 2**self.request.retries)
    return {"sent": sent, "failed": len(failed)}
