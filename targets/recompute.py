"""Recompute the figures of the current quarter's targets, on demand or on a schedule.

Figures are computed on read, so nothing needs storing yet; this is the one place where a
periodic pass over every open target happens, which is where status changes (and the alerts
they raise, SPEC §7) are detected as time moves on even when no deal changes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from django.utils import timezone

from targets.figures import Status, figures_for
from targets.models import Target
from targets.periods import Quarter

NO_STATUS = "none"


def figures_recompute(*, as_of: date | None = None) -> dict[str, object]:
    """Figures of every target of the quarter containing `as_of` (default today).

    Returns a JSON-serialisable summary: the date and period, the number of targets and how
    many of them are red / yellow / green / without a status.
    """
    as_of = as_of or timezone.localdate()
    period = Quarter.of(as_of).label
    figures = figures_for(Target.objects.filter(period=period), as_of=as_of)
    statuses = Counter(f.status or NO_STATUS for f in figures.values())
    return {
        "as_of": as_of.isoformat(),
        "period": period,
        "targets": len(figures),
        **{s: statuses[s] for s in (Status.RED, Status.YELLOW, Status.GREEN, NO_STATUS)},
    }
