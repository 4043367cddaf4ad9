"""The deals list and the manual-entry form: rows with provenance, splits and who may confirm.

A page of deals costs a fixed number of queries whatever its length: the deals with their
people in one, their credit splits with the reps' names in another; the confirm buttons ask
`access.can_confirm_deal`, which loads the user's managed teams once per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet

from targets.access import (
    can_confirm_deal,
    deals_confirmable_by,
    deals_visible_to,
    reps_creditable_by,
    reps_for_deal_entry,
    with_owner_team,
)
from targets.models import Credit, Deal, DealSource, User
from targets.periods import Quarter
from targets.selectors.dashboard import PeriodChoice, period_choices

PER_PAGE = 50


@dataclass(frozen=True)
class DealFilters:
    period: Quarter | None = None
    source: str = ""
    won: str = ""  # "", "yes" or "no"
    awaiting: bool = False
    q: str = ""


def filtered_deals(*, user: User, filters: DealFilters) -> QuerySet[Deal]:
    """The deals `user` may see that match the filters, newest close date first."""
    deals = deals_visible_to(user)
    if filters.period is not None:
        deals = deals.filter(
            close_date__gte=filters.period.start, close_date__lte=filters.period.end
        )
    if filters.source:
        deals = deals.filter(source=filters.source)
    if filters.won:
        deals = deals.filter(won=filters.won == "yes")
    if filters.awaiting:
        # Awaiting this user's confirmation: the rows that offer a confirm button.
        deals = deals.filter(pk__in=deals_confirmable_by(user).values("pk"))
    if filters.q:
        deals = deals.filter(account__icontains=filters.q)
    return deals.order_by("-close_date", "-id")


def _with_people(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    # The owner's team on the close date is annotated for `can_confirm_deal`.
    deals = with_owner_team(deals)
    return deals.select_related("owner", "created_by", "confirmed_by").prefetch_related(
        Prefetch(
            "credits",
            queryset=Credit.objects.select_related("user").order_by("-percent", "id"),
        )
    )


@dataclass(frozen=True)
class Share:
    name: str
    percent: str


@dataclass(frozen=True)
class DealRow:
    id: int
    account: str
    owner: str
    # Every rep's share when the deal is split; empty when the owner holds all of it.
    shares: tuple[Share, ...]
    amount: Decimal
    stage: str
    won: bool
    close_date: date
    source: str
    external_id: str
    manual: bool
    entered_by: str | None
    awaiting: bool
    confirmed_by: str | None
    confirmed_at: datetime | None
    confirmable: bool
    error: str = ""


def _percent(value: Decimal) -> str:
    """60.00 → "60%", 33.33 → "33.33%"."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def deal_rows(
    *, user: User, deals: Iterable[Deal], errors: dict[int, str] | None = None
) -> list[DealRow]:
    """The rows of deals loaded `_with_people` (and filtered for `user`) as the table shows them."""
    errors = errors or {}
    rows = []
    for deal in deals:
        credits = list(deal.credits.all())
        split = len(credits) > 1 or any(c.user_id != deal.owner_id for c in credits)
        awaiting = deal.is_manual and deal.confirmed_by_id is None
        rows.append(
            DealRow(
                id=deal.pk,
                account=deal.account,
                owner=str(deal.owner),
                shares=tuple(Share(str(c.user), _percent(c.percent)) for c in credits)
                if split
                else (),
                amount=deal.amount,
                stage=deal.stage,
                won=deal.won,
                close_date=deal.close_date,
                source=deal.get_source_display(),
                external_id=deal.external_id,
                manual=deal.is_manual,
                entered_by=str(deal.created_by) if deal.is_manual and deal.created_by else None,
                awaiting=awaiting,
                confirmed_by=str(deal.confirmed_by) if deal.confirmed_by else None,
                confirmed_at=deal.confirmed_at,
                confirmable=awaiting and can_confirm_deal(user, deal, [c.team_id for c in credits]),
                error=errors.get(deal.pk, ""),
            )
        )
    return rows


def deal_row(*, user: User, deal_id: int, error: str = "") -> DealRow:
    """One row, re-read after a confirmation (or a failed one) to replace it in the table."""
    deals = _with_people(deals_visible_to(user).filter(pk=deal_id))
    return deal_rows(user=user, deals=deals, errors={deal_id: error})[0]


def reps_for_entry(user: User) -> QuerySet[User]:
    """The reps `user` may enter a manual deal for, in the order the form lists them."""
    return reps_for_deal_entry(user).select_related("team").order_by("team__name", "username")


def colleagues_for_split(user: User) -> QuerySet[User]:
    """Whom a deal `user` enters may be shared with: the active reps of their company."""
    return reps_creditable_by(user).select_related("team").order_by("team__name", "username")


@dataclass(frozen=True)
class DealsPage:
    rows: list[DealRow]
    page: Page
    total: int
    awaiting_total: int
    filters: DealFilters
    filtered: bool
    periods: list[PeriodChoice]
    sources: list[tuple[str, str]]
    may_enter: bool


def deals_page(
    *, user: User, filters: DealFilters, page_number: str | None, today: date
) -> DealsPage:
    deals = filtered_deals(user=user, filters=filters)
    page = Paginator(_with_people(deals), PER_PAGE).get_page(page_number)
    rows = deal_rows(user=user, deals=page.object_list)
    periods = period_choices(selected=filters.period or Quarter.of(today), today=today)
    if filters.period is None:
        periods = [PeriodChoice(p.label, p.title, selected=False) for p in periods]
    return DealsPage(
        rows=rows,
        page=page,
        total=page.paginator.count,
        awaiting_total=deals_confirmable_by(user).count(),
        filters=filters,
        filtered=filters != DealFilters(),
        periods=periods,
        sources=[(value, str(label)) for value, label in DealSource.choices],
        may_enter=reps_for_entry(user).exists(),
    )
