"""Adjustment proposals (SPEC §6): draft → submitted → approved | rejected, or withdrawn.

Each transition is claimed with a conditional UPDATE on the current status, so of two
people acting at once exactly one wins and the other is told (StateConflict → 409).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.models import NotificationKind
from alerts.services import notify
from reviews.access import deciders_of
from reviews.attachments import KINDS, attachment_check, attachment_name_clean
from reviews.models import DeviationSettings, Proposal, ProposalReason, ProposalStatus
from reviews.signals import proposal_submitted
from targets import services as target_services
from targets.errors import StateConflict, ValidationError, field_error
from targets.models import Target, User
from targets.money import MAX_AMOUNT


class Decision:
    APPROVE = "approve"
    REJECT = "reject"
    CHOICES = (APPROVE, REJECT)


def _validate(*, base: Decimal, stretch: Decimal, reason: str, attachment=None) -> str | None:
    """Raise every field's errors at once; the attachment's checked kind otherwise."""
    errors: dict[str, list[str]] = {}
    kind = _attachment_kind(attachment, errors)
    if base < 0:
        errors["proposed_base"] = [_("Base cannot be negative.")]
    elif base > MAX_AMOUNT:
        errors["proposed_base"] = [_("Amounts are limited to 9,999,999,999,999.99.")]
    if stretch > MAX_AMOUNT:
        errors["proposed_stretch"] = [_("Amounts are limited to 9,999,999,999,999.99.")]
    elif stretch < base:
        errors["proposed_stretch"] = [_("Stretch must be at least Base.")]
    if reason not in ProposalReason.values:
        errors["reason"] = [_("Choose one of the listed reasons.")]
    if errors:
        raise ValidationError(errors)
    return kind


def _attachment_kind(attachment, errors: dict[str, list[str]] | None = None) -> str | None:
    """Check an upload before anything is written; its errors join `errors` when given."""
    if attachment is None:
        return None
    try:
        return attachment_check(attachment)
    except ValidationError as error:
        if errors is None:
            raise
        errors.update(error.message_dict)
        return None


def _attach(proposal: Proposal, attachment, kind: str) -> None:
    """Store the checked upload under the proposal's folder, under a name we choose."""
    old = proposal.attachment.name if proposal.attachment else ""
    proposal.attachment_name = attachment_name_clean(attachment.name, kind=kind)
    proposal.attachment.save(f"attachment.{KINDS[kind][0]}", attachment, save=False)
    if old and old != proposal.attachment.name:
        storage = proposal.attachment.storage
        transaction.on_commit(lambda: storage.delete(old))


@transaction.atomic
def proposal_create(
    *,
    author: User,
    target: Target,
    proposed_base: Decimal,
    proposed_stretch: Decimal,
    reason: str,
    explanation: str = "",
    attachment=None,
    submit: bool = False,
) -> Proposal:
    """A draft (or, with `submit`, a submitted proposal); `attachment` an uploaded file,
    checked by content before anything is written."""
    kind = _validate(
        base=proposed_base, stretch=proposed_stretch, reason=reason, attachment=attachment
    )
    proposal = Proposal(
        target=target,
        author=author,
        proposed_base=proposed_base,
        proposed_stretch=proposed_stretch,
        reason=reason,
        explanation=explanation,
    )
    proposal._history_user = author
    proposal.save()
    if kind is not None:
        # The folder is the proposal's: it has an id only now.
        _attach(proposal, attachment, kind)
        proposal.skip_history_when_saving = True
        proposal.save(update_fields=["attachment", "attachment_name"])
        del proposal.skip_history_when_saving
        proposal.history.filter(history_type="+").update(
            attachment=proposal.attachment.name, attachment_name=proposal.attachment_name
        )
    if submit:
        proposal = proposal_submit(proposal=proposal, by=author)
    return proposal


@transaction.atomic
def proposal_update(
    *,
    proposal: Proposal,
    by: User,
    proposed_base: Decimal | None = None,
    proposed_stretch: Decimal | None = None,
    reason: str | None = None,
    explanation: str | None = None,
    attachment=None,
) -> Proposal:
    """Change a draft; once submitted it is the reviewers' to decide. An `attachment`
    replaces the one kept so far."""
    current = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if current.author_id != by.pk:
        raise StateConflict(_("Only the author may change this proposal."))
    if current.status != ProposalStatus.DRAFT:
        raise StateConflict(_("Only a draft can be changed."))
    if proposed_base is not None:
        current.proposed_base = proposed_base
    if proposed_stretch is not None:
        current.proposed_stretch = proposed_stretch
    if reason is not None:
        current.reason = reason
    if explanation is not None:
        current.explanation = explanation
    kind = _validate(
        base=current.proposed_base,
        stretch=current.proposed_stretch,
        reason=current.reason,
        attachment=attachment,
    )
    if kind is not None:
        _attach(current, attachment, kind)
    current._history_user = by
    current.save()
    return current


