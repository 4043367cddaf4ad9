"""Saving the quarter target grid: every row through `target_create` / `target_update`, all
rows or none (SPEC §3 "Setting targets")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from targets.access import can_import_target, can_set_target
from targets.errors import StateConflict, ValidationError
from targets.models import Measure, OrgUnit, Target, User
from targets.periods import PeriodError, Quarter

from .targets import target_create, target_update


@dataclass(frozen=True)
class GridRow:
    """One owner's values as the grid sends them.

    `target` is the owner's target as read now (None: none yet); `version` is the version
    the user was shown (None: they saw no target), so a row someone else changed meanwhile
    is refused instead of overwritten.
    """

    key: str
    owner_unit: OrgUnit | None
    owner_user: User | None
    target: Target | None
    version: int | None
    base: Decimal | None
    stretch: Decimal | None
    phasing: tuple[Decimal, Decimal, Decimal] | None = None
    base_bonus: Decimal | None = None
    stretch_bonus: Decimal | None = None

    @property
    def is_empty(self) -> bool:
        return all(
            v is None
            for v in (self.base, self.stretch, self.phasing, self.base_bonus, self.stretch_bonus)
        )

    def differs_from(self, target: Target) -> bool:
        return (
            self.base,
            self.stretch,
            self.phasing,
            self.base_bonus,
            self.stretch_bonus,
        ) != (
            target.base,
            target.stretch,
            tuple(target.phasing) if target.phasing else None,
            target.base_bonus,
            target.stretch_bonus,
        )


@dataclass(frozen=True)
class GridSaved:
    created: int
    updated: int
    unchanged: int


class GridRejected(Exception):
    """Some rows were refused; nothing of the grid was written.

    `errors` maps a row's key to its ValidationError; `conflicts` to the message of a row
    that someone else changed meanwhile.
    """

    def __init__(self, errors: dict[str, ValidationError], conflicts: dict[str, str]) -> None:
        super().__init__(errors, conflicts)
        self.errors = errors
        self.conflicts = conflicts


def _conflict_created() -> str:
    return _("Someone else set this target meanwhile. Reload the grid and apply your change again.")


@transaction.atomic
def target_grid_save(
    *, user: User, period: str, rows: Sequence[GridRow], today: date, imported: bool = False
) -> GridSaved:
    """Create or change each row's target for `period`; refuse all if any row is refused.

    A row the user may not set is a PermissionDenied for the whole save. It goes on past
    a refused row so that every refused row is reported at once. `imported`: the rows come
    from a file import, where admin may set them too (`access.can_import_target`).
    """
    may_set = can_import_target if imported else can_set_target
    try:
        quarter = Quarter.parse(period)
    except PeriodError as error:
        raise ValidationError({"period": [str(error)]}) from None
    for row in rows:
        if not may_set(user, owner_unit=row.owner_unit, owner_user=row.owner_user):
            raise PermissionDenied(
                _("You may not set the target of %(name)s.")
                % {"name": row.owner_unit or row.owner_user}
            )
    errors: dict[str, ValidationError] = {}
    conflicts: dict[str, str] = {}
    created = updated = unchanged = 0
    for row in rows:
        try:
            if row.target is not None and row.target.period != quarter.label:
                raise ValidationError({"base": [_("This target belongs to another quarter.")]})
            if row.target is None:
                if row.is_empty:
                    continue
                if row.base is None or row.stretch is None:
                    raise ValidationError(
                        {"base": [_("Give both Base and Stretch, or leave the row empty.")]}
                    )
                target_create(
                    period=quarter.label,
                    measure=Measure.REVENUE,
                    owner_unit=row.owner_unit,
                    owner_user=row.owner_user,
                    base=row.base,
                    stretch=row.stretch,
                    phasing=row.phasing,
                    base_bonus=row.base_bonus,
                    stretch_bonus=row.stretch_bonus,
                    created_by=user,
                )
                created += 1
            elif not row.differs_from(row.target):
                unchanged += 1
            elif row.version is None:
                raise StateConflict(_conflict_created())
            else:
                if row.base is None or row.stretch is None:
                    raise ValidationError({"base": [_("A target needs a Base and a Stretch.")]})
                target_update(
                    target=row.target,
                    today=today,
                    base=row.base,
                    stretch=row.stretch,
                    phasing=row.phasing,
                    base_bonus=row.base_bonus,
                    stretch_bonus=row.stretch_bonus,
                    expected_version=row.version,
                    by=user,
                )
                updated += 1
        except StateConflict as conflict:
            conflicts[row.key] = conflict.message
        except ValidationError as error:
            if row.target is None and _is_duplicate(error):
                conflicts[row.key] = _conflict_created()
            else:
                errors[row.key] = error
    if errors or conflicts:
        raise GridRejected(errors, conflicts)
    return GridSaved(created=created, updated=updated, unchanged=unchanged)


def _is_duplicate(error: ValidationError) -> bool:
    """target_create's answer when the owner got a target since the grid was read."""
    return hasattr(error, "error_dict") and "period" in error.error_dict
