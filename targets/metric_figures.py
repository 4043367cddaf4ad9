"""Actuals of targets set on a process metric (measure `metric:<code>`, SPEC §3).

One statement fetches the counting weekly values behind a batch of targets (a rep's own, a
unit's reps of its subtree — their current team, as metric values carry no team), and
Python folds them per the metric's aggregation into (target → month → hundredths), the shape
`figures.ACTUAL_SOURCES` answers. A week belongs to the month holding its Thursday (the ISO
rule), so every week is counted in exactly one month and one quarter.

- sum: Σ values; the period actual is the sum of its months (phased like revenue).
- avg: the mean of the (rep, week) values; a *level*, not cumulative: the period actual is
  the mean over the whole period to date, stored under `PERIOD_TOTAL`.
- latest: the latest week's value (a unit: the mean of its reps' values that week).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from targets.models import Metric, MetricAggregation, OrgUnitClosure, Target, User
from targets.models.metrics import METRIC_PREFIX, MetricValue

# Key of a source's answer holding the period's actual when it is not Σ months (a level).
PERIOD_TOTAL = date.min


@dataclass(frozen=True)
class MetricKind:
    """What figures need to know of a metric: whether it adds up and which way is good."""

    cumulative: bool
    lower_is_better: bool


WARN, ALERT = "warn", "alert"


def metric_shortfall(*, value: Decimal, plan: Decimal, direction: str) -> Decimal | None:
    """Percent of plan by which `value` is worse than `plan` in the metric's bad direction
    (negative: better); none without a plan. The meaning of warn_at / alert_at."""
    if not plan:
        return None
    gap = plan - value if direction == "higher" else value - plan
    return gap / plan * 100


def metric_level(
    *, metric: Metric, value: Decimal | None, plan: Decimal | None = None
) -> str | None:
    """ "alert" / "warn" once the shortfall reaches that threshold, else None."""
    if value is None:
        return None
    plan = metric.weekly_plan if plan is None else plan
    shortfall = metric_shortfall(value=value, plan=plan, direction=metric.direction)
    if shortfall is None:
        return None
    if metric.alert_at is not None and shortfall >= metric.alert_at:
        return ALERT
    if metric.warn_at is not None and shortfall >= metric.warn_at:
        return WARN
    return None


def metric_code(measure: str) -> str | None:
    return measure[len(METRIC_PREFIX) :] if measure.startswith(METRIC_PREFIX) else None


def metric_kinds(measures: set[str]) -> dict[str, MetricKind]:
    codes = {c for c in map(metric_code, measures) if c}
    if not codes:
        return {}
    return {
        f"{METRIC_PREFIX}{code}": MetricKind(
            cumulative=aggregation == MetricAggregation.SUM,
            lower_is_better=direction == "lower",
        )
        for code, aggregation, direction in Metric.objects.filter(code__in=codes).values_list(
            "code", "aggregation", "direction"
        )
    }


def _thursday_month(week_start: date) -> date:
    return (week_start + timedelta(days=3)).replace(day=1)


def metric_monthly_cents(
    targets: QuerySet[Target] | list[int], *, start: date, as_of: date
) -> dict[int, dict[date, int]]:
    if as_of < start:
        return {}
    if isinstance(targets, QuerySet):
        sql_ids, id_params = targets.order_by().values("id").query.sql_with_params()
        id_params = list(id_params)
    else:
        if not targets:
            return {}
        sql_ids, id_params = ", ".join(["%s"] * len(targets)), list(targets)
    t, v, m = Target._meta.db_table, MetricValue._meta.db_table, Metric._meta.db_table
    u, closure = User._meta.db_table, OrgUnitClosure._meta.db_table
    prefix_len = len(METRIC_PREFIX) + 1
    # Weeks are taken from three days before the period (their Thursday may fall inside).
    sql = f"""
        SELECT target.id, target.period_start, target.period_end, metric.aggregation,
               value.user_id, value.week_start, value.value
        FROM {t} target
        JOIN {m} metric ON metric.code = SUBSTR(target.measure, {prefix_len})
        JOIN {v} value ON value.metric_id = metric.id
        WHERE target.id IN ({sql_ids}) AND value.counts = %s
          AND value.week_start >= %s AND value.week_start <= %s
          AND (
            value.user_id = target.owner_user_id
            OR value.user_id IN (
                SELECT member.id FROM {u} member
                JOIN {closure} tree ON tree.descendant_id = member.team_id
                WHERE tree.ancestor_id = target.owner_unit_id
            )
          )
    """
    params = [*id_params, True, start - timedelta(days=3), as_of]
    aggregation: dict[int, str] = {}
    values: dict[int, list[tuple[date, int, Decimal]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for target_id, first, last, agg, user_id, week_start, value in cursor.fetchall():
            week_start, first, last = (
                date.fromisoformat(d) if isinstance(d, str) else d  # SQLite: text
                for d in (week_start, first, last)
            )
            if not first <= week_start + timedelta(days=3) <= last:
                continue
            aggregation[target_id] = agg
            values[target_id].append((week_start, user_id, Decimal(value)))
    result: dict[int, dict[date, int]] = {}
    for target_id, rows in values.items():
        result[target_id] = _fold(aggregation[target_id], rows)
    return result


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def _level(rows: list[tuple[date, int, Decimal]], aggregation: str) -> Decimal:
    if aggregation == MetricAggregation.LATEST:
        latest = max(week for week, _u, _v in rows)
        rows = [r for r in rows if r[0] == latest]
    return sum((v for _w, _u, v in rows), Decimal(0)) / len(rows)


def _fold(aggregation: str, rows: list[tuple[date, int, Decimal]]) -> dict[date, int]:
    by_month: dict[date, list[tuple[date, int, Decimal]]] = defaultdict(list)
    for row in rows:
        by_month[_thursday_month(row[0])].append(row)
    if aggregation == MetricAggregation.SUM:
        return {
            month: _cents(sum((v for _w, _u, v in month_rows), Decimal(0)))
            for month, month_rows in by_month.items()
        }
    folded = {
        month: _cents(_level(month_rows, aggregation)) for month, month_rows in by_month.items()
    }
    folded[PERIOD_TOTAL] = _cents(_level(rows, aggregation))
    return folded


def metric_weekly_actuals(target: Target, *, as_of: date) -> dict[date, Decimal]:
    """Week start → Σ counting values of a summed metric's target (its trend); a level
    (avg, latest) has no cumulative trend and gives nothing."""
    code = metric_code(target.measure)
    metric = Metric.objects.filter(code=code, aggregation=MetricAggregation.SUM).first()
    if metric is None:
        return {}
    values = MetricValue.objects.filter(
        metric=metric,
        counts=True,
        week_start__gte=target.period_start - timedelta(days=3),
        week_start__lte=min(as_of, target.period_end - timedelta(days=3)),
    )
    if target.owner_user_id:
        values = values.filter(user_id=target.owner_user_id)
    else:
        values = values.filter(
            user__team__in=OrgUnitClosure.objects.filter(ancestor_id=target.owner_unit_id).values(
                "descendant"
            )
        )
    result: dict[date, Decimal] = defaultdict(Decimal)
    for week_start, value in values.values_list("week_start", "value"):
        result[week_start] += value
    return dict(result)
