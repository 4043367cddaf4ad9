"""Reads for review meetings: the list, the agenda with figures and scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch, QuerySet

from reviews.meeting_access import is_participant, meetings_visible_to
from reviews.meeting_models import AgendaItem, MemberScore, ReviewMeeting
from reviews.meetings import SCORE_FIELDS, agenda_as_of
from targets.figures import Figures, figures_for
from targets.models import User

TENTH = Decimal("0.1")


def mean_scores(scores: list[MemberScore]) -> dict[str, Decimal | None]:
    """Each indicator group's mean over the members who scored it (1 decimal)."""
    means: dict[str, Decimal | None] = {}
    for name in SCORE_FIELDS:
        values = [getattr(s, name) for s in scores if getattr(s, name) is not None]
        means[name] = (
            (Decimal(sum(values)) / len(values)).quantize(TENTH, ROUND_HALF_UP) if values else None
        )
    return means


@dataclass
class AgendaRow:
    item: AgendaItem
    number: int
    figures: Figures | None
    scores: dict[str, Decimal | None]
    member_scores: list[MemberScore]
    mine: MemberScore | None = None
    extra: dict = field(default_factory=dict)


def items_with_scores(meeting: ReviewMeeting) -> QuerySet[AgendaItem]:
    return (
        meeting.items.select_related(
            "target",
            "target__owner_unit",
            "target__owner_user",
            "proposal",
            "proposal__author",
            "case",
            "dispute",
            "dispute__author",
            "decided_by",
            "revision",
            "carried_from__meeting",
        )
        .prefetch_related(
            Prefetch("scores", queryset=MemberScore.objects.select_related("user").order_by("id"))
        )
        .order_by("position", "pk")
    )


def agenda_rows(
    *, meeting: ReviewMeeting, today: date, user: User | None = None
) -> list[AgendaRow]:
    items = list(items_with_scores(meeting))
    figures = (
        figures_for([i.target for i in items], as_of=agenda_as_of(meeting, today)) if items else {}
    )
    rows = []
    for number, item in enumerate(items, start=1):
        scores = list(item.scores.all())
        rows.append(
            AgendaRow(
                item=item,
                number=number,
                figures=figures.get(item.target_id),
                scores=mean_scores(scores),
                member_scores=scores,
                mine=next((s for s in scores if user and s.user_id == user.pk), None),
            )
        )
    return rows


@dataclass
class MeetingPage:
    meeting: ReviewMeeting
    members: list[User]
    rows: list[AgendaRow]
    is_chair: bool
    is_participant: bool
    as_of: date


def meeting_page(*, meeting: ReviewMeeting, user: User, today: date) -> MeetingPage:
    return MeetingPage(
        meeting=meeting,
        members=list(meeting.members.order_by("username")),
        rows=agenda_rows(meeting=meeting, today=today, user=user),
        is_chair=meeting.chair_id == user.pk,
        is_participant=is_participant(user, meeting),
        as_of=agenda_as_of(meeting, today),
    )


def meeting_list(*, user: User) -> QuerySet[ReviewMeeting]:
    return (
        meetings_visible_to(user)
        .select_related("unit", "chair")
        .annotate(item_count=Count("items", distinct=True))
        .order_by("-month", "-pk")
    )
