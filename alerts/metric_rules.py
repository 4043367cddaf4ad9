"""`metric_threshold` (SPEC §7): a key metric's latest week per rep against its thresholds.

The meaning of `warn_at` / `alert_at` is fixed in `targets.models.metrics`: the percentage by
which the week falls short of the weekly plan in the metric's bad direction, reaching the
threshold counts. Each (metric, rep, level) is one condition: raised once until resolved,
raised again if it still (or again) holds after being resolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import F, Max, Q, Window
from django.utils import timezone

from alerts.models import AlertKind
from alerts.services import Condition, alerts_raise
from targets.metric_figures import metric_level, metric_shortfall
from targets.models import Metric, MetricValue
from targets.periods import IsoWeek


def _plain(value: Decimal) -> str:
    """1.00 → "1", 12.50 → "12.5": how a person writes the week's number."""
    return format(value.normalize(), "f")


def alerts_evaluate_metrics(*, metric_ids: Iterable[int] | None = None) -> int:
    """Raise an alert for every rep whose latest counting week (a week that is over) of an
    active key metric is at warn or alert level. One read of the latest values (a window per metric and rep)."""
    metrics = Metric.objects.filter(active=True, key=True).filter(
        Q(warn_at__isnull=False) | Q(alert_at__isnull=False)
    )
    if metric_ids is not None:
        metrics = metrics.filter(pk__in=list(metric_ids))
    by_id = {m.pk: m for m in metrics}
    if not by_id:
        return 0
    # A week is judged once it is over: the current one is still filling up.
    this_week = IsoWeek.of(timezone.localdate())
    latest = (
        MetricValue.objects.filter(
            metric__in=list(by_id), counts=True, week_start__lt=this_week.start
        )
        .annotate(latest=Window(Max("week_start"), partition_by=[F("metric_id"), F("user_id")]))
        .filter(week_start=F("latest"))
        .values_list("metric_id", "user_id", "week", "value")
    )
    conditions = []
    for metric_id, user_id, week, value in latest:
        metric = by_id[metric_id]
        level = metric_level(metric=metric, value=value)
        if level is None:
            continue
        shortfall = metric_shortfall(
            value=value, plan=metric.weekly_plan, direction=metric.direction
        )
        conditions.append(
            Condition(
                key=f"metric_threshold:{metric_id}:{user_id}:{level}",
                target_id=None,
                metric_id=metric_id,
                user_id=user_id,
                details={
                    "level": level,
                    "week": week,
                    "value": _plain(value),
                    "plan": _plain(metric.weekly_plan),
                    "shortfall": str(shortfall.quantize(Decimal("0.1"))),
                },
            )
        )
    return alerts_raise(kind=AlertKind.METRIC_THRESHOLD, conditions=conditions)
