"""The dashboard and the target detail page: breadcrumbs, period choices, chart fragments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from targets import charts
from targets.access import access_for
from targets.figures import Figures, MonthFigures, trend
from targets.models import OrgUnit, OrgUnitClosure, Target, User
from targets.periods import Quarter, to_decimal
from targets.selectors.summary import DashboardSummary, SummaryRow

CENT = Decimal("0.01")
PREVIOUS_QUARTERS = 4


def period_title(label: str) -> str:
    """ "2025Q2" as a reader says it: "2025 Q2" / "2025年第2季度"."""
    quarter = Quarter.parse(label)
    return _("%(year)s Q%(quarter)s") % {"year": quarter.year, "quarter": quarter.quarter}


@dataclass(frozen=True)
class PeriodChoice:
    label: str
    title: str
    selected: bool


def period_choices(*, selected: Quarter, today: date) -> list[PeriodChoice]:
    """The next quarter, the current one and the previous four (plus the one asked for)."""
    current = Quarter.of(today)
    quarters = {current.next(), current}
    quarter = current
    for _i in range(PREVIOUS_QUARTERS):
        quarter = quarter.previous()
        quarters.add(quarter)
    quarters.add(selected)
    return [
        PeriodChoice(label=q.label, title=period_title(q.label), selected=q == selected)
        for q in sorted(quarters, reverse=True)
    ]


@dataclass(frozen=True)
class Crumb:
    unit: int
    name: str
    link: bool


def breadcrumbs(*, user: User, unit: OrgUnit) -> list[Crumb]:
    """The chain from the root down to `unit`; a link wherever the user may see figures."""
    chain = list(
        OrgUnitClosure.objects.filter(descendant=unit)
        .select_related("ancestor")
        .order_by("-depth")
        .values_list("ancestor_id", "ancestor__name")
    )
    access = access_for(user)
    return [
        Crumb(unit=unit_id, name=name, link=access.sees_unit(unit_id)) for unit_id, name in chain
    ]


@dataclass(frozen=True)
class Allocation:
    coverage: Decimal | None
    unallocated: Decimal | None
    over_allocated: Decimal | None


def allocation_of(figures: Figures | None) -> Allocation | None:
    """Coverage with the gap as a positive amount on the side it falls (SPEC §3)."""
    if figures is None or figures.allocation_coverage is None:
        return None
    gap = figures.unallocated or Decimal(0)
    return Allocation(
        coverage=figures.allocation_coverage,
        unallocated=gap if gap > 0 else None,
        over_allocated=-gap if gap < 0 else None,
    )


@dataclass(frozen=True)
class Amounts:
    base: Decimal
    stretch: Decimal
    original_base: Decimal
    original_stretch: Decimal

    @property
    def revised(self) -> bool:
        return (self.base, self.stretch) != (self.original_base, self.original_stretch)


def _amounts(target_ids: list[int]) -> dict[int, Amounts]:
    """Base and Stretch of the given targets, in one query."""
    rows = Target.objects.filter(pk__in=target_ids).values_list(
        "pk", "base", "stretch", "original_base", "original_stretch"
    )
    return {pk: Amounts(*amounts) for pk, *amounts in rows}


@dataclass(frozen=True)
class ChildRow:
    name: str
    unit: int | None
    user: int | None
    target: int | None
    amounts: Amounts | None
    figures: Figures | None
    link: str  # a unit's dashboard, a rep's target page ("" for a rep without a target)
    deals_link: str  # the deals list filtered to the child and the quarter


def _child_links(row: SummaryRow, period: str) -> tuple[str, str]:
    deals = reverse("deals")
    if row.unit is not None:
        return (
            f"{reverse('home')}?unit={row.unit}&period={period}",
            f"{deals}?team={row.unit}&period={period}&status=won",
        )
    link = reverse("target-page", args=[row.target]) if row.target else ""
    return link, f"{deals}?rep={row.user}&period={period}&status=won"


def company_thresholds(unit: OrgUnit) -> charts.Thresholds:
    """The status thresholds of the unit's company (its tree's root)."""
    root = (
        OrgUnitClosure.objects.filter(descendant=unit, ancestor__parent__isnull=True)
        .values_list("ancestor__status_red_below", "ancestor__status_green_above")
        .first()
    )
    return charts.Thresholds(*root) if root else charts.Thresholds()


@dataclass(frozen=True)
class HomePage:
    summary: DashboardSummary
    scope_kind: str
    period_title: str
    periods: list[PeriodChoice]
    crumbs: list[Crumb]
    amounts: Amounts | None
    allocation: Allocation | None
    children: list[ChildRow]
    children_with_targets: int
    chart: str
    trend_chart: str
    volatility_shown: bool
    deals_link: str  # the deals behind the shown figures


def home_page(
    *, user: User, unit: OrgUnit | None, summary: DashboardSummary, period: Quarter, today: date
) -> HomePage:
    target_ids = [summary.target, *(row.target for row in summary.children)]
    amounts = _amounts([pk for pk in target_ids if pk is not None])
    children = [
        ChildRow(
            name=row.name,
            unit=row.unit,
            user=row.user,
            target=row.target,
            amounts=amounts.get(row.target) if row.target else None,
            figures=row.figures,
            link=links[0],
            deals_link=links[1],
        )
        for row in summary.children
        for links in [_child_links(row, summary.period)]
    ]
    trend_chart = ""
    if unit is None and summary.target is not None:
        # A rep's home is the own target: its weekly trend belongs on it.
        own = Target.objects.get(pk=summary.target)
        points = trend(own, grain="week", as_of=summary.as_of)
        trend_chart = charts.chart_html(charts.trend_chart(points, language=get_language()))
    return HomePage(
        summary=summary,
        scope_kind=unit.get_kind_display() if unit else _("Sales rep"),
        period_title=period_title(summary.period),
        periods=period_choices(selected=period, today=today),
        crumbs=breadcrumbs(user=user, unit=unit) if unit else [],
        amounts=amounts.get(summary.target) if summary.target else None,
        allocation=allocation_of(summary.figures),
        children=children,
        children_with_targets=sum(1 for row in children if row.figures is not None),
        chart=charts.chart_html(
            charts.children_completion_chart(
                summary,
                thresholds=company_thresholds(unit) if unit and summary.children else None,
                link_for=lambda row: _child_links(row, summary.period)[0],
            ),
            clickable=True,
        ),
        trend_chart=trend_chart,
        volatility_shown=any(v.value is not None for v in summary.volatility),
        deals_link=_child_links(
            SummaryRow(unit=summary.unit, user=summary.user, name="", target=None, figures=None),
            summary.period,
        )[1],
    )


@dataclass(frozen=True)
class MonthRow:
    label: str
    base: Decimal
    actual: Decimal
    completion: Decimal | None


def month_rows(target: Target, monthly: tuple[MonthFigures, ...]) -> list[MonthRow]:
    return [
        MonthRow(
            label=m.month.label,
            base=to_decimal(Fraction(target.base) * Fraction(weight)).quantize(CENT),
            actual=m.actual,
            completion=m.completion,
        )
        for m, weight in zip(monthly, target.weights, strict=True)
    ]
