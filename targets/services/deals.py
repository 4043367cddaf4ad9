"""Deal writes: manual entry and its confirmation, the per-record upsert, removals."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.errors import StateConflict, ValidationError, field_error
from targets.models import Credit, Deal, DealRemoval, DealSource, Role, User
from targets.money import CENT, MAX_AMOUNT
from targets.periods import Quarter
from targets.recompute import recompute_soon

from .org import credits_assign_teams


@dataclass(frozen=True)
class Split:
    user: User
    percent: Decimal


def validate_splits(splits: Sequence[Split]) -> None:
    if not splits:
        raise field_error("splits", _("Give at least one rep."))
    if len({s.user.pk for s in splits}) != len(splits):
        raise field_error("splits", _("Each rep may appear only once."))
    if any(s.percent <= 0 or s.percent > 100 for s in splits):
        raise field_error("splits", _("Each share must be above 0 and at most 100 percent."))
    if sum(s.percent for s in splits) != 100:
        raise field_error("splits", _("The shares must sum to 100 percent."))


def share_cents(total_cents: int, splits: Sequence[Split]) -> list[int]:
    """Each rep's whole cents; leftover cents go to the largest shares so the sum is exact."""
    shares = [
        int((Decimal(total_cents) * s.percent / 100).to_integral_value(ROUND_DOWN)) for s in splits
    ]
    leftover = total_cents - sum(shares)
    order = sorted(range(len(splits)), key=lambda i: -splits[i].percent)
    for i in order[:leftover]:
        shares[i] += 1
    return shares


def deal_save_credits(*, deal: Deal, splits: Sequence[Split] | None = None) -> None:
    """Rewrite the deal's credit rows from its splits (default: 100 % to the owner)."""
    if splits is None:
        # Keep a shared deal's splits; a sole owner's credit follows the owner.
        existing = list(deal.credits.select_related("user"))
        if len(existing) > 1:
            splits = [Split(c.user, c.percent) for c in existing]
        else:
            splits = [Split(deal.owner, Decimal(100))]
    validate_splits(splits)
    total_cents = int((deal.amount * 100).to_integral_value())
    counts = deal.won and deal.confirmed
    close_month = deal.close_date.replace(day=1)
    deal.credits.all().delete()
    Credit.objects.bulk_create(
        Credit(
            deal=deal,
            user=split.user,
            percent=split.percent,
            amount_cents=cents,
            close_date=deal.close_date,
            close_month=close_month,
            counts=counts,
        )
        for split, cents in zip(splits, share_cents(total_cents, splits), strict=True)
    )
    credits_assign_teams(Credit.objects.filter(deal=deal))


def validate_deal_fields(*, amount: Decimal, external_id: str, account: str) -> None:
    errors: dict[str, list[str]] = {}
    if amount < 0:
        errors["amount"] = [_("The amount cannot be negative.")]
    elif amount > MAX_AMOUNT:
        errors["amount"] = [_too_large()]
    if not account.strip():
        errors["account"] = [_("Name the customer account.")]
    if not external_id.strip():
        errors["external_id"] = [_("The external id cannot be empty.")]
    if errors:
        raise ValidationError(errors)


def _too_large() -> str:
    return _("Amounts are limited to 9,999,999,999,999.99.")


@transaction.atomic
def deal_upsert(
    *,
    source: str,
    external_id: str,
    account: str,
    owner: User,
    amount: Decimal,
    close_date: date,
    won: bool,
    stage: str = "",
    source_modified_at: datetime | None = None,
    splits: Sequence[Split] | None = None,
) -> tuple[Deal, bool]:
    """Create or update a synced or imported deal by (source, external id): idempotent.

    Manual deals never come through here: they are insert-only (`deal_create_manual`).
    """
    if source not in DealSource.values or source == DealSource.MANUAL:
        raise field_error("source", _("Unknown source '%(source)s'.") % {"source": source})
    validate_deal_fields(amount=amount, external_id=external_id, account=account)
    amount = amount.quantize(CENT)
    deal, created = Deal.objects.select_for_update().get_or_create(
        source=source,
        external_id=external_id,
        defaults={
            "account": account,
            "owner": owner,
            "amount": amount,
            "close_date": close_date,
            "won": won,
            "stage": stage,
            "source_modified_at": source_modified_at,
        },
    )
    if not created:
        deal.account, deal.owner, deal.amount = account, owner, amount
        deal.close_date, deal.won, deal.stage = close_date, won, stage
        deal.source_modified_at = source_modified_at
        deal.save()
    deal_save_credits(deal=deal, splits=splits)
    return deal, created


def manual_deal_close_date_range(today: date) -> tuple[date, date]:
    """A won manual deal closes from the previous quarter's first day through today (SPEC §4).

    Older history comes by import, where it has a source to trace it to.
    """
    return Quarter.of(today).previous().start, today


