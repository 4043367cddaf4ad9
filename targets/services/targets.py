"""Target writes: creation, allocation, changes before the lock, revisions after it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.errors import StateConflict, ValidationError, field_error
from targets.models import Measure, OrgUnit, Target, TargetRevision, User
from targets.money import MAX_AMOUNT
from targets.periods import PeriodError, Quarter
from targets.recompute import recompute_soon

from .org import company_of

ONE = Decimal(1)


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
    # The audit row names who did it, also without a request (imports, commands).
    target._history_user = created_by
    try:
        # A racing create of the same owner, period and measure loses here, not with a 500.
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise field_error(
            "period", _("This owner already has a target for this period and measure.")
        ) from None
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
                    by=created_by,
                )
        except ValidationError as error:
            errors[child.key] = error
        except StateConflict as conflict:
            errors[child.key] = ValidationError(conflict.message)
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
    expected_version: int | None = None,
    by: User | None = None,
) -> Target:
    """Change a target before its period starts; afterwards only `target_revise` may.

    `expected_version` is the version the writer read: if someone wrote in between, the
    write is refused (StateConflict) instead of silently overwriting theirs.
    """
    today = today or timezone.localdate()
    target = _lock(target, expected_version)
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
    target.version += 1
    if by is not None:
        target._history_user = by  # else the request's user (HistoryRequestMiddleware)
    target.save()
    return target


def _lock(target: Target, expected_version: int | None) -> Target:
    """The target's current row, locked for this transaction; stale writers are refused."""
    current = Target.objects.select_for_update().filter(pk=target.pk).first()
    if current is None:
        # Deleted by someone else between the caller's read and this write.
        raise StateConflict(_("Someone else deleted this target meanwhile."))
    if expected_version is not None and current.version != expected_version:
        raise StateConflict(
            _(
                "Someone else changed this target meanwhile (version %(current)s, you sent "
                "%(sent)s). Reload it and apply your change again."
            )
            % {"current": current.version, "sent": expected_version}
        )
    return current


@transaction.atomic
def target_delete(
    *, target: Target, today: date | None = None, expected_version: int | None = None
) -> None:
    today = today or timezone.localdate()
    target = _lock(target, expected_version)
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
    expected_version: int | None = None,
) -> TargetRevision:
    """Apply an approved adjustment: the old amounts stay on record as a revision.

    Whatever decided it (a proposal, a review) links itself to the returned revision.
    """
    _validate_amounts(base, stretch)
    if not reason.strip():
        raise field_error("reason", _("Give the reason for the adjustment."))
    target = _lock(target, expected_version)
    revision = TargetRevision(
        target=target,
        base_before=target.base,
        stretch_before=target.stretch,
        base_after=base,
        stretch_after=stretch,
        reason=reason,
        decided_by=decided_by,
        decided_at=decided_at or timezone.now(),
    )
    revision._history_user = decided_by
    revision.save()
    target.base, target.stretch = base, stretch
    # The row is locked (`_lock`), so the version read is current; a plain value (not an F
    # expression) lets the audit row record it.
    target.version += 1
    target._history_user = decided_by
    target.save(update_fields=["base", "stretch", "version", "updated_at"])
    recompute_soon()
    return revision
