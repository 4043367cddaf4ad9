"""Writes. Every change of organisation, targets and deals goes through here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.errors import StateConflict, ValidationError, field_error
from targets.models import (
    Credit,
    Deal,
    DealRemoval,
    DealSource,
    Measure,
    OrgUnit,
    OrgUnitClosure,
    Role,
    RoleAssignment,
    Target,
    TargetRevision,
    User,
)
from targets.periods import PeriodError, Quarter

CENT = Decimal("0.01")
ONE = Decimal(1)
# 15 significant digits: what SQLite's doubles hold exactly (the API enforces the same).
MAX_AMOUNT = Decimal("9999999999999.99")

# Organisation ------------------------------------------------------------------------


def org_tree_rebuild() -> None:
    """Recompute the closure table from parent links in one statement."""
    table = OrgUnitClosure._meta.db_table
    units = OrgUnit._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            f"""
            INSERT INTO {table} (ancestor_id, descendant_id, depth)
            WITH RECURSIVE tree (ancestor_id, descendant_id, depth) AS (
                SELECT id, id, 0 FROM {units}
                UNION ALL
                SELECT tree.ancestor_id, unit.id, tree.depth + 1
                FROM tree JOIN {units} unit ON unit.parent_id = tree.descendant_id
            )
            SELECT ancestor_id, descendant_id, depth FROM tree
            """
        )


def _check_parent(unit: OrgUnit | None, parent: OrgUnit | None) -> None:
    if unit is None or unit.pk is None or parent is None:
        return
    if OrgUnitClosure.objects.filter(ancestor=unit, descendant=parent).exists():
        raise field_error("parent", _("A unit cannot be placed under itself or its own sub-unit."))


@transaction.atomic
def org_unit_save(
    *, unit: OrgUnit | None = None, name: str, kind: str, parent: OrgUnit | None
) -> OrgUnit:
    _check_parent(unit, parent)
    unit = unit or OrgUnit()
    unit.name, unit.kind, unit.parent = name, kind, parent
    unit.full_clean()
    unit.save()
    org_tree_rebuild()
    return unit


@transaction.atomic
def org_unit_delete(*, unit: OrgUnit) -> None:
    if unit.children.exists() or unit.members.exists() or unit.targets.exists():
        raise StateConflict(_("The unit still has sub-units, members or targets."))
    unit.delete()
    org_tree_rebuild()


def company_of(unit: OrgUnit) -> OrgUnit:
    root = (
        OrgUnitClosure.objects.filter(descendant=unit, ancestor__parent__isnull=True)
        .select_related("ancestor")
        .first()
    )
    return root.ancestor if root else unit


@dataclass(frozen=True)
class RoleGrant:
    role: str
    unit: OrgUnit | None = None


def _validate_roles(roles: Sequence[RoleGrant]) -> None:
    for grant in roles:
        if grant.role not in Role.values:
            raise field_error("roles", _("Unknown role '%(role)s'.") % {"role": grant.role})
        if grant.role == Role.SALES_MANAGER and grant.unit is None:
            raise field_error("roles", _("A sales manager role needs the unit it manages."))


@transaction.atomic
def user_save(
    *,
    user: User | None = None,
    username: str,
    display_name: str = "",
    email: str = "",
    team: OrgUnit | None = None,
    password: str | None = None,
    roles: Sequence[RoleGrant] | None = None,
    language: str = "",
) -> User:
    user = user or User()
    user.username, user.display_name, user.email, user.team = username, display_name, email, team
    user.language = language
    if password:
        user.set_password(password)
    elif user.pk is None:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if roles is not None:
        _validate_roles(roles)
        user.role_assignments.all().delete()
        unique = {(g.role, g.unit.pk if g.unit else None): g for g in roles}
        RoleAssignment.objects.bulk_create(
            RoleAssignment(user=user, role=g.role, unit=g.unit) for g in unique.values()
        )
        user.is_staff = user.is_superuser = any(g.role == Role.ADMIN for g in roles)
        user.save(update_fields=["is_staff", "is_superuser"])
    return user


# Targets -----------------------------------------------------------------------------


def parse_phasing(phasing: Sequence[Decimal] | None) -> tuple[Decimal, ...] | None:
    if phasing is None:
        return None
    weights = tuple(Decimal(str(w)) for w in phasing)
    if len(weights) != 3:
        raise field_error("phasing", _("Give exactly three monthly weights."))
    if any(w < 0 for w in weights):
        raise field_error("phasing", _("Weights cannot be negative."))
    if abs(sum(weights) - ONE) > Decimal("0.000001"):
        raise field_error("phasing", _("The three weights must sum to 1."))
    return weights


def _too_large() -> str:
    return _("Amounts are limited to 9,999,999,999,999.99.")


def _validate_amounts(base: Decimal, stretch: Decimal) -> None:
    errors: dict[str, list[str]] = {}
    if base < 0:
        errors["base"] = [_("Base cannot be negative.")]
    elif base > MAX_AMOUNT:
        errors["base"] = [_too_large()]
    if stretch > MAX_AMOUNT:
        errors["stretch"] = [_too_large()]
    elif stretch < 0:
        errors["stretch"] = [_("Stretch cannot be negative.")]
    elif stretch < base:
        errors["stretch"] = [_("Stretch must be at least Base.")]
    if errors:
        raise ValidationError(errors)


def _validate_bonus(name: str, value: Decimal | None) -> None:
    if value is not None and value < 0:
        raise field_error(name, _("A bonus cannot be negative."))
    if value is not None and value > MAX_AMOUNT:
        raise field_error(name, _too_large())


@transaction.atomic
def target_create(
    *,
    period: str,
    base: Decimal,
    stretch: Decimal,
    owner_unit: OrgUnit | None = None,
    owner_user: User | None = None,
    measure: str = Measure.REVENUE,
    phasing: Sequence[Decimal] | None = None,
    base_bonus: Decimal | None = None,
    stretch_bonus: Decimal | None = None,
    created_by: User | None = None,
) -> Target:
    try:
        quarter = Quarter.parse(period)
    except PeriodError:
        raise field_error(
            "period", _("'%(value)s' is not a quarter like 2025Q2.") % {"value": period}
        ) from None
    if (owner_unit is None) == (owner_user is None):
        raise field_error("owner_unit", _("Set exactly one owner: a unit or a rep."))
    if owner_user is not None and owner_user.team_id is None:
        raise field_error("owner_user", _("This user belongs to no team."))
    _validate_amounts(base, stretch)
    _validate_bonus("base_bonus", base_bonus)
    _validate_bonus("stretch_bonus", stretch_bonus)
    weights = parse_phasing(phasing)
    duplicate = Target.objects.filter(period=quarter.label, measure=measure)
    if owner_unit is not None:
        duplicate = duplicate.filter(owner_unit=owner_unit)
    else:
        duplicate = duplicate.filter(owner_user=owner_user)
    if duplicate.exists():
        raise field_error(
            "period", _("This owner already has a target for this period and measure.")
        )
    target = Target(
        period=quarter.label,
        measure=measure,
        owner_unit=owner_unit,
        owner_user=owner_user,
        base=base,
        stretch=stretch,
        original_base=base,
        original_stretch=stretch,
        base_bonus=base_bonus,
        stretch_bonus=stretch_bonus,
        created_by=created_by,
    )
    if weights:
        target.weight_m1, target.weight_m2, target.weight_m3 = weights
    target_set_derived(target=target)
    target.save()
    return target


def target_set_derived(*, target: Target) -> None:
    """Fill what a valid period and owner imply: the period's bounds and the company."""
    quarter = Quarter.parse(target.period)
    target.period_start, target.period_end = quarter.start, quarter.end
    target.company = company_of(target.owner_unit or target.owner_user.team)


