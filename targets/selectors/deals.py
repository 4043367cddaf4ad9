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
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from targets.access import (
    access_for,
    can_confirm_deal,
    deals_confirmable_by,
    deals_visible_to,
    reps_creditable_by,
    reps_for_deal_entry,
    units_visible_to,
    users_visible_to,
    with_owner_team,
)
from targets.figures import figures_for
from targets.models import (
    Credit,
    Deal,
    DealSource,
    Measure,
    OrgUnit,
    OrgUnitClosure,
    Target,
    User,
)
from targets.periods import Quarter
from targets.selectors.dashboard import PeriodChoice, period_choices, period_title

PER_PAGE = 50


class DealStatus:
    WON = "won"
    OPEN = "open"
    AWAITING = "awaiting"  # manual, not confirmed yet (by anyone)


@dataclass(frozen=True)
class DealFilters:
    period: Quarter | None = None
    source: str = ""
    status: str = ""  # "" or a DealStatus
    # Only the deals this user may confirm (what "N awaiting confirmation" counts).
    awaiting: bool = False
    q: str = ""
    rep: User | None = None  # credited to this rep
    team: OrgUnit | None = None  # credited to a team of this unit's subtree (on the close date)


def deal_filters(
    *, user: User, rep_id: int | None = None, team_id: int | None = None, **filters
) -> DealFilters:
    """Filters with the rep and team looked up among those `user` may see (else 404)."""
    rep = team = None
    if rep_id is not None:
        rep = users_visible_to(user).filter(pk=rep_id).first()
        if rep is None:
            raise Http404(_("No such rep."))
    if team_id is not None:
        team = units_visible_to(user).filter(pk=team_id).first()
        if team is None:
            raise Http404(_("No such unit."))
    return DealFilters(rep=rep, team=team, **filters)


def filtered_deals(*, user: User, filters: DealFilters) -> QuerySet[Deal]:
    """The deals `user` may see that match the filters, newest close date first."""
    deals = deals_visible_to(user)
    if filters.period is not None:
        deals = deals.filter(
            close_date__gte=filters.period.start, close_date__lte=filters.period.end
        )
    if filters.source:
        deals = deals.filter(source=filters.source)
    if filters.status == DealStatus.WON:
        deals = deals.filter(won=True)
    elif filters.status == DealStatus.OPEN:
        deals = deals.filter(won=False)
    elif filters.status == DealStatus.AWAITING:
        deals = deals.filter(_awaiting())
    if filters.awaiting:
        deals = deals.filter(pk__in=deals_confirmable_by(user).values("pk"))
    if filters.rep is not None:
        deals = deals.filter(pk__in=Credit.objects.filter(user=filters.rep).values("deal"))
    if filters.team is not None:
        subtree = OrgUnitClosure.objects.filter(ancestor=filters.team).values("descendant")
        deals = deals.filter(pk__in=Credit.objects.filter(team__in=subtree).values("deal"))
    if filters.q:
        deals = deals.filter(account__icontains=filters.q)
    return deals.order_by("-close_date", "-id")


def _awaiting() -> Q:
    """Awaiting anyone's confirmation (the status filter); `deals_confirmable_by` narrows it
    to the ones this user may confirm."""
    return Q(source=DealSource.MANUAL, confirmed_by__isnull=True)


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


def share_text(value: Decimal) -> str:
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
                shares=tuple(Share(str(c.user), share_text(c.percent)) for c in credits)
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
class TeamChoice:
    id: int
    title: str
    selected: bool


