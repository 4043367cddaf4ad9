"""Every number of SPEC §5, for any set of targets, as of a date.

The cost is a fixed number of SQL statements whatever the number of targets or deals:
one that loads the targets, one that sums credited amounts per (target, month) — reps'
credits are aggregated first, then rolled up through the org-unit closure table — and
one that sums children's Base for allocation coverage. Python only turns those sums
into ratios. Dashboards, API, exports, alerts and reviews all read figures from here.
"""

from __future__ import annotations

import gc
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from django.db import connection
from django.db.models import QuerySet

from targets.metric_figures import (
    PERIOD_TOTAL,
    MetricKind,
    metric_kinds,
    metric_monthly_cents,
    metric_weekly_actuals,
)
from targets.models import Credit, Measure, OrgUnit, OrgUnitClosure, Target, TeamMembership
from targets.models.metrics import METRIC_PREFIX
from targets.periods import (
    EQUAL_THIRDS,
    IsoWeek,
    Month,
    Quarter,
    expected_fraction,
    to_decimal,
)

HUNDRED = Decimal(100)
CENTS = Decimal("0.01")
ZERO = Decimal(0)


class Status:
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"


class MonthFigures(NamedTuple):
    month: Month
    actual: Decimal
    completion: Decimal | None


# Named tuples rather than frozen dataclasses: a company's figures build ~200,000 of them,
# and a frozen dataclass costs several times more to construct.
class Figures(NamedTuple):
    actual: Decimal
    completion: Decimal | None
    pace: Decimal | None
    stretch_progress: Decimal | None
    status: str | None
    allocation_coverage: Decimal | None
    incentive: Decimal | None
    expected_base: Decimal | None
    allocated_base: Decimal | None
    base: Decimal | None = None
    base_cents: int = 0
    month_cents: tuple[int, ...] = ()
    phasing: _Phasing | None = None

    @property
    def monthly(self) -> tuple[MonthFigures, ...]:
        """Actual and completion per month of the period (SPEC §5 monthly_completion).

        Derived on access: a company-wide run mostly needs statuses, and building three
        more records per target would double its cost.
        """
        if self.phasing is None:
            return ()
        return tuple(
            MonthFigures(
                month=month,
                actual=Decimal(cents) / HUNDRED,
                completion=None
                if weight is None
                else _quotient(cents * 100 * weight[1], self.base_cents * weight[0]),
            )
            for (month, _first_day, weight), cents in zip(
                self.phasing.months, self.month_cents, strict=True
            )
        )

    @property
    def unallocated(self) -> Decimal | None:
        """Positive: Base not yet split among children; negative: over-allocated."""
        if self.allocated_base is None or self.base is None:
            return None
        return self.base - self.allocated_base


class _TargetRow(NamedTuple):
    id: int
    quarter: Quarter
    base: Decimal
    base_cents: int
    stretch: Decimal
    weights: tuple[Fraction | Decimal, ...]
    base_bonus: Decimal | None
    stretch_bonus: Decimal | None
    red_below: Decimal
    green_above: Decimal
    owner_unit_id: int | None
    period: str
    measure: str
    # Targets with the same period and weights share one _Phasing (cheap to hash).
    phasing_key: tuple


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
        values = targets.order_by().values_list(*_ROW_FIELDS)
    else:
        ids = [t.pk for t in targets]
        if not ids:
            return []
        values = Target.objects.filter(pk__in=ids).values_list(*_ROW_FIELDS)
    # A company has a handful of periods: parse each once, not once per target.
    quarters: dict[str, Quarter] = {}
    rows = []
    for pk, period, measure, base, stretch, w1, w2, w3, bb, sb, unit, red, green in values:
        quarter = quarters.get(period)
        if quarter is None:
            quarter = quarters[period] = Quarter.parse(period)
        rows.append(
            _TargetRow(
                pk,
                quarter,
                base,
                int(base * 100),
                stretch,
                EQUAL_THIRDS if w1 is None else (w1, w2, w3),
                bb,
                sb,
                red,
                green,
                unit,
                period,
                measure,
                (period, w1, w2, w3),
            )
        )
    return rows


