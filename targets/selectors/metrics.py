"""Reads for the process-metric pages: the list and one metric's weeks for a rep or a unit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import QuerySet

from targets import access
from targets.access_metrics import (
    can_confirm_metric_value,
    metric_values_visible_to,
    reps_for_metric_entry,
)
from targets.metric_figures import metric_level
from targets.models import (
    Metric,
    MetricAggregation,
    OrgUnit,
    OrgUnitClosure,
    User,
)
from targets.periods import IsoWeek

WEEKS_SHOWN = 13


@dataclass(frozen=True)
class WeekPoint:
    week: str
    value: Decimal | None
    plan: Decimal
    level: str | None  # "warn" / "alert" / None, in the metric's bad direction
    in_progress: bool = False  # the current week: not judged until it is over


@dataclass(frozen=True)
class ValueRow:
    id: int
    week: str
    rep: str
    value: Decimal
    source: str
    entered_by: str
    awaiting: bool
    confirmed_by: str
    confirmable: bool
    level: str | None = None


@dataclass
class MetricPage:
    metric: Metric
    subject_name: str
    subject_kind: str  # "rep" / "unit"
    points: list[WeekPoint]
    rows: list[ValueRow]
    reps: list[User]
    units: list[OrgUnit]
    selected_user: int | None
    selected_unit: int | None
    may_enter: bool
    entry_reps: list[User] = field(default_factory=list)


def _severity(metric: Metric, value: Decimal) -> tuple[int, Decimal]:
    rank = {"alert": 0, "warn": 1}.get(metric_level(metric=metric, value=value), 2)
    return rank, value if metric.direction == "higher" else -value


def metrics_for_list() -> QuerySet[Metric]:
    return Metric.objects.order_by("-active", "category", "code")


def _weeks(today: date) -> list[IsoWeek]:
    last = IsoWeek.of(today)
    return [IsoWeek.of(last.start - timedelta(weeks=i)) for i in range(WEEKS_SHOWN - 1, -1, -1)]


def metric_page(
    *,
    user: User,
    metric: Metric,
    rep: User | None,
    unit: OrgUnit | None,
    today: date,
) -> MetricPage:
    """One metric's last 13 weeks for a rep (their values) or a unit (its reps' values by
    the metric's aggregation; a summed metric's plan is the plan per rep × reps reporting)."""
    weeks = _weeks(today)
    values = (
        metric_values_visible_to(user)
        .filter(metric=metric, week_start__gte=weeks[0].start, week_start__lte=weeks[-1].start)
        .select_related("user", "entered_by", "confirmed_by")
        .order_by("-week_start", "user__username")
    )
    if rep is not None:
        values = values.filter(user=rep)
        subject_name, kind = str(rep), "rep"
    else:
        values = values.filter(
            user__team__in=OrgUnitClosure.objects.filter(ancestor=unit).values("descendant")
        )
        subject_name, kind = unit.name, "unit"
    rows = list(values)
    by_week: dict[date, list[Decimal]] = defaultdict(list)
    for row in rows:
        if row.counts:
            by_week[row.week_start].append(row.value)
    points = []
    for week in weeks:
        found = by_week.get(week.start)
        if not found:
            points.append(WeekPoint(week.label, None, metric.weekly_plan, None))
            continue
        if metric.aggregation == MetricAggregation.SUM:
            value, plan = sum(found, Decimal(0)), metric.weekly_plan * len(found)
        else:
            value, plan = sum(found, Decimal(0)) / len(found), metric.weekly_plan
        current = week == weeks[-1]
        level = None if current else metric_level(metric=metric, value=value, plan=plan)
        points.append(WeekPoint(week.label, value, plan, level, in_progress=current))
    if kind == "unit":
        # A unit's table lists who stood where last full week (worst first) and what still
        # awaits a confirmation, not every rep's every week.
        last_full = weeks[-2].start
        rows = [r for r in rows if r.week_start == last_full or r.needs_confirmation]
        rows.sort(key=lambda r: _severity(metric, r.value))
    entry_reps = [] if metric.is_derived or not metric.active else list(reps_for_metric_entry(user))
    scope = access.access_for(user)
    units = list(
        access.units_visible_to(user).filter(pk__in=scope.scope_subtree()).order_by("kind", "name")
        if not scope.is_admin
        else OrgUnit.objects.order_by("kind", "name")
    )
    reps = list(
        access.users_visible_to(user)
        .filter(role_assignments__role="rep", is_active=True)
        .distinct()
        .order_by("username")
    )
    return MetricPage(
        metric=metric,
        subject_name=subject_name,
        subject_kind=kind,
        points=points,
        rows=[
            ValueRow(
                id=r.pk,
                week=r.week,
                rep=str(r.user),
                value=r.value,
                source=r.get_source_display(),
                entered_by=str(r.entered_by) if r.entered_by else "",
                awaiting=r.needs_confirmation,
                confirmed_by=str(r.confirmed_by) if r.confirmed_by else "",
                confirmable=r.needs_confirmation and can_confirm_metric_value(user, r),
                level=None
                if r.week_start == weeks[-1].start
                else metric_level(metric=metric, value=r.value),
            )
            for r in rows
        ],
        reps=reps,
        units=units,
        selected_user=rep.pk if rep else None,
        selected_unit=unit.pk if unit else None,
        may_enter=bool(entry_reps),
        entry_reps=entry_reps,
    )
