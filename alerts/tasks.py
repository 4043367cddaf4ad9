"""Thin tasks: each takes ids, calls one service, retries only its own failure."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from alerts import delivery
from alerts.connection_rules import alerts_evaluate_data_stale

log = logging.getLogger(__name__)

# Four attempts in all, 1, 2 and 4 minutes apart: long enough to ride out a restarting
# mail server, short enough that a notice is not a day late.
MAX_RETRIES = 3
BACKOFF_SECONDS = 60


def _retry_or_give_up(task, error: Exception, what: str) -> str:
    if task.request.retries < MAX_RETRIES:
        if task.request.is_eager:
            # Without a broker there is no later: the retry runs now, without the wait.
            return task.apply(
                args=task.request.args,
                kwargs=task.request.kwargs,
                retries=task.request.retries + 1,
            ).get(disable_sync_subtasks=False)
        raise task.retry(exc=error, countdown=BACKOFF_SECONDS * 2**task.request.retries)
    log.warning("%s failed after %s attempts: %s", what, MAX_RETRIES + 1, error)
    return "failed"


@shared_task(bind=True, max_retries=MAX_RETRIES)
def deliver_notice(self, notification_id: int, channel: str) -> str:
    """One notice on one channel; the attempt number is the retry count plus one."""
    try:
        done = delivery.notice_deliver(
            notification_id=notification_id, channel=channel, attempt=self.request.retries + 1
        )
    except Exception as error:
        return _retry_or_give_up(self, error, f"notice {notification_id} on {channel}")
    return "sent" if done else "skipped"


@shared_task(bind=True, max_retries=MAX_RETRIES)
def deliver_digest(self, user_id: int, channel: str, day: str, notification_ids: list[int]) -> str:
    try:
        done = delivery.digest_deliver(
            user_id=user_id,
            channel=channel,
            day=date.fromisoformat(day),
            notification_ids=notification_ids,
            attempt=self.request.retries + 1,
        )
    except Exception as error:
        return _retry_or_give_up(self, error, f"digest of {day} for {user_id} on {channel}")
    return "sent" if done else "skipped"


@shared_task
def send_digests(day: str | None = None) -> int:
    """Beat, 08:00 company time: yesterday's digests (one message per user and channel)."""
    return delivery.digests_queue(
        day=date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    )


@shared_task
def evaluate_data_stale() -> int:
    """Beat, every 15 minutes: connections without a success for the rule's hours."""
    return alerts_evaluate_data_stale()