def _id_filter(targets: QuerySet[Target] | list[int]) -> tuple[str, list]:
    if isinstance(targets, QuerySet):
        sql, params = targets.order_by().values("id").query.sql_with_params()
        return sql, list(params)
    return ", ".join(["%s"] * len(targets)), list(targets)


def _revenue_monthly_cents(
    targets: QuerySet[Target] | list[int], *, start: date, as_of: date
) -> dict[int, dict[date, int]]:
    """(target, month) → credited cents of counting deals closed from `start` to `as_of`.

    A rep's target sums its own credits per month; a unit's target sums the credits tagged
    with a team of its subtree, the team each rep belonged to on the close date (SPEC §2),
    so moving a rep today leaves last quarter's unit figures as they were. Each side first
    aggregates credits, whose partial indexes cover (user | team, close_date), then joins a
    real table: joining two aggregates instead (estimated with default selectivities) made
    PostgreSQL pick a nested loop over every pair — over ten minutes for 44,000 targets.
    """
    if as_of < start:
        return {}
    targets_table, credits = Target._meta.db_table, Credit._meta.db_table
    closure = OrgUnitClosure._meta.db_table
    id_list, id_params = _id_filter(targets)
    sql = f"""
        WITH rep_month AS (
            SELECT credit.user_id, credit.close_month, SUM(credit.amount_cents) AS cents
            FROM {credits} credit
            WHERE credit.counts = %s AND credit.close_date >= %s AND credit.close_date <= %s
              AND credit.user_id IN (
                  SELECT target.owner_user_id FROM {targets_table} target
                  WHERE target.id IN ({id_list})
              )
            GROUP BY credit.user_id, credit.close_month
        ),
        team_month AS (
            SELECT credit.team_id, credit.close_month, SUM(credit.amount_cents) AS cents
            FROM {credits} credit
            WHERE credit.counts = %s AND credit.close_date >= %s AND credit.close_date <= %s
              AND credit.team_id IN (
                  SELECT tree.descendant_id FROM {targets_table} target
                  JOIN {closure} tree ON tree.ancestor_id = target.owner_unit_id
                  WHERE target.id IN ({id_list})
              )
            GROUP BY credit.team_id, credit.close_month
        )
        SELECT target.id, rep_month.close_month, rep_month.cents
        FROM {targets_table} target
        JOIN rep_month ON rep_month.user_id = target.owner_user_id
        WHERE target.id IN ({id_list})
          AND rep_month.close_month >= target.period_start
          AND rep_month.close_month <= target.period_end
        UNION ALL
        SELECT target.id, team_month.close_month, SUM(team_month.cents)
        FROM {targets_table} target
        JOIN {closure} tree ON tree.ancestor_id = target.owner_unit_id
        JOIN team_month ON team_month.team_id = tree.descendant_id
        WHERE target.id IN ({id_list})
          AND team_month.close_month >= target.period_start
          AND team_month.close_month <= target.period_end
        GROUP BY target.id, team_month.close_month
    """
    params = [
        True, start, as_of, *id_params,
        True, start, as_of, *id_params,
        *id_params, *id_params,
    ]  # fmt: skip
    result: dict[int, dict[date, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for target_id, month, cents in cursor.fetchall():
            if isinstance(month, str):  # SQLite hands dates back as text in raw SQL
                month = date.fromisoformat(month)
            result[target_id][month] = int(cents)
    return result


# Where each measure's actuals come from (SPEC §3 `measure`): one function per source, each
# answering (target, month) → amount in hundredths for a batch of targets in fixed SQL. A
# target on a measure without a source gets no actuals, never another measure's.
ActualSource = Callable[..., dict[int, dict[date, int]]]
# Every process metric (`metric:<code>`) shares one source, looked up by the prefix.
ACTUAL_SOURCES: dict[str, ActualSource] = {
    Measure.REVENUE: _revenue_monthly_cents,
    METRIC_PREFIX: metric_monthly_cents,
}


def _source_key(measure: str) -> str:
    return METRIC_PREFIX if measure.startswith(METRIC_PREFIX) else measure


def _monthly_actual_cents(
    targets: QuerySet[Target] | list[int], rows: list[_TargetRow], *, start: date, as_of: date
) -> dict[int, dict[date, int]]:
    result: dict[int, dict[date, int]] = {}
    for key in sorted({_source_key(r.measure) for r in rows}):
        source = ACTUAL_SOURCES.get(key)
        if source is None:
            continue
        if isinstance(targets, QuerySet):
            batch = (
                targets.filter(measure__startswith=key)
                if key == METRIC_PREFIX
                else targets.filter(measure=key)
            )
        else:
            batch = [r.id for r in rows if _source_key(r.measure) == key]
        result.update(source(batch, start=start, as_of=as_of))
    return result


def _children_base(rows: list[_TargetRow]) -> dict[tuple[int, str, str], Decimal]:
    """(parent unit, period, measure) → Σ Base of the child units' and member reps' targets.

    A rep's target sits under the team the rep was in on the period's last day (SPEC §2), so
    moving a rep today leaves past quarters' coverage as it was: the membership covering that
    day, or for a period before the rep's first membership, that first team. Both are plain
    joins on the membership table (a correlated subquery per target cost several times more).
    """
    unit_ids = sorted({r.owner_unit_id for r in rows if r.owner_unit_id})
    if not unit_ids:
        return {}
    periods = sorted({r.period for r in rows})
    targets, units = Target._meta.db_table, OrgUnit._meta.db_table
    memberships = TeamMembership._meta.db_table
    in_units, in_periods = ", ".join(["%s"] * len(unit_ids)), ", ".join(["%s"] * len(periods))
    sql = f"""
        SELECT parent_id, period, measure, SUM(base_cents) FROM (
            SELECT unit.parent_id AS parent_id, t.period, t.measure,
                   CAST(ROUND(t.base * 100) AS BIGINT) AS base_cents
            FROM {targets} t JOIN {units} unit ON unit.id = t.owner_unit_id
            WHERE t.period IN ({in_periods}) AND unit.parent_id IN ({in_units})
            UNION ALL
            SELECT m.team_id, t.period, t.measure, CAST(ROUND(t.base * 100) AS BIGINT)
            FROM {targets} t JOIN {memberships} m ON m.user_id = t.owner_user_id
            WHERE t.period IN ({in_periods}) AND m.team_id IN ({in_units})
              AND (
                (m.valid_from <= t.period_end
                 AND (m.valid_to IS NULL OR m.valid_to >= t.period_end))
                OR (m.valid_from > t.period_end AND NOT EXISTS (
                    SELECT 1 FROM {memberships} earlier
                    WHERE earlier.user_id = m.user_id AND earlier.valid_from < m.valid_from))
              )
        ) child
        GROUP BY parent_id, period, measure
    """
    params = [*periods, *unit_ids, *periods, *unit_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            (parent, period, measure): (Decimal(int(cents)) / HUNDRED).quantize(CENTS)
            for parent, period, measure, cents in cursor.fetchall()
        }


def _quotient(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator, exact until this one correctly rounded division.

    Every ratio of SPEC §5 is a ratio of whole cents times small integers, so plain ints
    carry it exactly; Fractions did the same at several times the cost per target.
    """
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def status_for(rate: Decimal | None, *, red_below: Decimal, green_above: Decimal) -> str | None:
    if rate is None:
        return None
    if rate < red_below:
        return Status.RED
    if rate > green_above:
        return Status.GREEN
    return Status.YELLOW


@dataclass(frozen=True)
class _Phasing:
    """What a quarter and its weights mean on `as_of`, shared by every target that has them.

    Ratios are kept as integer pairs: a weight w = num/den turns "actual / (Base × w) × 100"
    into "actual_cents × 100 × den / (base_cents × num)", one Decimal division.
    """

    is_open: bool
    expected: tuple[int, int] | None  # share of the amount expected by as_of; None before it
    # (month, its first day, its weight once the month has begun)
    months: tuple[tuple[Month, date, tuple[int, int] | None], ...]

    @classmethod
    def of(cls, quarter: Quarter, weights: tuple, as_of: date) -> _Phasing:
        started = as_of >= quarter.start
        expected = expected_fraction(quarter, weights, as_of) if started else None
        months = []
        for month, weight in zip(quarter.months, weights, strict=True):
            share = Fraction(weight)
            months.append(
                (
                    month,
                    month.start,
                    (share.numerator, share.denominator)
                    if started and as_of >= month.start
                    else None,
                )
            )
        return cls(
            is_open=quarter.is_open(as_of),
            expected=None if expected is None else (expected.numerator, expected.denominator),
            months=tuple(months),
        )


def _figures(
    row: _TargetRow,
    monthly_cents: dict[date, int],
    allocated: Decimal | None,
    phasing: _Phasing,
    kind: MetricKind | None = None,
) -> Figures:
    base_cents = row.base_cents
    if PERIOD_TOTAL in monthly_cents:
        monthly_cents = dict(monthly_cents)
        actual_cents = monthly_cents.pop(PERIOD_TOTAL)
    else:
        actual_cents = sum(monthly_cents.values())
    actual = Decimal(actual_cents) / HUNDRED
    lower = kind is not None and kind.lower_is_better
    # Lower is better (e.g. days of a conversion cycle): plan ÷ actual, so beating the plan
    # is still > 100 %; an actual of zero gives no rate.
    completion = (
        _quotient(base_cents * 100, actual_cents)
        if lower
        else _quotient(actual_cents * 100, base_cents)
    )
    if phasing.expected is None:
        expected_base = pace = status = None
    else:
        num, den = phasing.expected
        if kind is not None and not kind.cumulative:
            num = den = 1  # an average or latest level is expected in full from day one
        expected_base = Decimal(base_cents * num) / Decimal(100 * den)
        pace = (
            _quotient(base_cents * num * 100, actual_cents * den)
            if lower
            else _quotient(actual_cents * 100 * den, base_cents * num)
        )
        rate = pace if phasing.is_open else completion
        status = status_for(rate, red_below=row.red_below, green_above=row.green_above)
    if lower or row.stretch == row.base:
        # Stretch ≥ Base cannot express a sprint below plan: no stretch progress.
        stretch_progress = None
    else:
        progress = (actual - row.base) / (row.stretch - row.base)
        stretch_progress = min(max(progress, ZERO), Decimal(1)) * HUNDRED
    incentive = None
    if row.base_bonus is not None or row.stretch_bonus is not None:
        incentive = (row.base_bonus or ZERO) if actual >= row.base else ZERO
        incentive += (row.stretch_bonus or ZERO) * (stretch_progress or ZERO) / HUNDRED
    return Figures(
        actual=actual,
        completion=completion,
        pace=pace,
        stretch_progress=stretch_progress,
        status=status,
        allocation_coverage=None
        if allocated is None
        else _quotient(int(allocated * 100) * 100, base_cents),
        incentive=incentive,
        expected_base=expected_base,
        allocated_base=allocated,
        base=row.base,
        base_cents=base_cents,
        month_cents=tuple(monthly_cents.get(first_day, 0) for _m, first_day, _w in phasing.months),
        phasing=phasing,
    )


@contextmanager
def _garbage_collection_paused():
    """Building figures allocates hundreds of thousands of small, acyclic tuples; letting the
    cycle collector rescan them as they accumulate costs ~20 % of a company-wide run."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def figures_for(
    targets: QuerySet[Target] | Iterable[Target],
    *,
    as_of: date,
    extra_cents: Mapping[int, Mapping[date, int]] | None = None,
) -> dict[int, Figures]:
    """Figures of every given target as of the end of `as_of`, keyed by target id.

    `extra_cents` (target → first day of a month → hundredths) adds amounts that do not count
    yet, as if they did: what confirming a deal would do, computed without writing it.
    """
    with _garbage_collection_paused():
        return _figures_for(targets, as_of=as_of, extra_cents=extra_cents or {})


def _figures_for(
    targets: QuerySet[Target] | Iterable[Target],
    *,
    as_of: date,
    extra_cents: Mapping[int, Mapping[date, int]],
) -> dict[int, Figures]:
    if isinstance(targets, QuerySet) and targets.query.is_sliced:
        # A slice can be neither reordered nor nested as a subquery everywhere: take its ids.
        targets = list(targets.only("pk"))
    rows = _load_rows(targets)
    if not rows:
        return {}
    start = min(quarter.start for quarter in {r.quarter for r in rows})
    batch = targets if isinstance(targets, QuerySet) else [r.id for r in rows]
    cents = _monthly_actual_cents(batch, rows, start=start, as_of=as_of)
    for target_id, months in extra_cents.items():
        into = cents.setdefault(target_id, {})
        for month, amount in months.items():
            into[month] = into.get(month, 0) + amount
    allocated = _children_base(rows)
    kinds = metric_kinds({r.measure for r in rows if r.measure != Measure.REVENUE})
    phasings: dict[tuple, _Phasing] = {}
    result = {}
    for row in rows:
        phasing = phasings.get(row.phasing_key)
        if phasing is None:
            phasing = _Phasing.of(row.quarter, row.weights, as_of)
            phasings[row.phasing_key] = phasing
        result[row.id] = _figures(
            row,
            cents.get(row.id, {}),
            allocated.get((row.owner_unit_id, row.period, row.measure)),
            phasing,
            kinds.get(row.measure),
        )
    return result


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
    if target.measure.startswith(METRIC_PREFIX):
        return metric_weekly_actuals(target, as_of=as_of)
    if target.measure not in ACTUAL_SOURCES:
        return {}
    credits, closure = Credit._meta.db_table, OrgUnitClosure._meta.db_table
    if target.owner_user_id:
        members_sql, members_params = "user_id = %s", [target.owner_user_id]
    else:
        members_sql = (
            f"team_id IN (SELECT tree.descendant_id FROM {closure} tree "
            "WHERE tree.ancestor_id = %s)"
        )
        members_params = [target.owner_unit_id]
    sql = f"""
        SELECT close_date, SUM(amount_cents) FROM {credits}
        WHERE counts = %s AND close_date >= %s AND close_date <= %s AND {members_sql}
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


@dataclass(frozen=True)
class WhatIf:
    """A target's figures now and with other amounts, and its parent's allocation then."""

    current: Figures
    proposed: Figures
    parent_id: int | None
    parent_current: Figures | None
    parent_proposed: Figures | None


def figures_what_if(target: Target, *, base: Decimal, stretch: Decimal, as_of: date) -> WhatIf:
    """Figures as they would be if `target` had `base` / `stretch`, nothing written.

    The parent target (same period and measure, owned by the parent unit or the rep's
    team) sees its allocation coverage change by the Base difference.
    """
    parent_unit = target.owner_unit.parent_id if target.owner_unit_id else target.owner_user.team_id
    parent = (
        Target.objects.filter(
            owner_unit_id=parent_unit, period=target.period, measure=target.measure
        ).first()
        if parent_unit
        else None
    )
    ids = [target.pk] + ([parent.pk] if parent else [])
    with _garbage_collection_paused():
        rows = _load_rows([target] + ([parent] if parent else []))
        by_id = {row.id: row for row in rows}
        start = min(row.quarter.start for row in rows)
        cents = _monthly_actual_cents(ids, rows, start=start, as_of=as_of)
        allocated = _children_base(rows)
        kinds = metric_kinds({r.measure for r in rows if r.measure != Measure.REVENUE})
        row = by_id[target.pk]
        changed = row._replace(base=base, base_cents=int(base * 100), stretch=stretch)

        def build(r: _TargetRow, delta: Decimal = ZERO) -> Figures:
            key = (r.owner_unit_id, r.period, r.measure)
            alloc = allocated.get(key)
            if alloc is not None:
                alloc += delta
            phasing = _Phasing.of(r.quarter, r.weights, as_of)
            return _figures(r, cents.get(r.id, {}), alloc, phasing, kinds.get(r.measure))

        parent_row = by_id.get(parent.pk) if parent else None
        return WhatIf(
            current=build(row),
            proposed=build(changed),
            parent_id=parent.pk if parent else None,
            parent_current=build(parent_row) if parent_row else None,
            parent_proposed=build(parent_row, base - row.base) if parent_row else None,
        )
