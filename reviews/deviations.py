"""The 15 % / two-week deviation trigger (SPEC §6), evaluated for every target at once.

Each key indicator is one source function: (targets of the week, week) → {target id:
(plan, actual)}, or nothing for a target without data that week. Revenue pace is the one
source today; a custom key metric (SPEC §1) joins by adding its function to
`INDICATOR_SOURCES`. A week costs a fixed number of statements whatever the company's
size: the figures of the week's targets (set-based, `figures_for`), the states in one
read, and bulk writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from alerts.models import NotificationKind
from alerts.services import alerts_raise_for_cases, notify_each
from reviews.models import (
    AdjustmentCase,
    CaseState,
    DeviationSettings,
    IndicatorState,
    IndicatorStateKind,
)
from targets.figures import figures_for
from targets.models import (
    Measure,
    Metric,
    MetricAggregation,
    MetricDirection,
    MetricValue,
    OrgUnitClosure,
    Role,
    Target,
    User,
)
from targets.periods import IsoWeek

REVENUE_PACE = "revenue_pace"
DEFAULT_THRESHOLD = Decimal(15)
DEFAULT_WEEKS = 2
# How many evaluated weeks a state keeps for display and for the case it opens.
KEPT_WEEKS = 8

# (plan, actual), or (plan, actual, -1) for an indicator where lower is better.
PlanActual = dict[int, tuple]


def revenue_pace(targets: list[Target], week: IsoWeek) -> PlanActual:
    """Plan: Base expected by the end of the week (its part inside the period); actual:
    the actual to then. A week whose plan is zero has no data."""
    by_end: dict[date, list[Target]] = {}
    for target in targets:
        by_end.setdefault(min(week.end, target.period_end), []).append(target)
    result: PlanActual = {}
    for as_of, batch in by_end.items():
        for target_id, figures in figures_for(batch, as_of=as_of).items():
            if figures.expected_base:
                result[target_id] = (figures.expected_base, figures.actual)
    return result


INDICATOR_SOURCES: dict[str, Callable[[list[Target], IsoWeek], PlanActual]] = {
    REVENUE_PACE: revenue_pace,
}


def key_metrics(targets: list[Target], week: IsoWeek) -> dict[str, PlanActual]:
    """Every active key process metric is an indicator of each revenue target (SPEC §6),
    named `metric:<code>`: plan = its weekly plan per rep, actual = that week's counting
    value (a unit: Σ over its reps with a value, plan × their number, for a summed metric;
    their mean against the plan otherwise). A lower-is-better metric's deviation is
    (plan − actual) / plan, so being worse is negative either way. No value → no data.
    One read of the week's values and one of the team → ancestor pairs."""
    metrics = {m.pk: m for m in Metric.objects.filter(active=True, key=True)}
    revenue = [t for t in targets if t.measure == Measure.REVENUE]
    if not metrics or not revenue:
        return {}
    values = list(
        MetricValue.objects.filter(
            metric__in=list(metrics), week_start=week.start, counts=True
        ).values_list("metric_id", "user_id", "user__team_id", "value")
    )
    teams = {team for _m, _u, team, _v in values if team}
    above: dict[int, set[int]] = {}
    for ancestor, descendant in OrgUnitClosure.objects.filter(descendant__in=teams).values_list(
        "ancestor", "descendant"
    ):
        above.setdefault(descendant, set()).add(ancestor)
    # (metric, rep) and (metric, unit) → values that week
    of_rep: dict[tuple[int, int], Decimal] = {}
    of_unit: dict[tuple[int, int], list[Decimal]] = {}
    for metric_id, user_id, team, value in values:
        of_rep[(metric_id, user_id)] = value
        for unit in above.get(team, ()):
            of_unit.setdefault((metric_id, unit), []).append(value)
    result: dict[str, PlanActual] = {}
    for metric in metrics.values():
        plan_actual: PlanActual = {}
        for target in revenue:
            if target.owner_user_id:
                value = of_rep.get((metric.pk, target.owner_user_id))
                found = None if value is None else (metric.weekly_plan, value)
            else:
                unit_values = of_unit.get((metric.pk, target.owner_unit_id))
                found = None
                if unit_values:
                    if metric.aggregation == MetricAggregation.SUM:
                        found = (metric.weekly_plan * len(unit_values), sum(unit_values))
                    else:
                        found = (metric.weekly_plan, sum(unit_values) / len(unit_values))
            if found is None or not found[0]:
                continue
            plan, actual = found
            if metric.direction == MetricDirection.LOWER:
                plan_actual[target.pk] = (plan, actual, -1)
            else:
                plan_actual[target.pk] = (plan, actual)
        result[metric.measure] = plan_actual
    return result


