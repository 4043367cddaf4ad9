"""A target's audit timeline (issue 6 §7): who changed what, when, before and after.

Read from the target's own history (django-simple-history), its revisions and the manual
deals confirmed into its actual, in a fixed number of queries whatever the history's length.
Apps built on the core (proposals) add their own events beside these; the core reads only
its own tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q

from targets.access import deals_visible_to
from targets.models import Credit, DealSource, OrgUnitClosure, Target, User


class EventKind:
    CREATED = "created"
    AMOUNTS = "amounts"  # set again before its period started
    REVISION = "revision"  # an approved adjustment after the lock
    DEAL_CONFIRMED = "deal_confirmed"


@dataclass(frozen=True)
class TimelineEvent:
    when: datetime
    kind: str
    who: str | None  # None: the system (sync, import, a command)
    base_before: Decimal | None = None
    stretch_before: Decimal | None = None
    base: Decimal | None = None
    stretch: Decimal | None = None
    text: str = ""  # a revision's reason, a decision's note, a deal's account
    amount: Decimal | None = None
    link: str = ""


# Deal confirmations shown: the latest ones (the deals table lists them all).
CONFIRMATIONS_SHOWN = 20


def _name(user: User | None) -> str | None:
    return str(user) if user is not None else None


def target_timeline(*, user: User, target: Target) -> list[TimelineEvent]:
    """The target's own events, newest first: three queries."""
    events: list[TimelineEvent] = []
    previous = None
    history = target.history.select_related("history_user").order_by("history_date", "history_id")
    for row in history:
        if row.history_type == "+":
            events.append(
                TimelineEvent(
                    when=row.history_date,
                    kind=EventKind.CREATED,
                    who=_name(row.history_user),
                    base=row.original_base,
                    stretch=row.original_stretch,
                )
            )
        elif previous is not None and (row.original_base, row.original_stretch) != (
            previous.original_base,
            previous.original_stretch,
        ):
            # The originals change only while the target may still be set; a revision keeps
            # them and is told from its own record below.
            events.append(
                TimelineEvent(
                    when=row.history_date,
                    kind=EventKind.AMOUNTS,
                    who=_name(row.history_user),
                    base_before=previous.original_base,
                    stretch_before=previous.original_stretch,
                    base=row.original_base,
                    stretch=row.original_stretch,
                )
            )
        previous = row
    for revision in target.revisions.select_related("decided_by"):
        events.append(
            TimelineEvent(
                when=revision.decided_at,
                kind=EventKind.REVISION,
                who=_name(revision.decided_by),
                base_before=revision.base_before,
                stretch_before=revision.stretch_before,
                base=revision.base_after,
                stretch=revision.stretch_after,
                text=revision.reason,
            )
        )
    credits = Credit.objects.filter(
        close_date__gte=target.period_start,
        close_date__lte=target.period_end,
        deal__source=DealSource.MANUAL,
        deal__confirmed_at__isnull=False,
    )
    if target.owner_user_id:
        credits = credits.filter(user_id=target.owner_user_id)
    else:
        subtree = OrgUnitClosure.objects.filter(ancestor_id=target.owner_unit_id)
        credits = credits.filter(team__in=subtree.values("descendant"))
    # Only deals the viewer may see (a rep who moved may hold shares won elsewhere).
    credits = credits.filter(Q(deal__in=deals_visible_to(user).values("pk")))
    for credit in credits.select_related("deal", "deal__confirmed_by").order_by(
        "-deal__confirmed_at", "-id"
    )[:CONFIRMATIONS_SHOWN]:
        events.append(
            TimelineEvent(
                when=credit.deal.confirmed_at,
                kind=EventKind.DEAL_CONFIRMED,
                who=_name(credit.deal.confirmed_by),
                text=credit.deal.account,
                amount=Decimal(credit.amount_cents) / 100,
            )
        )
    return sorted(events, key=lambda e: e.when, reverse=True)
