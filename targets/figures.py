"""Every number of SPEC §5, for any set of targets, as of a date.

The cost is a fixed number of SQL statements whatever the number of targets or deals:
one that loads the targets, one that sums credited amounts per (target, month) — reps'
credits are aggregated first, then rolled up through the org-unit closure table — and
one that sums children's Base for allocation coverage. Python only turns those sums
into ratios. Dashboards, API, exports, alerts and reviews all read figures from here.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce

from targets.models import Credit, OrgUnitClosure, Target, User
from targets.periods import (
    EQUAL_THIRDS,
    IsoWeek,
    Month,
    Quarter,
    expected_fraction,
    to_decimal,
)

HUNDRED = Decimal(100)
ZERO = Decimal(0)


class Status:
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"


@dataclass(frozen=True)
class Figures:
    actual: Decimal
    completion: Decimal | None
    pace: Decimal | None
    stretch_progress: Decimal | None
    status: str | None
    allocation_coverage: Decimal | None
    incentive: Decimal | None
    expected_base: Decimal | None
    allocated_base: Decimal | None
    monthly: tuple[MonthFigures, ...] = field(default=())

    @property
    def unallocated(self) -> Decimal | None:
        """Positive: Base not yet split among children; negative: over-allocated."""
        if self.allocated_base is None or self._base is None:
            return None
        return self._base - self.allocated_base

    _base: Decimal | None = None


@dataclass(frozen=True)
class MonthFigures:
    month: Month
    actual: Decimal
    completion: Decimal | None


@dataclass(frozen=True)
class _TargetRow:
    id: int
    quarter: Quarter
    base: Decimal
    stretch: Decimal
    weights: tuple[Fraction | Decimal, ...]
    base_bonus: Decimal | None
    stretch_bonus: Decimal | None
    red_below: Decimal
    green_above: Decimal
    owner_unit_id: int | None
    period: str
    measure: str


_ROW_FIELDS = (
    "id",
    "period",
    "measure",
    "base",
    "stretch",
    "weight_m1",
    "weight_m2",
    "weight_m3",
    "base_bonus",
    "stretch_bonus",
    "owner_unit_id",
    "company__status_red_below",
    "company__status_green_above",
)


def _load_rows(targets: QuerySet[Target] | Iterable[Target]) -> list[_TargetRow]:
    if isinstance(targets, QuerySet):
        values = targets.order_by().values(*_ROW_FIELDS)
    else:
        ids = [t.pk for t in targets]
        if not ids:
            return []
        values = Target.objects.filter(pk__in=ids).values(*_ROW_FIELDS)
    return [
        _TargetRow(
            id=v["id"],
            quarter=Quarter.parse(v["period"]),
            base=v["base"],
            stretch=v["stretch"],
            weights=EQUAL_THIRDS
            if v["weight_m1"] is None
            else (v["weight_m1"], v["weight_m2"], v["weight_m3"]),
            base_bonus=v["base_bonus"],
            stretch_bonus=v["stretch_bonus"],
            red_below=v["company__status_red_below"],
            green_above=v["company__status_green_above"],
            owner_unit_id=v["owner_unit_id"],
            period=v["period"],
            measure=v["measure"],
        )
        for v in values
    ]


def _id_filter(targets: QuerySet[Target] | list[int]) -> tuple[str, list]:
    if isinstance(targets, QuerySet):
        sql, params = targets.order_by().values("id").query.sql_with_params()
        return sql, list(params)
    return ", ".join(["%s"] * len(targets)), list(targets)


def _monthly_actual_cents(
    targets: QuerySet[Target] | list[int], *, start: date, as_of: date
) -> dict[int, dict[date, int]]:
    """(target, month) → credited cents of counting deals closed from `start` to `as_of`."""
    if as_of < start:
        return {}
    targets_table, credits = Target._meta.db_table, Credit._meta.db_table
    closure, users = OrgUnitClosure._meta.db_table, User._meta.db_table
    id_list, id_params = _id_filter(targets)
    sql = f"""
        WITH batch AS (
            SELECT id, owner_unit_id, owner_user_id, period_start, period_end
            FROM {targets_table} WHERE id IN ({id_list})
        ),
        member AS (
            SELECT batch.id AS target_id, batch.owner_user_id AS user_id
            FROM batch WHERE batch.owner_user_id IS NOT NULL
            UNION ALL
            SELECT batch.id, rep.id
            FROM batch
            JOIN {closure} tree ON tree.ancestor_id = batch.owner_unit_id
            JOIN {users} rep ON rep.team_id = tree.descendant_id
        ),
        rep_month AS (
            SELECT user_id, close_month, SUM(amount_cents) AS cents
            FROM {credits}
            WHERE counts = %s AND close_date >= %s AND close_date <= %s
              AND user_id IN (SELECT user_id FROM member)
            GROUP BY user_id, close_month
        )
        SELECT member.target_id, rep_month.close_month, SUM(rep_month.cents)
        FROM member
        JOIN batch ON batch.id = member.target_id
        JOIN rep_month ON rep_month.user_id = member.user_id
             AND rep_month.close_month >= batch.period_start
             AND rep_month.close_month <= batch.period_end
        GROUP BY member.target_id, rep_month.close_month
    """
    result: dict[int, dict[date, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*id_params, True, start, as_of])
        for target_id, month, cents in cursor.fetchall():
            if isinstance(month, str):  # SQLite hands dates back as text in raw SQL
                month = date.fromisoformat(month)
            result[target_id][month] = int(cents)
    return result


def _children_base(rows: list[_TargetRow]) -> dict[tuple[int, str, str], Decimal]:
    """(parent unit, period, measure) → Σ Base of the child units' and member reps' targets."""
    unit_ids = {r.owner_unit_id for r in rows if r.owner_unit_id}
    if not unit_ids:
        return {}
    children = (
        Target.objects.order_by()
        .annotate(parent_unit=Coalesce("owner_unit__parent_id", "owner_user__team_id"))
        .filter(parent_unit__in=unit_ids, period__in={r.period for r in rows})
        .values("parent_unit", "period", "measure")
        .annotate(total=Sum("base"), n=Count("id"))
    )
    return {
        (c["parent_unit"], c["period"], c["measure"]): Decimal(c["total"]).quantize(Decimal("0.01"))
        for c in children
    }


def _ratio(numerator: Decimal, denominator: Decimal | Fraction) -> Decimal | None:
    """numerator / denominator × 100, exact until the one final division."""
    if not denominator:
        return None
    return to_decimal(Fraction(numerator) * 100 / Fraction(denominator))


def status_for(rate: Decimal | None, *, red_below: Decimal, green_above: Decimal) -> str | None:
    if rate is None:
        return None
    if rate < red_below:
        return Status.RED
    if rate > green_above:
        return Status.GREEN
    return Status.YELLOW


def _figures(
    row: _TargetRow, monthly_cents: dict[date, int], allocated: Decimal | None, as_of: date
) -> Figures:
    quarter = row.quarter
    actual = Decimal(sum(monthly_cents.values())) / HUNDRED
    completion = _ratio(actual, row.base)
    started = as_of >= quarter.start
    expected = (
        Fraction(row.base) * expected_fraction(quarter, row.weights, as_of) if started else None
    )
    pace = _ratio(actual, expected) if expected else None
    if not started:
        status = None
    else:
        rate = pace if quarter.is_open(as_of) else completion
        status = status_for(rate, red_below=row.red_below, green_above=row.green_above)
    if row.stretch == row.base:
        stretch_progress = None
    else:
        progress = (actual - row.base) / (row.stretch - row.base)
        stretch_progress = min(max(progress, ZERO), Decimal(1)) * HUNDRED
    incentive = None
    if row.base_bonus is not None or row.stretch_bonus is not None:
        incentive = (row.base_bonus or ZERO) if actual >= row.base else ZERO
        incentive += (row.stretch_bonus or ZERO) * (stretch_progress or ZERO) / HUNDRED
    monthly = tuple(
        MonthFigures(
            month=month,
            actual=Decimal(monthly_cents.get(month.start, 0)) / HUNDRED,
            completion=_ratio(
                Decimal(monthly_cents.get(month.start, 0)) / HUNDRED,
                Fraction(row.base) * Fraction(weight),
            )
            if started and as_of >= month.start
            else None,
        )
        for month, weight in zip(quarter.months, row.weights, strict=True)
    )
    return Figures(
        actual=actual,
        completion=completion,
        pace=pace,
        stretch_progress=stretch_progress,
        status=status,
        allocation_coverage=_ratio(allocated, row.base) if allocated is not None else None,
        incentive=incentive,
        expected_base=to_decimal(expected) if expected is not None else None,
        allocated_base=allocated,
        monthly=monthly,
        _base=row.base,
    )


def figures_for(targets: QuerySet[Target] | Iterable[Target], *, as_of: date) -> dict[int, Figures]:
    """Figures of every given target as of the end of `as_of`, keyed by target id."""
    rows = _load_rows(targets)
    if not rows:
        return {}
    start = min(r.quarter.start for r in rows)
    batch = targets if isinstance(targets, QuerySet) else [r.id for r in rows]
    cents = _monthly_actual_cents(batch, start=start, as_of=as_of)
    allocated = _children_base(rows)
    return {
        row.id: _figures(
            row,
            cents.get(row.id, {}),
            allocated.get((row.owner_unit_id, row.period, row.measure)),
            as_of,
        )
        for row in rows
    }


def volatility(children: Iterable[Figures], months: Iterable[Month]) -> Decimal | None:
    """Population standard deviation, in points, of children's monthly completion (SPEC §5).

    `children` are the figures of a unit's direct children that have a target; the value
    covers every (child, month) pair of `months`; fewer than two values give none.
    """
    wanted = set(months)
    values = [
        m.completion
        for figures in children
        for m in figures.monthly
        if m.month in wanted and m.completion is not None
    ]
    if len(values) < 2:
        return None
    return statistics.pstdev(values)


def daily_actuals(target: Target, *, as_of: date) -> dict[date, Decimal]:
    """Credited amount per close date of one target's counting deals, up to `as_of`."""
    end = min(as_of, target.period_end)
    if end < target.period_start:
        return {}
    credits, closure, users = (
        Credit._meta.db_table,
        OrgUnitClosure._meta.db_table,
        User._meta.db_table,
    )
    if target.owner_user_id:
        members_sql, members_params = "SELECT %s", [target.owner_user_id]
    else:
        members_sql = (
            f"SELECT rep.id FROM {closure} tree JOIN {users} rep "
            "ON rep.team_id = tree.descendant_id WHERE tree.ancestor_id = %s"
        )
        members_params = [target.owner_unit_id]
    sql = f"""
        SELECT close_date, SUM(amount_cents) FROM {credits}
        WHERE counts = %s AND close_date >= %s AND close_date <= %s
          AND user_id IN ({members_sql})
        GROUP BY close_date
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [True, target.period_start, end, *members_params])
        rows = cursor.fetchall()
    return {
        (day if isinstance(day, date) else date.fromisoformat(day)): Decimal(int(cents)) / HUNDRED
        for day, cents in rows
    }


@dataclass(frozen=True)
class TrendPoint:
    period_label: str
    actual_cumulative: Decimal
    base_expected: Decimal
    stretch_expected: Decimal


def trend(target: Target, *, grain: str, as_of: date) -> list[TrendPoint]:
    """Cumulative actual against the phased Base and Stretch, per week or month."""
    quarter = target.quarter
    if grain == "month":
        buckets = [(m.label, m.start, m.end) for m in quarter.months]
    else:
        buckets, week = [], IsoWeek.of(quarter.start)
        while week.start <= quarter.end:
            buckets.append((week.label, week.start, week.end))
            week = IsoWeek.of(week.end + timedelta(days=1))
    daily = daily_actuals(target, as_of=as_of)
    points = []
    for label, start, end in buckets:
        if start > as_of:
            break
        cutoff = min(end, as_of, quarter.end)
        fraction = expected_fraction(quarter, target.weights, cutoff)
        points.append(
            TrendPoint(
                period_label=label,
                actual_cumulative=sum((v for d, v in daily.items() if d <= cutoff), ZERO),
                base_expected=to_decimal(Fraction(target.base) * fraction),
                stretch_expected=to_decimal(Fraction(target.stretch) * fraction),
            )
        )
    return points
