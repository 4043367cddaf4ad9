"""Review meetings (SPEC §6): create, build the agenda, score, decide, close.

Every write locks the meeting row first and refuses a closed meeting (StateConflict → 409),
so a decision racing the close, or two decisions racing each other, end in one outcome.
A decision is claimed with a conditional UPDATE on the item; `adjust` writes exactly one
target revision — through `proposal_decide` when the item carries a proposal, so a
proposal never has two revision paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alerts.models import NotificationKind
from alerts.services import notify
from reviews import services as proposal_services
from reviews.deviations import cases_close
from reviews.disputes.selectors import open_disputes_for_unit
from reviews.meeting_access import can_chair
from reviews.meeting_models import (
    AgendaItem,
    AgendaKind,
    ItemDecision,
    MeetingState,
    MemberScore,
    ReviewMeeting,
)
from reviews.models import AdjustmentCase, CaseState, DisputeState, Proposal, ProposalStatus
from targets import services as target_services
from targets.access import access_for
from targets.errors import StateConflict, ValidationError, field_error
from targets.figures import Status, figures_for
from targets.models import OrgUnit, OrgUnitClosure, Target, User
from targets.money import MAX_AMOUNT
from targets.periods import Month, PeriodError, Quarter

SCORE_FIELDS = ("market", "customer", "capacity")


def month_parse(label: str) -> Month:
    try:
        return Month.parse(label)
    except PeriodError as error:
        raise field_error("month", str(error)) from error


def previous_month(month: Month) -> Month:
    return Month.of(month.start - timedelta(days=1))


def agenda_as_of(meeting: ReviewMeeting, today: date) -> date:
    """Figures as of the month's end, or today while the month runs."""
    return min(Month.parse(meeting.month).end, today)


def _subtree_targets(unit_id: int) -> QuerySet[Target]:
    subtree = OrgUnitClosure.objects.filter(ancestor=unit_id).values("descendant")
    return Target.objects.filter(Q(owner_unit__in=subtree) | Q(owner_user__team__in=subtree))


def _validate_members(unit: OrgUnit, chair: User, members: list[User]) -> None:
    outsiders = [
        str(m) for m in members if m.pk == chair.pk or not access_for(m).sees_unit(unit.pk)
    ]
    if outsiders:
        raise field_error(
            "members",
            _("These people cannot take part (they do not see this unit's figures): %(names)s")
            % {"names": ", ".join(outsiders)},
        )


def _locked_open(meeting_id: int) -> ReviewMeeting:
    meeting = ReviewMeeting.objects.select_for_update().get(pk=meeting_id)
    if meeting.state != MeetingState.OPEN:
        raise StateConflict(_("This review meeting is closed; its minutes are final."))
    return meeting


def _require_chair(meeting: ReviewMeeting, by: User) -> None:
    if meeting.chair_id != by.pk:
        raise PermissionDenied(_("Only the chair of this review may do this."))


def _notify_members(
    meeting: ReviewMeeting, members: list[User], *, kind: str, by: User, message
) -> None:
    """One notice per member, its words in that member's language (written once, read later)."""
    for member in members:
        with translation.override(member.language or settings.LANGUAGE_CODE):
            note = message(
                {
                    "unit": meeting.unit.name,
                    "month": meeting.month,
                    "chair": str(meeting.chair),
                }
            )
        notify(recipients=[member], kind=kind, actor=by, subject_id=meeting.pk, note=note)


def _invite(meeting: ReviewMeeting, members: list[User], by: User) -> None:
    _notify_members(
        meeting,
        members,
        kind=NotificationKind.REVIEW_INVITED,
        by=by,
        message=lambda words: (
            _(
                "%(chair)s added you to the target-health review of %(unit)s for %(month)s: "
                "score each agenda item on market data, customer feedback and team capacity."
            )
            % words
        ),
    )


@transaction.atomic
def meeting_create(
    *, chair: User, unit: OrgUnit, month: str, members: list[User], today: date
) -> ReviewMeeting:
    if not can_chair(chair, unit.pk):
        raise PermissionDenied(_("Only an HRBP over this unit runs its reviews."))
    parsed = month_parse(month)
    _validate_members(unit, chair, members)
    if ReviewMeeting.objects.filter(unit=unit, month=parsed.label).exists():
        raise field_error("month", _("This unit already has a review for that month."))
    meeting = ReviewMeeting.objects.create(unit=unit, month=parsed.label, chair=chair)
    meeting.members.set(members)
    agenda_refresh(meeting=meeting, by=chair, today=today)
    _invite(meeting, members, chair)
    return meeting