@dataclass(frozen=True)
class ChildAmounts:
    """One child of a unit target in an allocation: its owner, its target if any, new amounts."""

    key: str
    owner_unit: OrgUnit | None
    owner_user: User | None
    target: Target | None
    amounts: tuple[Decimal, Decimal] | None  # None: no target wanted (only without one)


class AllocationRejected(Exception):
    """Some children's amounts were refused; nothing of the allocation was written."""

    def __init__(self, errors: dict[str, ValidationError]) -> None:
        super().__init__(errors)
        self.errors = errors


@transaction.atomic
def target_allocate(
    *, parent: Target, children: Sequence[ChildAmounts], created_by: User, today: date
) -> None:
    """Split a unit target among its children: all rows are written, or none.

    It goes on past a refused child so that every refused child is reported at once.
    """
    errors: dict[str, ValidationError] = {}
    for child in children:
        try:
            if child.target is None and child.amounts is not None:
                target_create(
                    period=parent.period,
                    measure=parent.measure,
                    owner_unit=child.owner_unit,
                    owner_user=child.owner_user,
                    base=child.amounts[0],
                    stretch=child.amounts[1],
                    created_by=created_by,
                )
            elif child.target is not None and child.amounts != (
                child.target.base,
                child.target.stretch,
            ):
                target_update(
                    target=child.target,
                    today=today,
                    base=child.amounts[0],
                    stretch=child.amounts[1],
                )
        except ValidationError as error:
            errors[child.key] = error
    if errors:
        raise AllocationRejected(errors)


_UNCHANGED = object()


