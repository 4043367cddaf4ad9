"""Flags on wrong actuals (issue 6 §5): a rep raises one, a manager resolves it exactly once.

The resolution is claimed with a conditional UPDATE on the open state, so of two managers
resolving at once exactly one wins and the other is told (StateConflict → 409). Nothing in
the actuals changes here: a correction is made at the deal's source (or by a manual entry),
and the flag records that it was.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.models import NotificationKind
from alerts.services import notify
from reviews.disputes.access import resolvers_of
from reviews.models import ActualDispute, DisputeKind, DisputeState
from targets.errors import StateConflict, ValidationError, field_error
from targets.models import Credit, Deal, Measure, Target, TeamMembership, User
from targets.money import CENT, MAX_AMOUNT
from targets.periods import Quarter

RESOLUTIONS = (DisputeState.CORRECTED, DisputeState.REJECTED)
COMMENT_MAX = 4000


def _team_on(user: User, day: date) -> int | None:
    """The rep's team on `day`, by the rule `credits_assign_teams` tags credits with (the
    earliest membership not ended before that day); else today's team."""
    team_id = (
        TeamMembership.objects.filter(user=user)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .order_by("valid_from")
        .values_list("team_id", flat=True)
        .first()
    )
    return team_id or user.team_id


def _target_of(user: User, day: date) -> Target | None:
    """The rep's own target for the quarter of `day`: the notice links to it."""
    return Target.objects.filter(
        owner_user=user, period=Quarter.of(day).label, measure=Measure.REVENUE
    ).first()


def _validate_missing(
    *, account: str, amount: Decimal | None, close_date: date | None, today: date
) -> None:
    errors: dict[str, list[str]] = {}
    if not account.strip():
        errors["account"] = [_("Name the customer account of the missing deal.")]
    if amount is None:
        errors["amount"] = [_("Give the missing deal's amount.")]
    elif amount <= 0:
        errors["amount"] = [_("The amount must be above zero.")]
    elif amount > MAX_AMOUNT:
        errors["amount"] = [_("Amounts are limited to 9,999,999,999,999.99.")]
    if close_date is None:
        errors["close_date"] = [_("Give the missing deal's close date.")]
    elif close_date > today:
        errors["close_date"] = [_("A won deal cannot close after today.")]
    elif close_date < Quarter.of(today).previous().start:
        errors["close_date"] = [
            _("Flag deals that closed on or after %(earliest)s.")
            % {"earliest": Quarter.of(today).previous().start.isoformat()}
        ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def dispute_create(
    *,
    author: User,
    kind: str,
    comment: str,
    deal: Deal | None = None,
    split_user: User | None = None,
    account: str = "",
    amount: Decimal | None = None,
    close_date: date | None = None,
    today: date | None = None,
) -> ActualDispute:
    """Flag `deal` (or the split of `split_user` in it) as wrong, or a deal as missing.

    The caller has checked the author may flag the deal (`access.can_flag_deal`).
    """
    today = today or timezone.localdate()
    if kind not in DisputeKind.values:
        raise field_error("kind", _("Choose one of the listed kinds."))
    if not comment.strip():
        raise field_error("comment", _("Say what is wrong."))
    if len(comment) > COMMENT_MAX:
        raise field_error("comment", _("Keep the comment under 4,000 characters."))
    if kind == DisputeKind.MISSING_DEAL:
        if deal is not None or split_user is not None:
            raise field_error("deal", _("A missing deal is named by account, amount and date."))
        _validate_missing(account=account, amount=amount, close_date=close_date, today=today)
        day = close_date
    else:
        if deal is None:
            raise field_error("deal", _("Choose the deal that is wrong."))
        credits = {c.user_id: c for c in Credit.objects.filter(deal=deal)}
        if split_user is not None and split_user.pk not in credits:
            raise field_error("split_user", _("This rep holds no share of the deal."))
        account, amount, day = deal.account, deal.amount, deal.close_date
    own_credit = None if kind == DisputeKind.MISSING_DEAL else credits.get(author.pk)
    team_id = own_credit.team_id if own_credit and own_credit.team_id else _team_on(author, day)
    if team_id is None:
        raise field_error("deal", _("You belong to no team, so nobody could resolve this flag."))
    try:
        with transaction.atomic():
            dispute = ActualDispute(
                author=author,
                kind=kind,
                deal=deal,
                split_user=split_user,
                team_id=team_id,
                account=account.strip(),
                amount=amount.quantize(CENT),
                close_date=day,
                comment=comment.strip(),
            )
            dispute._history_user = author
            dispute.save()
    except IntegrityError:
        raise field_error(
            "deal", _("You have already flagged this deal for this; it is still open.")
        ) from None
    notify(
        recipients=resolvers_of(dispute),
        kind=NotificationKind.DISPUTE_OPENED,
        actor=author,
        target=_target_of(author, day),
        subject_id=dispute.pk,
        note=dispute.comment,
    )
    return dispute


@transaction.atomic
def dispute_resolve(
    *, dispute: ActualDispute, by: User, resolution: str, note: str = ""
) -> ActualDispute:
    """Close an open flag as corrected or rejected (a rejection says why), exactly once."""
    if resolution not in RESOLUTIONS:
        raise field_error("resolution", _("Resolve as 'corrected' or 'rejected'."))
    if resolution == DisputeState.REJECTED and not note.strip():
        raise field_error("note", _("Say why the flag is rejected."))
    if len(note) > COMMENT_MAX:
        raise field_error("note", _("Keep the note under 4,000 characters."))
    if dispute.author_id == by.pk:
        raise StateConflict(_("Nobody resolves their own flag."))
    now = timezone.now()
    claimed = ActualDispute.objects.filter(pk=dispute.pk, state=DisputeState.OPEN).update(
        state=resolution,
        resolved_by=by,
        resolved_at=now,
        resolution_note=note.strip(),
        updated_at=now,
    )
    if not claimed:
        current = (
            ActualDispute.objects.filter(pk=dispute.pk).values_list("state", flat=True).first()
        )
        raise StateConflict(
            _("This flag has already been resolved (%(state)s).")
            % {"state": DisputeState(current).label if current else "—"}
        )
    dispute = ActualDispute.objects.select_related("author", "deal", "team", "resolved_by").get(
        pk=dispute.pk
    )
    # A conditional UPDATE sends no save signal: the audit row is written here.
    ActualDispute.history.bulk_history_create([dispute], update=True, default_user=by)
    notify(
        recipients=[dispute.author],
        kind=NotificationKind.DISPUTE_RESOLVED,
        actor=by,
        target=_target_of(dispute.author, dispute.close_date),
        subject_id=dispute.pk,
        note=dispute.resolution_note,
    )
    return dispute
