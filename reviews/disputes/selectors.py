"""Reads for flags on wrong actuals: the rep's list, the resolvers' queue, a review's agenda."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from reviews.disputes.access import (
    can_resolve,
    disputes_resolvable_by,
    disputes_visible_to,
    may_flag,
    may_resolve_any,
)
from reviews.models import ActualDispute, DisputeState
from targets.models import OrgUnit, OrgUnitClosure, User


class Tab:
    MINE = "mine"
    QUEUE = "queue"
    ALL = "all"
    CHOICES = (MINE, QUEUE, ALL)


def disputes_for_tab(*, user: User, tab: str) -> QuerySet[ActualDispute]:
    if tab == Tab.QUEUE:
        return disputes_resolvable_by(user).filter(state=DisputeState.OPEN)
    if tab == Tab.ALL:
        return disputes_visible_to(user)
    return disputes_visible_to(user).filter(author=user)


@dataclass(frozen=True)
class DisputeListPage:
    tab: str
    state: str
    disputes: list[ActualDispute]
    counts: dict[str, int]
    may_flag: bool
    may_resolve: bool


LIST_SHOWN = 200


def dispute_list_page(*, user: User, tab: str, state: str) -> DisputeListPage:
    disputes = disputes_for_tab(user=user, tab=tab)
    if state:
        disputes = disputes.filter(state=state)
    rows = list(
        disputes.select_related("author", "deal", "split_user", "team", "resolved_by").order_by(
            "-created_at", "-pk"
        )[:LIST_SHOWN]
    )
    return DisputeListPage(
        tab=tab,
        state=state,
        disputes=rows,
        counts={
            Tab.MINE: disputes_for_tab(user=user, tab=Tab.MINE).count(),
            Tab.QUEUE: disputes_for_tab(user=user, tab=Tab.QUEUE).count(),
        },
        may_flag=may_flag(user),
        may_resolve=may_resolve_any(user),
    )


@dataclass(frozen=True)
class DisputeDetail:
    dispute: ActualDispute
    may_resolve: bool


def dispute_detail(*, user: User, dispute: ActualDispute) -> DisputeDetail:
    return DisputeDetail(
        dispute=dispute,
        may_resolve=dispute.state == DisputeState.OPEN and can_resolve(user, dispute),
    )


def _month_start(month: date | str) -> date:
    if isinstance(month, str):
        year, number = month.split("-")
        return date(int(year), int(number), 1)
    return month.replace(day=1)


def open_disputes_for_unit(unit: OrgUnit | int, month: date | str) -> QuerySet[ActualDispute]:
    """The flags a review of `unit` for `month` takes up: still open, raised in the unit's
    subtree by the end of that month (company time), oldest first.

    `month` is any day of the month, or "2025-05". One query, whatever the number.
    """
    start = _month_start(month)
    next_month = (start + timedelta(days=32)).replace(day=1)
    until = timezone.make_aware(datetime.combine(next_month, time.min))
    unit_id = unit.pk if isinstance(unit, OrgUnit) else unit
    subtree = OrgUnitClosure.objects.filter(ancestor_id=unit_id).values("descendant")
    return (
        ActualDispute.objects.filter(
            state=DisputeState.OPEN, team__in=subtree, created_at__lt=until
        )
        .select_related("author", "deal", "split_user", "team")
        .order_by("created_at", "pk")
    )
