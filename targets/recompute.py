"""Recompute the figures of the current quarter's targets, on demand or on a schedule.

Pace changes with the calendar even when no deal does, so a periodic pass over every open
target is needed; this is that pass. It computes, stores each target's current figures
(`FigureSnapshot`, read by list filters and alert rules), and announces
(`figures_recomputed`); what to raise from the result belongs to the apps listening.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from targets.figures import Figures, Status, figures_for
from targets.models import FigureSnapshot, Target
from targets.periods import Quarter
from targets.signals import figures_recomputed

NO_STATUS = "none"
# Rates beyond this are stored as "no value" rather than overflowing the column (a Base of
# one cent against millions of actual); no status threshold is anywhere near it.
_RATE_LIMIT = Decimal(10) ** 19
DEBOUNCE_KEY = "targets:recompute-queued"
DEBOUNCE_SECONDS = 60


def figures_recompute(*, as_of: date | None = None) -> dict[str, object]:
    """Figures of every target of the quarter containing `as_of` (default today).

    Returns a JSON-serialisable summary: the date and period, the number of targets and how
    many of them are red / yellow / green / without a status.
    """
    as_of = as_of or timezone.localdate()
    period = Quarter.of(as_of).label
    figures = figures_for(Target.objects.filter(period=period), as_of=as_of)
    # Stored before the signal: receivers compare the stored status with the previous one.
    figures_store(period=period, as_of=as_of, figures=figures)
    figures_recomputed.send(sender=Target, period=period, as_of=as_of, figures=figures)
    statuses = Counter(f.status or NO_STATUS for f in figures.values())
    return {
        "as_of": as_of.isoformat(),
        "period": period,
        "targets": len(figures),
        **{s: statuses[s] for s in (Status.RED, Status.YELLOW, Status.GREEN, NO_STATUS)},
    }


def _rate(value: Decimal | None) -> Decimal | None:
    if value is None or abs(value) >= _RATE_LIMIT:
        return None
    return value.quantize(Decimal("0.0001"))


@transaction.atomic
def figures_store(*, period: str, as_of: date, figures: Mapping[int, Figures]) -> int:
    """Store `figures` as the targets' current figures in two set-based statements.

    First the status found last time moves to `previous_status` (one UPDATE), then every
    row is upserted (one INSERT … ON CONFLICT per batch) without touching `previous_status`,
    so a new target starts with no previous status and raises nothing on its first pass.
    """
    FigureSnapshot.objects.filter(period=period).update(previous_status=F("status"))
    now = timezone.now()
    rows = [
        FigureSnapshot(
            target_id=target_id,
            period=period,
            as_of=as_of,
            actual=f.actual,
            completion=_rate(f.completion),
            pace=_rate(f.pace),
            stretch_progress=_rate(f.stretch_progress),
            status=f.status or "",
            computed_at=now,
        )
        for target_id, f in figures.items()
    ]
    FigureSnapshot.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["target"],
        update_fields=[
            "period",
            "as_of",
            "actual",
            "completion",
            "pace",
            "stretch_progress",
            "status",
            "computed_at",
        ],
    )
    return len(rows)


def recompute_soon() -> None:
    """Ask for a recompute once the current transaction commits (after a confirmation or a
    revision). Bursts are debounced: one recompute is queued per minute, run a minute later
    so it sees the whole burst. Without a broker (tests, `make run`) it runs at each commit.
    """
    from targets.tasks import recompute_figures

    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: recompute_figures.apply(), robust=True)
        return
    if cache.add(DEBOUNCE_KEY, 1, DEBOUNCE_SECONDS):
        transaction.on_commit(
            lambda: recompute_figures.apply_async(countdown=DEBOUNCE_SECONDS), robust=True
        )
