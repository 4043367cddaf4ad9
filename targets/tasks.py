from __future__ import annotations

from datetime import date

from celery import shared_task
from django.db import OperationalError

from targets.recompute import figures_recompute


# A lost database connection is worth a few retries; anything else is a bug to see at once.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def recompute_figures(as_of: str | None = None) -> dict[str, object]:
    """Thin wrapper: the date travels as an ISO string so any broker can carry it."""
    return figures_recompute(as_of=date.fromisoformat(as_of) if as_of else None)