@transaction.atomic
def meeting_update(*, meeting: ReviewMeeting, by: User, members: list[User]) -> ReviewMeeting:
    meeting = _locked_open(meeting.pk)
    _require_chair(meeting, by)
    _validate_members(meeting.unit, by, members)
    before = set(meeting.members.values_list("pk", flat=True))
    meeting.members.set(members)
    _invite(meeting, [m for m in members if m.pk not in before], by)
    return meeting


@transaction.atomic
def meeting_delete(*, meeting: ReviewMeeting, by: User) -> None:
    meeting = _locked_open(meeting.pk)
    _require_chair(meeting, by)
    meeting.delete()


@dataclass(frozen=True)
class AgendaChange:
    added: int
    dropped: int


def _key(row: dict) -> tuple:
    return (
        row["kind"],
        row["target_id"],
        row.get("proposal_id"),
        row.get("case_id"),
        row.get("dispute_id"),
    )


def _dispute_rows(meeting: ReviewMeeting, quarter: Quarter) -> list[dict]:
    """Open flags of the unit, each on its author's target of the quarter (a flag whose
    author has no target that quarter has nothing to review against and waits)."""
    disputes = list(open_disputes_for_unit(meeting.unit_id, meeting.month))
    target_of = dict(
        Target.objects.filter(
            owner_user__in={d.author_id for d in disputes}, period=quarter.label
        ).values_list("owner_user_id", "pk")
    )
    return [
        {"kind": AgendaKind.DISPUTE, "target_id": target_of[d.author_id], "dispute_id": d.pk}
        for d in disputes
        if d.author_id in target_of
    ]


def _still_pending(item: AgendaItem) -> bool:
    """A deferred item comes back unless what it was about has been settled elsewhere."""
    if item.proposal_id is not None:
        return item.proposal.status == ProposalStatus.SUBMITTED
    if item.case_id is not None:
        return item.case.state == CaseState.OPEN
    if item.dispute_id is not None:
        return item.dispute.state == DisputeState.OPEN
    return True


@transaction.atomic
def agenda_refresh(*, meeting: ReviewMeeting, by: User, today: date) -> AgendaChange:
    """Bring the agenda up to date: add what belongs on it and is not there yet, and drop
    what no longer applies (a proposal decided or withdrawn elsewhere, a case or flag
    closed, a target no longer red) unless a member has scored it or the chair decided it.

    Deferred items of the unit's previous review first, then open adjustment cases,
    submitted proposals, open flags, and red targets of the quarter holding the month.
    """
    meeting = _locked_open(meeting.pk)
    _require_chair(meeting, by)
    month = Month.parse(meeting.month)
    quarter = Quarter.of(month.start)
    in_subtree = _subtree_targets(meeting.unit_id)
    wanted: list[dict] = []
    deferred = (
        AgendaItem.objects.filter(
            meeting__unit=meeting.unit_id,
            meeting__month=previous_month(month).label,
            decision=ItemDecision.DEFER,
        )
        .select_related("proposal", "case", "dispute")
        .order_by("position", "pk")
    )
    for item in deferred:
        if not _still_pending(item):
            continue
        wanted.append(
            {
                "kind": item.kind,
                "target_id": item.target_id,
                "proposal_id": item.proposal_id,
                "case_id": item.case_id,
                "dispute_id": item.dispute_id,
                "carried_from": item,
            }
        )
    cases = AdjustmentCase.objects.filter(
        state=CaseState.OPEN, target__in=in_subtree.values("pk")
    ).order_by("opened_at", "pk")
    for case in cases:
        wanted.append({"kind": AgendaKind.CASE, "target_id": case.target_id, "case_id": case.pk})
    proposals = Proposal.objects.filter(
        status=ProposalStatus.SUBMITTED, target__in=in_subtree.values("pk")
    ).order_by("submitted_at", "pk")
    for proposal in proposals:
        wanted.append(
            {
                "kind": AgendaKind.PROPOSAL,
                "target_id": proposal.target_id,
                "proposal_id": proposal.pk,
            }
        )
    wanted.extend(_dispute_rows(meeting, quarter))
    quarter_targets = in_subtree.filter(period=quarter.label).order_by("pk")
    figures = figures_for(quarter_targets, as_of=agenda_as_of(meeting, today))
    present_rows = list(
        meeting.items.values(
            "pk", "kind", "target_id", "proposal_id", "case_id", "dispute_id", "decision"
        ).annotate(scored=Exists(MemberScore.objects.filter(item=OuterRef("pk"))))
    )
    # A red target on the agenda for a case, proposal or flag — or already discussed in this
    # meeting that way — is taken up there, not listed twice.
    on_agenda = {row["target_id"] for row in wanted} | {
        row["target_id"]
        for row in present_rows
        if row["kind"] != AgendaKind.RED_TARGET and (row["decision"] or row["scored"])
    }
    for target_id, fig in figures.items():
        if fig.status == Status.RED and target_id not in on_agenda:
            wanted.append({"kind": AgendaKind.RED_TARGET, "target_id": target_id})

    wanted_keys = {_key(row) for row in wanted}
    stale = [
        row["pk"]
        for row in present_rows
        if _key(row) not in wanted_keys and not row["decision"] and not row["scored"]
    ]
    AgendaItem.objects.filter(pk__in=stale).delete()
    present = {_key(row) for row in present_rows if row["pk"] not in stale}
    new_items = []
    for row in wanted:
        if _key(row) in present:
            continue
        present.add(_key(row))
        new_items.append(
            AgendaItem(
                meeting=meeting,
                kind=row["kind"],
                target_id=row["target_id"],
                proposal_id=row.get("proposal_id"),
                case_id=row.get("case_id"),
                dispute_id=row.get("dispute_id"),
                carried_from=row.get("carried_from"),
            )
        )
    AgendaItem.objects.bulk_create(new_items)
    # Number what stays 1, 2, 3… in its order, the new items after it.
    items = list(meeting.items.order_by(F("position").asc(nulls_last=True), "pk"))
    kept = [i for i in items if i.position]
    fresh = [i for i in items if not i.position]
    for number, each in enumerate(kept + fresh, start=1):
        each.position = number
    AgendaItem.objects.bulk_update(items, ["position"])
    return AgendaChange(added=len(new_items), dropped=len(stale))


