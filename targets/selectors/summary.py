"""Reads shaped for pages and endpoints; every number comes from `targets.figures`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q

from targets.figures import Figures, figures_for, volatility
from targets.models import Measure, OrgUnit, Target, User
from targets.periods import Quarter


@dataclass(frozen=True)
class SummaryRow:
    unit: int | None
    user: int | None
    name: str
    target: int | None
    figures: Figures | None


@dataclass(frozen=True)
class MonthVolatility:
    month: str
    value: Decimal | None


@dataclass(frozen=True)
class DashboardSummary:
    unit: int | None
    user: int | None
    name: str
    period: str
    as_of: date
    target: int | None
    figures: Figures | None
    children: list[SummaryRow]
    volatility: list[MonthVolatility]
    volatility_period: Decimal | None


def dashboard_summary(
    *, unit: OrgUnit | None, user: User, period: Quarter, as_of: date
) -> DashboardSummary:
    """A unit's figures with its children's (sub-units and member reps), or one rep's own."""
    measure = Measure.REVENUE
    if unit is None:
        target = Target.objects.filter(
            owner_user=user, period=period.label, measure=measure
        ).first()
        figures = figures_for([target], as_of=as_of) if target else {}
        return DashboardSummary(
            unit=None,
            user=user.pk,
            name=str(user),
            period=period.label,
            as_of=as_of,
            target=target.pk if target else None,
            figures=figures.get(target.pk) if target else None,
            children=[],
            volatility=[],
            volatility_period=None,
        )
    # Sub-units in the order they were set up: 一组, 二组, 三组 do not sort by name.
    child_units = list(OrgUnit.objects.filter(parent=unit).order_by("pk"))
    members = list(User.objects.filter(team=unit).order_by("username"))
    targets = list(
        Target.objects.filter(period=period.label, measure=measure).filter(
            Q(owner_unit=unit) | Q(owner_unit__parent=unit) | Q(owner_user__team=unit)
        )
    )
    figures = figures_for(targets, as_of=as_of)
    by_unit = {t.owner_unit_id: t for t in targets if t.owner_unit_id}
    by_user = {t.owner_user_id: t for t in targets if t.owner_user_id}
    own = by_unit.get(unit.pk)
    children = [
        SummaryRow(
            unit=child.pk,
            user=None,
            name=child.name,
            target=by_unit[child.pk].pk if child.pk in by_unit else None,
            figures=figures.get(by_unit[child.pk].pk) if child.pk in by_unit else None,
        )
        for child in child_units
    ] + [
        SummaryRow(
            unit=None,
            user=member.pk,
            name=str(member),
            target=by_user[member.pk].pk if member.pk in by_user else None,
            figures=figures.get(by_user[member.pk].pk) if member.pk in by_user else None,
        )
        for member in members
    ]
    child_figures = [row.figures for row in children if row.figures is not None]
    months = [m for m in period.months if m.start <= as_of]
    return DashboardSummary(
        unit=unit.pk,
        user=None,
        name=unit.name,
        period=period.label,
        as_of=as_of,
        target=own.pk if own else None,
        figures=figures.get(own.pk) if own else None,
        children=children,
        volatility=[MonthVolatility(m.label, volatility(child_figures, [m])) for m in months],
        volatility_period=volatility(child_figures, months),
    )
