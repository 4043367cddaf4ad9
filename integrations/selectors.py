"""Reads for the integrations pages."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import SyncRun


def recent_runs(*, limit: int = 10) -> QuerySet[SyncRun]:
    return SyncRun.objects.select_related("connection", "started_by").order_by(
        "-started_at", "-pk"
    )[:limit]