@transaction.atomic
def item_move(*, item: AgendaItem, by: User, position: int) -> AgendaItem:
    """Put the item at `position` (1 = first) and number the rest after it."""
    meeting = _locked_open(item.meeting_id)
    _require_chair(meeting, by)
    items = list(meeting.items.order_by("position", "pk"))
    moving = next(i for i in items if i.pk == item.pk)
    items.remove(moving)
    index = max(0, min(position - 1, len(items)))
    items.insert(index, moving)
    for number, each in enumerate(items, start=1):
        each.position = number
    AgendaItem.objects.bulk_update(items, ["position"])
    return moving


def _score(value, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= 5 or str(number) != str(value).strip():
        raise field_error(field, _("Give a score from 1 to 5."))
    return number


@transaction.atomic
def item_score(
    *,
    item: AgendaItem,
    by: User,
    market: int | None = None,
    customer: int | None = None,
    capacity: int | None = None,
    notes: str | None = None,
) -> MemberScore:
    """A participant's own scores and notes on an item (what they leave out stays)."""
    meeting = _locked_open(item.meeting_id)
    if meeting.chair_id != by.pk and not meeting.members.filter(pk=by.pk).exists():
        raise PermissionDenied(_("Only the chair and the members of this review take part."))
    given = {"market": market, "customer": customer, "capacity": capacity}
    values = {f: _score(v, f) for f, v in given.items() if v is not None}
    score, _created = MemberScore.objects.get_or_create(item_id=item.pk, user=by)
    for field, value in values.items():
        setattr(score, field, value)
    if notes is not None:
        score.notes = notes
    score.save()
    return score


def _amounts(new_base: Decimal | None, new_stretch: Decimal | None) -> None:
    errors: dict[str, list[str]] = {}
    if new_base is None:
        errors["new_base"] = [_("Give the new Base to adjust the target.")]
    elif not Decimal(0) <= new_base <= MAX_AMOUNT:
        errors["new_base"] = [_("Give a Base from 0 to 9,999,999,999,999.99.")]
    if new_stretch is None:
        errors["new_stretch"] = [_("Give the new Stretch to adjust the target.")]
    elif new_stretch > MAX_AMOUNT:
        errors["new_stretch"] = [_("Amounts are limited to 9,999,999,999,999.99.")]
    elif new_base is not None and new_stretch < new_base:
        errors["new_stretch"] = [_("Stretch must be at least Base.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def item_decide(
    *,
    item: AgendaItem,
    by: User,
    decision: str,
    new_base: Decimal | None = None,
    new_stretch: Decimal | None = None,
    notes: str = "",
) -> AgendaItem:
    """The chair's decision: keep, adjust (one revision, exactly once) or defer.

    Keep or defer may be changed until the meeting closes; once an item is adjusted (or a
    proposal on it rejected by `keep`) the decision is final.
    """
    meeting = _locked_open(item.meeting_id)
    _require_chair(meeting, by)
    if decision not in ItemDecision.values:
        raise field_error("decision", _("Decide keep, adjust or defer."))
    item = AgendaItem.objects.select_related("target", "proposal").get(pk=item.pk)
    proposal = item.proposal
    if decision == ItemDecision.ADJUST:
        if proposal is not None:
            if (new_base is not None and new_base != proposal.proposed_base) or (
                new_stretch is not None and new_stretch != proposal.proposed_stretch
            ):
                raise field_error(
                    "new_base",
                    _(
                        "Adjusting approves the proposal at its proposed amounts (%(base)s / %(stretch)s)."
                    )
                    % {"base": proposal.proposed_base, "stretch": proposal.proposed_stretch},
                )
            new_base, new_stretch = proposal.proposed_base, proposal.proposed_stretch
        _amounts(new_base, new_stretch)
    else:
        new_base = new_stretch = None
    changeable = ["", ItemDecision.DEFER] + ([] if proposal is not None else [ItemDecision.KEEP])
    decided_at = timezone.now()
    claimed = AgendaItem.objects.filter(pk=item.pk, decision__in=changeable).update(
        decision=decision,
        new_base=new_base,
        new_stretch=new_stretch,
        notes=notes,
        decided_by=by,
        decided_at=decided_at,
    )
    if not claimed:
        raise StateConflict(_("This item has already been decided; the decision is final."))
    review = _("Review meeting %(unit)s %(month)s") % {
        "unit": meeting.unit.name,
        "month": meeting.month,
    }
    if decision == ItemDecision.ADJUST:
        if proposal is not None:
            decided = proposal_services.proposal_decide(
                proposal=proposal, by=by, decision="approve", note=notes or review
            )
            revision = decided.revision
        else:
            revision = target_services.target_revise(
                target=item.target,
                base=new_base,
                stretch=new_stretch,
                reason=f"{review}: {notes}" if notes else review,
                decided_by=by,
                decided_at=decided_at,
            )
        AgendaItem.objects.filter(pk=item.pk).update(revision=revision)
    elif decision == ItemDecision.KEEP and proposal is not None:
        proposal_services.proposal_decide(
            proposal=proposal,
            by=by,
            decision="reject",
            note=notes or _("%(review)s kept the target as it is.") % {"review": review},
        )
    return AgendaItem.objects.select_related("target", "proposal", "revision").get(pk=item.pk)


@transaction.atomic
def meeting_close(*, meeting: ReviewMeeting, by: User, today: date) -> ReviewMeeting:
    """Close the meeting and freeze its minutes."""
    from reviews.minutes import minutes_data

    meeting = _locked_open(meeting.pk)
    _require_chair(meeting, by)
    closed_at = timezone.now()
    claimed = ReviewMeeting.objects.filter(pk=meeting.pk, state=MeetingState.OPEN).update(
        state=MeetingState.CLOSED, closed_at=closed_at
    )
    if not claimed:
        raise StateConflict(_("This review meeting is closed; its minutes are final."))
    meeting.refresh_from_db()
    meeting.minutes = minutes_data(meeting, today=today, live=True)
    meeting.save(update_fields=["minutes"])
    # A case the review kept or adjusted is settled; a deferred one stays open for next month.
    cases_close(
        case_ids=list(
            meeting.items.filter(
                case__isnull=False, decision__in=[ItemDecision.KEEP, ItemDecision.ADJUST]
            ).values_list("case_id", flat=True)
        )
    )
    _notify_members(
        meeting,
        list(meeting.members.all()),
        kind=NotificationKind.REVIEW_CLOSED,
        by=by,
        message=lambda words: (
            _(
                "The target-health review of %(unit)s for %(month)s is closed; its minutes are "
                "final and ready to download."
            )
            % words
        ),
    )
    return meeting
