from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from reviews.deviations import deviations_evaluate
from targets.periods import IsoWeek


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def evaluate_deviations(week: str | None = None) -> dict[str, object]:
    """Weekly: the week just ended, unless a week like 2025-W20 is given."""
    iso_week = IsoWeek.parse(week) if week else IsoWeek.of(timezone.localdate()).previous()
    return vars(deviations_evaluate(week=iso_week))