@transaction.atomic
def proposal_delete(*, proposal: Proposal, by: User) -> None:
    stored = proposal.attachment.name if proposal.attachment else ""
    deleted, _rows = Proposal.objects.filter(
        pk=proposal.pk, author=by, status=ProposalStatus.DRAFT
    ).delete()
    if not deleted:
        raise StateConflict(_("Only the author's draft can be deleted."))
    if stored:
        storage = proposal.attachment.storage
        transaction.on_commit(lambda: storage.delete(stored))


def _claim(
    proposal: Proposal, *, by: User, from_status: tuple[str, ...], message: str, **changes
) -> Proposal:
    claimed = Proposal.objects.filter(pk=proposal.pk, status__in=from_status).update(
        updated_at=timezone.now(), **changes
    )
    if not claimed:
        current = Proposal.objects.filter(pk=proposal.pk).values_list("status", flat=True).first()
        raise StateConflict(message % {"status": ProposalStatus(current).label if current else "—"})
    proposal = Proposal.objects.select_related("target", "author").get(pk=proposal.pk)
    # A conditional UPDATE sends no save signal: the audit row is written here.
    Proposal.history.bulk_history_create([proposal], update=True, default_user=by)
    return proposal


@transaction.atomic
def proposal_submit(*, proposal: Proposal, by: User) -> Proposal:
    if proposal.author_id != by.pk:
        raise StateConflict(_("Only the author may submit this proposal."))
    proposal = _claim(
        proposal,
        by=by,
        from_status=(ProposalStatus.DRAFT,),
        message=_("Only a draft can be submitted; this proposal is %(status)s."),
        status=ProposalStatus.SUBMITTED,
        submitted_at=timezone.now(),
    )
    notify(
        recipients=deciders_of(proposal.target),
        kind=NotificationKind.PROPOSAL_SUBMITTED,
        actor=by,
        target=proposal.target,
        subject_id=proposal.pk,
    )
    proposal_submitted.send(sender=Proposal, proposal=proposal)
    return proposal


@transaction.atomic
def proposal_withdraw(*, proposal: Proposal, by: User) -> Proposal:
    if proposal.author_id != by.pk:
        raise StateConflict(_("Only the author may withdraw this proposal."))
    return _claim(
        proposal,
        by=by,
        from_status=(ProposalStatus.DRAFT, ProposalStatus.SUBMITTED),
        message=_("Only an undecided proposal can be withdrawn; this one is %(status)s."),
        status=ProposalStatus.WITHDRAWN,
    )


@transaction.atomic
def proposal_decide(*, proposal: Proposal, by: User, decision: str, note: str = "") -> Proposal:
    """Approve (writing a target revision) or reject (with a note), exactly once."""
    if decision not in Decision.CHOICES:
        raise field_error("decision", _("Decide 'approve' or 'reject'."))
    if decision == Decision.REJECT and not note.strip():
        raise field_error("note", _("Say why the proposal is rejected."))
    if proposal.author_id == by.pk:
        raise StateConflict(_("Nobody decides their own proposal."))
    approve = decision == Decision.APPROVE
    proposal = _claim(
        proposal,
        by=by,
        from_status=(ProposalStatus.SUBMITTED,),
        message=_("This proposal has already been decided or withdrawn (it is %(status)s)."),
        status=ProposalStatus.APPROVED if approve else ProposalStatus.REJECTED,
        decided_by=by,
        decided_at=timezone.now(),
        decision_note=note,
    )
    if approve:
        reason = proposal.get_reason_display()
        if proposal.explanation:
            reason = f"{reason}: {proposal.explanation}"
        revision = target_services.target_revise(
            target=proposal.target,
            base=proposal.proposed_base,
            stretch=proposal.proposed_stretch,
            reason=reason,
            decided_by=by,
            decided_at=proposal.decided_at,
        )
        proposal.revision = revision
        # Linking the revision is part of the decision recorded above, not a change of its own.
        proposal.skip_history_when_saving = True
        proposal.save(update_fields=["revision"])
        del proposal.skip_history_when_saving
    notify(
        recipients=[proposal.author],
        kind=NotificationKind.PROPOSAL_APPROVED if approve else NotificationKind.PROPOSAL_REJECTED,
        actor=by,
        target=proposal.target,
        subject_id=proposal.pk,
        note=note,
    )
    return proposal


@transaction.atomic
def deviation_settings_save(
    *, company, threshold_percent: Decimal, weeks: int
) -> DeviationSettings:
    """A company's deviation trigger: how far off plan (strictly above), how many weeks."""
    deviation_settings_validate(company=company, threshold_percent=threshold_percent, weeks=weeks)
    settings, _created = DeviationSettings.objects.update_or_create(
        company=company, defaults={"threshold_percent": threshold_percent, "weeks": weeks}
    )
    return settings


def deviation_settings_validate(*, company, threshold_percent: Decimal, weeks: int) -> None:
    errors: dict[str, list[str]] = {}
    if company.parent_id is not None:
        errors["company"] = [_("Settings belong to a company, the root of a tree.")]
    if not Decimal(0) < threshold_percent <= Decimal(1000):
        errors["threshold_percent"] = [_("Give a threshold above 0 and at most 1000 percent.")]
    if not 1 <= weeks <= 12:
        errors["weeks"] = [_("Give between 1 and 12 weeks.")]
    if errors:
        raise ValidationError(errors)
