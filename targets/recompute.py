"""Recompute the figures of the current quarter's targets, on demand or on a schedule.

Pace changes with the calendar even when no deal does, so a periodic pass over every open
target is needed; this is that pass. It computes and announces (`figures_recomputed`); what
to store or raise from the result belongs to the apps listening.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from django.utils import timezone

from targets.figures import Status, figures_for
from targets.models import Target
from targets.periods import Quarter
from targets.signals import figures_recomputed

NO_STATUS = "none"


def figures_recompute(*, as_of: date | None = None) -> dict[str, object]:
    """Figures of every target of the quarter containing `as_of` (default today).

    Returns a JSON-serialisable summary: the date and period, the number of targets and how
    many of them are red / yellow / green / without a status.
    """
    as_of = as_of or timezone.localdate()
    period = Quarter.of(as_of).label
    figures = figures_for(Target.objects.filter(period=period), as_of=as_of)
    figures_recomputed.send(sender=Target, period=period, as_of=as_of, figures=figures)
    statuses = Counter(f.status or NO_STATUS for f in figures.values())
    return {
        "as_of": as_of.isoformat(),
        "period": period,
        "targets": len(figures),
        **{s: statuses[s] for s in (Status.RED, Status.YELLOW, Status.GREEN, NO_STATUS)},
    }
