"""Reads for the proposal pages: lists per tab, the reviewers' queue, the what-if preview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet

from reviews.access import DECIDING_ROLES, can_decide, proposals_visible_to
from reviews.models import Proposal, ProposalStatus
from targets.access import access_for, targets_visible_to
from targets.figures import WhatIf, figures_what_if
from targets.models import OrgUnit, OrgUnitClosure, Target, UnitKind, User
from targets.periods import Quarter


class Tab:
    MINE = "mine"
    QUEUE = "queue"
    ALL = "all"


def _decidable(user: User) -> Q:
    """Proposals on targets inside the user's HRBP / director subtrees, not their own."""
    access = access_for(user)
    units = access.granted(*DECIDING_ROLES)
    if not units:
        return Q(pk__in=[])
    subtree = access.subtree_of(units)
    return (Q(target__owner_unit__in=subtree) | Q(target__owner_user__team__in=subtree)) & ~Q(
        author=user
    )


def may_decide_any(user: User) -> bool:
    return bool(access_for(user).granted(*DECIDING_ROLES))


@dataclass(frozen=True)
class ProposalFilters:
    """The reviewers' narrowing of a list: a unit's subtree, a quarter, a reason."""

    unit: OrgUnit | None = None
    period: str = ""
    reason: str = ""

    @property
    def any(self) -> bool:
        return bool(self.unit or self.period or self.reason)


@dataclass(frozen=True)
class ProposalListPage:
    tab: str
    proposals: list[Proposal]
    status: str
    filters: ProposalFilters
    units: list[OrgUnit]
    periods: list[str]
    counts: dict[str, int]
    may_decide: bool
    may_propose: bool


def proposals_for_tab(*, user: User, tab: str) -> QuerySet[Proposal]:
    visible = proposals_visible_to(user)
    if tab == Tab.QUEUE:
        return visible.filter(_decidable(user), status=ProposalStatus.SUBMITTED)
    if tab == Tab.ALL:
        return visible
    return visible.filter(author=user)


def filter_units(user: User) -> QuerySet[OrgUnit]:
    """Regions and teams whose figures the user sees, for the unit filter."""
    return (
        OrgUnit.objects.filter(pk__in=access_for(user).scope_subtree())
        .exclude(kind=UnitKind.COMPANY)
        .order_by("kind", "name")
    )


def proposal_list_page(
    *,
    user: User,
    tab: str,
    status: str,
    today: date,
    filters: ProposalFilters | None = None,
) -> ProposalListPage:
    filters = filters or ProposalFilters()
    all_of_tab = proposals_for_tab(user=user, tab=tab)
    proposals = all_of_tab
    if status:
        proposals = proposals.filter(status=status)
    if filters.unit is not None:
        subtree = OrgUnitClosure.objects.filter(ancestor=filters.unit.pk).values("descendant")
        proposals = proposals.filter(
            Q(target__owner_unit__in=subtree) | Q(target__owner_user__team__in=subtree)
        )
    if filters.period:
        proposals = proposals.filter(target__period=filters.period)
    if filters.reason:
        proposals = proposals.filter(reason=filters.reason)
    rows = list(
        proposals.select_related(
            "author", "decided_by", "target", "target__owner_unit", "target__owner_user"
        ).order_by("-created_at", "-pk")[:200]
    )
    return ProposalListPage(
        tab=tab,
        proposals=rows,
        status=status,
        filters=filters,
        units=list(filter_units(user)) if tab != Tab.MINE else [],
        periods=sorted(
            set(all_of_tab.values_list("target__period", flat=True).distinct()), reverse=True
        ),
        counts={
            Tab.MINE: proposals_for_tab(user=user, tab=Tab.MINE).count(),
            Tab.QUEUE: proposals_for_tab(user=user, tab=Tab.QUEUE).count(),
        },
        may_decide=may_decide_any(user),
        may_propose=proposable_targets(user=user, today=today).exists(),
    )


def proposable_targets(*, user: User, today: date) -> QuerySet[Target]:
    """Targets of the current and later quarters the user may propose an adjustment for."""
    access = access_for(user)
    mine = Q(pk__in=[])
    if access.is_rep:
        mine |= Q(owner_user=user)
    if access.managed_unit_ids:
        mine |= Q(owner_unit__in=access.subtree_of(access.managed_unit_ids))
    return (
        targets_visible_to(user)
        .filter(mine, period_end__gte=Quarter.of(today).start)
        .select_related("owner_unit", "owner_user")
        .order_by("period_start", "owner_unit_id", "owner_user_id")
    )


@dataclass(frozen=True)
class ProposalDetail:
    proposal: Proposal
    what_if: WhatIf
    may_submit: bool
    may_withdraw: bool
    may_decide: bool


def proposal_detail(*, user: User, proposal: Proposal, today: date) -> ProposalDetail:
    what_if = figures_what_if(
        proposal.target,
        base=proposal.proposed_base,
        stretch=proposal.proposed_stretch,
        as_of=today,
    )
    mine = proposal.author_id == user.pk
    undecided = proposal.status in (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED)
    return ProposalDetail(
        proposal=proposal,
        what_if=what_if,
        may_submit=mine and proposal.status == ProposalStatus.DRAFT,
        may_withdraw=mine and undecided,
        may_decide=proposal.status == ProposalStatus.SUBMITTED and can_decide(user, proposal),
    )


def proposal_preview(*, target: Target, base: Decimal, stretch: Decimal, today: date) -> WhatIf:
    return figures_what_if(target, base=base, stretch=stretch, as_of=today)