# Sources answering several indicators at once ({indicator: PlanActual}).
MULTI_INDICATOR_SOURCES: list[Callable[[list[Target], IsoWeek], dict[str, PlanActual]]] = [
    key_metrics
]


def _indicator_data(targets: list[Target], week: IsoWeek):
    for indicator, source in INDICATOR_SOURCES.items():
        yield indicator, source(targets, week)
    for multi in MULTI_INDICATOR_SOURCES:
        yield from multi(targets, week).items()


@dataclass
class Evaluation:
    week: str
    targets: int = 0
    evaluated: int = 0
    no_data: int = 0
    off_plan: int = 0
    cases_opened: int = 0
    skipped: int = 0  # already evaluated for this week


def _settings_by_company() -> dict[int, tuple[Decimal, int]]:
    return {s.company_id: (s.threshold_percent, s.weeks) for s in DeviationSettings.objects.all()}


def _round(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


@transaction.atomic
def deviations_evaluate(*, week: IsoWeek) -> Evaluation:
    """Evaluate every target whose period overlaps `week`; idempotent per week."""
    result = Evaluation(week=week.label)
    targets = list(
        Target.objects.filter(period_start__lte=week.end, period_end__gte=week.start)
        .select_related("owner_user")
        .only(
            "id",
            "period",
            "period_start",
            "period_end",
            "company_id",
            "owner_unit_id",
            "owner_user_id",
            "owner_user__team_id",
            "measure",
            "base",
            "stretch",
        )
    )
    result.targets = len(targets)
    if not targets:
        return result
    settings = _settings_by_company()
    states = {
        (s.target_id, s.indicator): s
        for s in IndicatorState.objects.select_for_update().filter(
            target__in=[t.pk for t in targets]
        )
    }
    open_cases = set(
        AdjustmentCase.objects.filter(
            target__in=[t.pk for t in targets], state=CaseState.OPEN
        ).values_list("target_id", flat=True)
    )
    new_states, changed_states, new_cases = [], [], []
    now = timezone.now()
    for indicator, data in _indicator_data(targets, week):
        for target in targets:
            threshold, needed = settings.get(target.company_id, (DEFAULT_THRESHOLD, DEFAULT_WEEKS))
            state = states.get((target.pk, indicator))
            if state is None:
                state = IndicatorState(target=target, indicator=indicator)
                new_states.append(state)
            elif state.last_week >= week.label:
                result.skipped += 1
                continue
            else:
                changed_states.append(state)
            plan_actual = data.get(target.pk)
            if plan_actual is None:
                result.no_data += 1
                state.weeks = [
                    *state.weeks,
                    {"week": week.label, "plan": None, "actual": None, "deviation": None},
                ][-KEPT_WEEKS:]
                state.last_week = week.label
                continue
            result.evaluated += 1
            plan, actual, *sign = plan_actual
            # A lower-is-better indicator says (…, -1): worse than plan is negative too.
            deviation = (actual - plan) / plan * 100 * (sign[0] if sign else 1)
            state.weeks = [
                *state.weeks,
                {
                    "week": week.label,
                    "plan": _round(plan),
                    "actual": _round(actual),
                    "deviation": _round(deviation),
                },
            ][-KEPT_WEEKS:]
            state.last_week = week.label
            if abs(deviation) <= threshold:
                state.state, state.streak = IndicatorStateKind.NORMAL, 0
                continue
            result.off_plan += 1
            state.streak += 1
            if state.state == IndicatorStateKind.CASE_OPEN:
                continue
            if state.streak < needed:
                state.state = IndicatorStateKind.PENDING
                continue
            state.state = IndicatorStateKind.CASE_OPEN
            if target.pk in open_cases:
                continue
            open_cases.add(target.pk)
            new_cases.append(
                AdjustmentCase(
                    target=target,
                    indicator=indicator,
                    opened_at=now,
                    opened_week=week.label,
                    weeks=[w for w in state.weeks if w["deviation"] is not None][-needed:],
                )
            )
    IndicatorState.objects.bulk_create(new_states)
    _states_update(changed_states)
    AdjustmentCase.objects.bulk_create(new_cases)
    result.cases_opened = len(new_cases)
    _notify_cases(new_cases)
    return result


def _states_update(states: list[IndicatorState]) -> None:
    """Write the changed states back in one statement.

    `bulk_update`'s `CASE id WHEN …` costs PostgreSQL time quadratic in the rows (minutes
    for 10,000 targets); on PostgreSQL one `UPDATE … FROM unnest(…)` does it in linear time.
    """
    if not states:
        return
    if connection.vendor != "postgresql":
        IndicatorState.objects.bulk_update(states, ["state", "streak", "last_week", "weeks"])
        return
    table = connection.ops.quote_name(IndicatorState._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET state = v.state, streak = v.streak, "
            "last_week = v.last_week, weeks = v.weeks::jsonb "
            "FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::text[], %s::text[]) "
            "AS v(id, state, streak, last_week, weeks) WHERE s.id = v.id",
            [
                [s.pk for s in states],
                [s.state for s in states],
                [s.streak for s in states],
                [s.last_week for s in states],
                [json.dumps(s.weeks, cls=DjangoJSONEncoder) for s in states],
            ],
        )


@transaction.atomic
def case_open(*, target: Target, indicator: str, week: str, weeks: list[dict]) -> AdjustmentCase:
    """Open one case by hand (the demo, a review): the same row and notices as the trigger's.

    The partial unique constraint keeps it to one open case per target.
    """
    case = AdjustmentCase.objects.create(
        target=target, indicator=indicator, opened_at=timezone.now(), opened_week=week, weeks=weeks
    )
    IndicatorState.objects.update_or_create(
        target=target,
        indicator=indicator,
        defaults={"state": IndicatorStateKind.CASE_OPEN, "last_week": week, "weeks": weeks},
    )
    _notify_cases([case])
    return case


def cases_close(*, case_ids: list[int]) -> int:
    """Close decided cases (a review kept or adjusted their target): the indicator starts
    over from normal, so a target still off plan opens a new case two weeks later."""
    cases = list(
        AdjustmentCase.objects.filter(pk__in=case_ids, state=CaseState.OPEN).values_list(
            "pk", "target_id", "indicator"
        )
    )
    if not cases:
        return 0
    closed = AdjustmentCase.objects.filter(
        pk__in=[pk for pk, _t, _i in cases], state=CaseState.OPEN
    ).update(state=CaseState.CLOSED, closed_at=timezone.now())
    for _pk, target_id, indicator in cases:
        IndicatorState.objects.filter(target_id=target_id, indicator=indicator).update(
            state=IndicatorStateKind.NORMAL, streak=0
        )
    return closed


def _notify_cases(cases: list[AdjustmentCase]) -> None:
    """Tell the HRBP over each target and the owner's manager (SPEC §6)."""
    if not cases:
        return
    alerts_raise_for_cases(cases=cases)
    units = {c.target.owner_unit_id or c.target.owner_user.team_id for c in cases}
    ancestors: dict[int, set[int]] = {}
    for ancestor, descendant in OrgUnitClosure.objects.filter(descendant__in=units).values_list(
        "ancestor", "descendant"
    ):
        ancestors.setdefault(descendant, set()).add(ancestor)
    people = list(
        User.objects.filter(
            is_active=True,
            role_assignments__role__in=[Role.HRBP, Role.SALES_MANAGER],
            role_assignments__unit__in={a for s in ancestors.values() for a in s},
        )
        .distinct()
        .prefetch_related("role_assignments")
    )
    by_unit: dict[int, list[User]] = {}
    notices = []
    for case in cases:
        unit = case.target.owner_unit_id or case.target.owner_user.team_id
        if unit not in by_unit:
            above = ancestors.get(unit, set())
            # The HRBPs and managers over the owner: for a rep, whoever manages their team.
            by_unit[unit] = [
                person
                for person in people
                if any(
                    grant.unit_id in above
                    for grant in person.role_assignments.all()
                    if grant.role in (Role.HRBP, Role.SALES_MANAGER)
                )
            ]
        notices.append((by_unit[unit], case.target, case.pk))
    notify_each(kind=NotificationKind.CASE_OPENED, notices=notices)
