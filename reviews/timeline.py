"""Proposal events for a target's timeline: submitted, approved, rejected, withdrawn."""

from __future__ import annotations

from django.urls import reverse

from reviews.access import proposals_visible_to
from reviews.models import Proposal, ProposalStatus
from targets.models import Target, User
from targets.selectors.timeline import TimelineEvent

# A proposal's history row kind for each status it enters.
PROPOSAL_EVENTS = {
    ProposalStatus.SUBMITTED: "proposal_submitted",
    ProposalStatus.APPROVED: "proposal_approved",
    ProposalStatus.REJECTED: "proposal_rejected",
    ProposalStatus.WITHDRAWN: "proposal_withdrawn",
}


def proposal_events(*, user: User, target: Target) -> list[TimelineEvent]:
    """Every status change of the target's proposals the user may see: one query."""
    rows = (
        Proposal.history.filter(target_id=target.pk, id__in=proposals_visible_to(user).values("pk"))
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    events = []
    last: dict[int, str] = {}
    for row in rows:
        before = last.get(row.id)
        last[row.id] = row.status
        if row.status == before or row.status not in PROPOSAL_EVENTS:
            continue
        decided = row.status in (ProposalStatus.APPROVED, ProposalStatus.REJECTED)
        events.append(
            TimelineEvent(
                when=row.history_date,
                kind=PROPOSAL_EVENTS[row.status],
                who=str(row.history_user) if row.history_user else None,
                base=row.proposed_base,
                stretch=row.proposed_stretch,
                text=row.decision_note if decided else row.explanation,
                link=reverse("proposal-page", args=[row.id]),
            )
        )
    return events
