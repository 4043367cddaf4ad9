"""Celery tasks of the integrations app: a thin shell around `runs.run_task`."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from .runs import run_task


# acks_late + reject_on_worker_lost: a worker that dies mid-run gets the message delivered
# again rather than lost; the run's lease and watermark make that harmless, and its attempt
# count stops a message that kills every worker it reaches.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.SYNC_SOFT_TIME_LIMIT,
    time_limit=settings.SYNC_TIME_LIMIT,
)
def sync_connection(self, connection_id: int, run_id: int | None = None) -> dict:
    return run_task(
        connection_id=connection_id, run_id=run_id, task_id=self.request.id or ""
    ).as_dict()