def _validate_manual(
    *, amount: Decimal, close_date: date, won: bool, splits: Sequence[Split], today: date
) -> None:
    errors: dict[str, list[str]] = {}
    if amount <= 0:
        errors["amount"] = [_("The amount must be above zero.")]
    if won:
        earliest, latest = manual_deal_close_date_range(today)
        if close_date > latest:
            errors["close_date"] = [_("A won deal cannot close after today.")]
        elif close_date < earliest:
            errors["close_date"] = [
                _(
                    "A manual deal closes on or after %(earliest)s; import older history "
                    "from its source instead."
                )
                % {"earliest": earliest.isoformat()}
            ]
    reps = {s.user.pk for s in splits}
    eligible = set(
        User.objects.filter(
            pk__in=reps, is_active=True, team__isnull=False, role_assignments__role=Role.REP
        ).values_list("pk", flat=True)
    )
    strangers = [s.user for s in splits if s.user.pk not in eligible]
    if strangers:
        errors["splits"] = [
            _("Only active sales reps can be credited: %(names)s.")
            % {"names": ", ".join(str(u) for u in strangers)}
        ]
    if errors:
        raise ValidationError(errors)


def deal_check_manual(
    *,
    account: str,
    owner: User,
    amount: Decimal,
    close_date: date,
    won: bool = True,
    external_id: str = "",
    splits: Sequence[Split] | None = None,
    today: date | None = None,
) -> None:
    """What `deal_create_manual` would refuse, without writing: for forms that validate
    before they save (the admin). Raises the same ValidationError.
    """
    today = today or timezone.localdate()
    splits = [Split(owner, Decimal(100))] if splits is None else list(splits)
    validate_deal_fields(amount=amount, external_id=external_id or "M-", account=account)
    validate_splits(splits)
    _validate_manual(amount=amount, close_date=close_date, won=won, splits=splits, today=today)
    if (
        external_id
        and Deal.objects.filter(source=DealSource.MANUAL, external_id=external_id).exists()
    ):
        raise field_error("external_id", _("A manual deal with this id already exists."))


@transaction.atomic
def deal_create_manual(
    *,
    author: User,
    account: str,
    owner: User,
    amount: Decimal,
    close_date: date,
    won: bool = True,
    stage: str = "",
    external_id: str = "",
    splits: Sequence[Split] | None = None,
    today: date | None = None,
) -> Deal:
    """A hand-entered deal: insert-only, and it counts only after someone else confirms it."""
    today = today or timezone.localdate()
    splits = [Split(owner, Decimal(100))] if splits is None else list(splits)
    if not external_id:
        # The day for people, a random part so two entries of one instant never collide
        # (a timestamp alone did, and the second was then refused as a duplicate).
        external_id = f"M-{timezone.localdate():%Y%m%d}-{secrets.token_hex(6).upper()}"
    validate_deal_fields(amount=amount, external_id=external_id, account=account)
    validate_splits(splits)
    _validate_manual(amount=amount, close_date=close_date, won=won, splits=splits, today=today)
    deal = Deal(
        source=DealSource.MANUAL,
        external_id=external_id,
        account=account,
        owner=owner,
        amount=amount.quantize(CENT),
        close_date=close_date,
        won=won,
        stage=stage,
        created_by=author,
    )
    deal._history_user = author
    try:
        # Insert, never update: a second entry with the same id (even a racing one) is refused.
        with transaction.atomic():
            deal.save(force_insert=True)
    except IntegrityError:
        raise field_error("external_id", _("A manual deal with this id already exists.")) from None
    deal_save_credits(deal=deal, splits=splits)
    return deal


@transaction.atomic
def deal_confirm(*, deal: Deal, confirmed_by: User) -> Deal:
    if deal.created_by_id == confirmed_by.pk:
        raise StateConflict(_("The author of a manual deal cannot confirm it."))
    # Claim the confirmation once, even if two managers click at the same moment; the
    # author condition is part of the claim, so no later change of rows can slip past it.
    claimed = (
        Deal.objects.filter(pk=deal.pk, source=DealSource.MANUAL, confirmed_by__isnull=True)
        .exclude(created_by=confirmed_by)
        .update(confirmed_by=confirmed_by, confirmed_at=timezone.now())
    )
    if not claimed:
        raise StateConflict(_("This deal needs no confirmation or is already confirmed."))
    deal.refresh_from_db()
    # A conditional UPDATE sends no save signal: the audit row is written here.
    deal._history_user = confirmed_by
    Deal.history.bulk_history_create([deal], update=True)
    Credit.objects.filter(deal=deal).update(counts=deal.won)
    recompute_soon()
    return deal


@transaction.atomic
def deal_remove(*, deal: Deal, reason: str, removed_by: User | None = None) -> DealRemoval:
    """Take a deal out of actuals, keeping a record of what it was and why (SPEC §4)."""
    removal = DealRemoval.objects.create(
        source=deal.source,
        external_id=deal.external_id,
        account=deal.account,
        owner=deal.owner,
        amount=deal.amount,
        close_date=deal.close_date,
        won=deal.won,
        reason=reason,
        removed_by=removed_by,
    )
    deal._history_user = removed_by
    deal.delete()
    return removal


@transaction.atomic
def deals_remove(
    *, source: str, external_ids: Sequence[str], reason: str, removed_by: User | None = None
) -> int:
    """Take the deals of `source` with these external ids out of actuals, set-based: one
    multi-row INSERT of their removal records and one DELETE, whatever their number. Ids
    with no deal are ignored (a source may report a deletion twice). Returns how many went.
    """
    if not external_ids:
        return 0
    deals = Deal.objects.filter(source=source, external_id__in=list(external_ids))
    rows = list(
        deals.values("source", "external_id", "account", "owner_id", "amount", "close_date", "won")
    )
    if not rows:
        return 0
    DealRemoval.objects.bulk_create(
        DealRemoval(**row, reason=reason, removed_by=removed_by) for row in rows
    )
    deals.delete()
    return len(rows)