def team_choices(*, user: User, selected: OrgUnit | None) -> list[TeamChoice]:
    """The units whose deals the user sees by scope, parents before their children."""
    access = access_for(user)
    if access.is_admin:
        units = OrgUnit.objects.all()
    elif access.scope_unit_ids:
        units = OrgUnit.objects.filter(pk__in=access.scope_subtree())
    else:
        units = OrgUnit.objects.none()
    rows = list(units.order_by("pk").values_list("pk", "name", "parent_id"))
    children: dict[int | None, list[tuple[int, str]]] = {}
    known = {pk for pk, _name, _parent in rows}
    for pk, name, parent in rows:
        children.setdefault(parent if parent in known else None, []).append((pk, name))
    choices: list[TeamChoice] = []

    def walk(parent: int | None, depth: int) -> None:
        for pk, name in children.get(parent, []):
            title = "\u00a0\u00a0" * depth + name
            choices.append(TeamChoice(pk, title, selected is not None and selected.pk == pk))
            walk(pk, depth + 1)

    walk(None, 0)
    if selected is not None and selected.pk not in known:
        choices.append(TeamChoice(selected.pk, selected.name, True))
    return choices


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
    statuses: list[tuple[str, str]]
    teams: list[TeamChoice]
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
        statuses=[
            (DealStatus.WON, _("Won")),
            (DealStatus.OPEN, _("Open (not won)")),
            (DealStatus.AWAITING, _("Awaiting confirmation")),
        ],
        teams=team_choices(user=user, selected=filters.team),
        may_enter=reps_for_entry(user).exists(),
    )


# Confirming: what the deal would do ------------------------------------------------------


@dataclass(frozen=True)
class CreditEffect:
    """One credited rep's completion before and after the deal counts (SPEC §4)."""

    rep_id: int
    rep: str
    share: Decimal  # percent of the deal
    percent: str  # the same, as shown
    amount: Decimal
    period: str
    period_title: str
    target: int | None
    base: Decimal | None
    completion_before: Decimal | None
    completion_after: Decimal | None
    status_before: str | None
    status_after: str | None
    # The share alone is more than the rep's whole quarterly Base: worth a second look.
    exceeds_base: bool


@dataclass(frozen=True)
class ConfirmPreview:
    deal: DealRow
    # Confirming a deal that is not won changes no figures (it counts once won).
    counts: bool
    effects: list[CreditEffect]

    @property
    def warnings(self) -> int:
        return sum(1 for effect in self.effects if effect.exceeds_base)


def deal_confirm_preview(*, user: User, deal: Deal, today: date) -> ConfirmPreview:
    """Each credited rep's figures for the quarter of the close date, now and with the deal
    counted: `figures_for` with the credits added, nothing written."""
    deal = _with_people(Deal.objects.filter(pk=deal.pk)).get()
    credits = list(deal.credits.all())
    quarter = Quarter.of(deal.close_date)
    targets = {
        t.owner_user_id: t
        for t in Target.objects.filter(
            owner_user__in=[c.user_id for c in credits],
            period=quarter.label,
            measure=Measure.REVENUE,
        )
    }
    month = deal.close_date.replace(day=1)
    counts = deal.won
    extra = {
        targets[c.user_id].pk: {month: c.amount_cents}
        for c in credits
        if counts and not c.counts and c.user_id in targets
    }
    before = figures_for(list(targets.values()), as_of=today)
    after = figures_for(list(targets.values()), as_of=today, extra_cents=extra)
    effects = []
    for credit in credits:
        target = targets.get(credit.user_id)
        amount = Decimal(credit.amount_cents) / 100
        now = before.get(target.pk) if target else None
        then = after.get(target.pk) if target else None
        effects.append(
            CreditEffect(
                rep_id=credit.user_id,
                rep=str(credit.user),
                share=credit.percent,
                percent=share_text(credit.percent),
                amount=amount,
                period=quarter.label,
                period_title=period_title(quarter.label),
                target=target.pk if target else None,
                base=target.base if target else None,
                completion_before=now.completion if now else None,
                completion_after=then.completion if then else None,
                status_before=now.status if now else None,
                status_after=then.status if then else None,
                exceeds_base=target is not None and amount > target.base,
            )
        )
    return ConfirmPreview(
        deal=deal_rows(user=user, deals=[deal])[0], counts=counts, effects=effects
    )
