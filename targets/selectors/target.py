"""The target page: figures, months, trend, revisions, and the deals behind its actual."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from targets import charts
from targets.access import access_for, deals_visible_to
from targets.figures import Figures, figures_for, trend
from targets.models import Credit, DealSource, OrgUnitClosure, Target, TargetRevision, User
from targets.selectors.dashboard import (
    Allocation,
    Amounts,
    MonthRow,
    allocation_of,
    month_rows,
    period_title,
)
from targets.selectors.deals import share_text

# The table shows this many shares; the rest are a link away in the filtered deals list.
TARGET_DEALS_SHOWN = 20
HUNDRED = Decimal(100)

# ?sort= → (label, ordering); every ordering ends on ids so pages are stable.
DEAL_SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "-date": (gettext_lazy("Newest first"), ("-close_date", "-deal_id", "id")),
    "date": (gettext_lazy("Oldest first"), ("close_date", "deal_id", "id")),
    "-amount": (gettext_lazy("Largest credited amount"), ("-amount_cents", "-deal_id", "id")),
    "account": (gettext_lazy("Account"), ("deal__account", "deal_id", "id")),
    "rep": (gettext_lazy("Rep"), ("user__display_name", "user__username", "-close_date", "id")),
}
DEFAULT_DEAL_SORT = "-date"


@dataclass(frozen=True)
class TargetDealRow:
    deal_id: int
    account: str
    rep: str
    percent: str
    credited: Decimal
    deal_amount: Decimal
    split: bool
    close_date: date
    source: str
    external_id: str
    manual: bool
    counts: bool
    awaiting: bool
    confirmed_by: str | None
    confirmed_at: datetime | None


@dataclass(frozen=True)
class TargetDeals:
    rows: list[TargetDealRow]
    total: int  # shares listed in all (counting or awaiting confirmation)
    counted: Decimal  # Σ credited amount of the counting ones the user may see
    awaiting: Decimal  # Σ credited amount still awaiting confirmation
    hidden: Decimal  # counting amount of deals outside the user's scope (not listed)
    sort: str
    sorts: list[tuple[str, str]]
    # The deals list filtered to the same deals ("rep=…" or "team=…", and the quarter).
    list_query: str

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def _behind(target: Target, *, today: date) -> QuerySet[Credit]:
    """The shares that make the target's actual (figures' rule: counting, closed in the period
    up to today, the rep's own or tagged with a team of the unit's subtree on the close date),
    and the won manual ones that will once confirmed."""
    end = min(target.period_end, today)
    credits = Credit.objects.filter(close_date__gte=target.period_start, close_date__lte=end)
    if target.owner_user_id:
        credits = credits.filter(user_id=target.owner_user_id)
    else:
        subtree = OrgUnitClosure.objects.filter(ancestor_id=target.owner_unit_id)
        credits = credits.filter(team__in=subtree.values("descendant"))
    awaiting = Q(
        counts=False,
        deal__won=True,
        deal__source=DealSource.MANUAL,
        deal__confirmed_by__isnull=True,
    )
    return credits.filter(Q(counts=True) | awaiting)


def target_deals(*, user: User, target: Target, today: date, sort: str = "") -> TargetDeals:
    """The shares behind a target's actual, in two queries whatever their number."""
    sort = sort if sort in DEAL_SORTS else DEFAULT_DEAL_SORT
    credits = _behind(target, today=today)
    if target.owner_unit_id and access_for(user).sees_unit(target.owner_unit_id):
        # Every share behind a unit is tagged with a team of its subtree, which this user
        # sees whole: no need to ask deal by deal (that subquery is the costly part).
        visible = Q()
    else:
        # A rep's target may hold shares won in a team the viewer does not oversee (the
        # rep moved): those count, but are not listed.
        visible = Q(deal__in=deals_visible_to(user).values("pk"))
    totals = credits.aggregate(
        total=Count("id", filter=visible),
        counted=Sum("amount_cents", filter=visible & Q(counts=True)),
        awaiting=Sum("amount_cents", filter=visible & Q(counts=False)),
        all_counted=Sum("amount_cents", filter=Q(counts=True)),
    )
    shown = (
        credits.filter(visible)
        .select_related("deal", "deal__confirmed_by", "user")
        .annotate(shares=Count("deal__credits"))
        .order_by(*DEAL_SORTS[sort][1])[:TARGET_DEALS_SHOWN]
    )
    rows = [
        TargetDealRow(
            deal_id=c.deal_id,
            account=c.deal.account,
            rep=str(c.user),
            percent=share_text(c.percent),
            credited=Decimal(c.amount_cents) / HUNDRED,
            deal_amount=c.deal.amount,
            split=c.shares > 1,
            close_date=c.close_date,
            source=c.deal.get_source_display(),
            external_id=c.deal.external_id,
            manual=c.deal.is_manual,
            counts=c.counts,
            awaiting=not c.counts,
            confirmed_by=str(c.deal.confirmed_by) if c.deal.confirmed_by_id else None,
            confirmed_at=c.deal.confirmed_at,
        )
        for c in shown
    ]
    counted, everything = totals["counted"] or 0, totals["all_counted"] or 0
    owner = (
        f"rep={target.owner_user_id}" if target.owner_user_id else f"team={target.owner_unit_id}"
    )
    return TargetDeals(
        rows=rows,
        total=totals["total"],
        counted=Decimal(counted) / HUNDRED,
        awaiting=Decimal(totals["awaiting"] or 0) / HUNDRED,
        hidden=Decimal(everything - counted) / HUNDRED,
        sort=sort,
        sorts=[(key, str(label)) for key, (label, _ordering) in DEAL_SORTS.items()],
        list_query=f"{owner}&period={target.period}&status=won",
    )


@dataclass(frozen=True)
class TargetPage:
    target: Target
    owner_name: str
    owner_kind: str
    period_title: str
    figures: Figures
    amounts: Amounts
    allocation: Allocation | None
    revised: bool
    revisions: list[TargetRevision]
    months: list[MonthRow]
    chart: str
    back_unit: int | None
    deals: TargetDeals


def target_page(*, user: User, target: Target, today: date, sort: str = "") -> TargetPage:
    figures = figures_for([target], as_of=today)[target.pk]
    revisions = list(target.revisions.select_related("decided_by").order_by("decided_at", "pk"))
    points = trend(target, grain="week", as_of=today)
    access = access_for(user)
    # Back to the dashboard showing this target, when the user may see that unit.
    unit_id = target.owner_unit_id or target.owner_user.team_id
    visible = access.sees_unit(unit_id)
    return TargetPage(
        target=target,
        owner_name=target.owner_name,
        owner_kind=target.owner_unit.get_kind_display() if target.owner_unit_id else _("Sales rep"),
        period_title=period_title(target.period),
        figures=figures,
        amounts=Amounts(
            base=target.base,
            stretch=target.stretch,
            original_base=target.original_base,
            original_stretch=target.original_stretch,
        ),
        allocation=allocation_of(figures),
        revised=bool(revisions)
        or (target.base, target.stretch) != (target.original_base, target.original_stretch),
        revisions=revisions,
        months=month_rows(target, figures.monthly),
        chart=charts.chart_html(charts.trend_chart(points, language=get_language())),
        back_unit=unit_id if visible else None,
        deals=target_deals(user=user, target=target, today=today, sort=sort),
    )