@transaction.atomic
def target_update(
    *,
    target: Target,
    today: date | None = None,
    base: Decimal | None = None,
    stretch: Decimal | None = None,
    phasing: Sequence[Decimal] | object | None = _UNCHANGED,
    base_bonus: Decimal | object | None = _UNCHANGED,
    stretch_bonus: Decimal | object | None = _UNCHANGED,
) -> Target:
    """Change a target before its period starts; afterwards only `target_revise` may."""
    today = today or timezone.localdate()
    new_base = target.base if base is None else base
    new_stretch = target.stretch if stretch is None else stretch
    amounts_change = new_base != target.base or new_stretch != target.stretch
    if phasing is not _UNCHANGED:
        weights = parse_phasing(phasing)  # type: ignore[arg-type]
        phasing_changes = (weights or (None, None, None)) != (
            target.weight_m1,
            target.weight_m2,
            target.weight_m3,
        )
    else:
        phasing_changes = False
    if (amounts_change or phasing_changes) and target.is_locked(today):
        message = _("The period has started: amounts change only through an approved adjustment.")
        raise ValidationError({"base" if amounts_change else "phasing": [message]})
    _validate_amounts(new_base, new_stretch)
    target.base = target.original_base = new_base
    target.stretch = target.original_stretch = new_stretch
    if phasing_changes:
        target.weight_m1, target.weight_m2, target.weight_m3 = weights or (None, None, None)
    for name, value in (("base_bonus", base_bonus), ("stretch_bonus", stretch_bonus)):
        if value is not _UNCHANGED:
            _validate_bonus(name, value)  # type: ignore[arg-type]
            setattr(target, name, value)
    target.save()
    return target


def target_delete(*, target: Target, today: date | None = None) -> None:
    today = today or timezone.localdate()
    if target.is_locked(today):
        raise StateConflict(_("A target whose period has started cannot be deleted."))
    target.delete()


@transaction.atomic
def target_revise(
    *,
    target: Target,
    base: Decimal,
    stretch: Decimal,
    reason: str,
    decided_by: User,
    decided_at: datetime | None = None,
    proposal=None,
) -> TargetRevision:
    """Apply an approved adjustment: the old amounts stay on record as a revision."""
    _validate_amounts(base, stretch)
    if not reason.strip():
        raise field_error("reason", _("Give the reason for the adjustment."))
    target = Target.objects.select_for_update().get(pk=target.pk)
    revision = TargetRevision.objects.create(
        target=target,
        base_before=target.base,
        stretch_before=target.stretch,
        base_after=base,
        stretch_after=stretch,
        reason=reason,
        decided_by=decided_by,
        decided_at=decided_at or timezone.now(),
        proposal=proposal,
    )
    target.base, target.stretch = base, stretch
    target.save(update_fields=["base", "stretch", "updated_at"])
    return revision


# Deals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    user: User
    percent: Decimal


def _validate_splits(splits: Sequence[Split]) -> None:
    if not splits:
        raise field_error("splits", _("Give at least one rep."))
    if len({s.user.pk for s in splits}) != len(splits):
        raise field_error("splits", _("Each rep may appear only once."))
    if any(s.percent <= 0 or s.percent > 100 for s in splits):
        raise field_error("splits", _("Each share must be above 0 and at most 100 percent."))
    if sum(s.percent for s in splits) != 100:
        raise field_error("splits", _("The shares must sum to 100 percent."))


def _share_cents(total_cents: int, splits: Sequence[Split]) -> list[int]:
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
    _validate_splits(splits)
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
        for split, cents in zip(splits, _share_cents(total_cents, splits), strict=True)
    )


def _validate_deal_fields(*, amount: Decimal, external_id: str, account: str) -> None:
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
    created_by: User | None = None,
) -> tuple[Deal, bool]:
    """Create or update a deal by (source, external id); re-importing is idempotent."""
    if source not in DealSource.values:
        raise field_error("source", _("Unknown source '%(source)s'.") % {"source": source})
    _validate_deal_fields(amount=amount, external_id=external_id, account=account)
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
            "created_by": created_by,
        },
    )
    if not created:
        deal.account, deal.owner, deal.amount = account, owner, amount
        deal.close_date, deal.won, deal.stage = close_date, won, stage
        deal.source_modified_at = source_modified_at
        deal.save()
    deal_save_credits(deal=deal, splits=splits)
    return deal, created


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
) -> Deal:
    """A hand-entered deal: it counts only after someone else confirms it (SPEC §4)."""
    if not external_id:
        external_id = f"M-{timezone.now():%Y%m%d%H%M%S%f}"
    if Deal.objects.filter(source=DealSource.MANUAL, external_id=external_id).exists():
        raise field_error("external_id", _("A manual deal with this id already exists."))
    deal, _created = deal_upsert(
        source=DealSource.MANUAL,
        external_id=external_id,
        account=account,
        owner=owner,
        amount=amount,
        close_date=close_date,
        won=won,
        stage=stage,
        splits=splits,
        created_by=author,
    )
    return deal


@transaction.atomic
def deal_confirm(*, deal: Deal, confirmed_by: User) -> Deal:
    if deal.created_by_id == confirmed_by.pk:
        raise StateConflict(_("The author of a manual deal cannot confirm it."))
    # Claim the confirmation once, even if two managers click at the same moment.
    claimed = Deal.objects.filter(
        pk=deal.pk, source=DealSource.MANUAL, confirmed_by__isnull=True
    ).update(confirmed_by=confirmed_by, confirmed_at=timezone.now())
    if not claimed:
        raise StateConflict(_("This deal needs no confirmation or is already confirmed."))
    deal.refresh_from_db()
    Credit.objects.filter(deal=deal).update(counts=deal.won)
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
    deal.delete()
    return removal
