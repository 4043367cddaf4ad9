"""The allocation editor: a unit target's Base/Stretch split among its children.

Children are defined as in `targets.figures` (allocation coverage): the targets of the
unit's child units and of the reps whose team is the unit, in the same period and measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from targets.access import access_for, can_set_target
from targets.figures import Figures, figures_for
from targets.models import OrgUnit, Target, User
from targets.selectors.dashboard import Allocation, allocation_of, period_title

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class AllocationRow:
    key: str  # form prefix: "unit-12" / "user-34"
    name: str
    kind: str
    unit: OrgUnit | None
    user: User | None
    target: Target | None
    share: Decimal | None  # of the parent's Base, in percent
    settable: bool


@dataclass(frozen=True)
class AllocationPage:
    target: Target
    owner_name: str
    owner_kind: str
    period_title: str
    figures: Figures
    allocation: Allocation | None
    rows: list[AllocationRow]
    children_base: Decimal
    children_stretch: Decimal
    may_set: bool
    locked: bool
    back_unit: int | None

    @property
    def editable(self) -> bool:
        return self.may_set and not self.locked

    @property
    def coverage(self) -> Decimal | None:
        """None until a child has a target (every fresh quarter): shown "—", never an error."""
        return self.allocation.coverage if self.allocation is not None else None


def _children(target: Target) -> tuple[list[OrgUnit], list[User], dict[tuple[str, int], Target]]:
    unit = target.owner_unit
    child_units = list(OrgUnit.objects.filter(parent=unit).order_by("pk"))
    members = list(User.objects.filter(team=unit).order_by("username"))
    targets = Target.objects.filter(period=target.period, measure=target.measure).filter(
        Q(owner_unit__parent=unit) | Q(owner_user__team=unit)
    )
    by_owner = {
        ("unit", t.owner_unit_id) if t.owner_unit_id else ("user", t.owner_user_id): t
        for t in targets
    }
    return child_units, members, by_owner


def _share(amount: Decimal | None, whole: Decimal) -> Decimal | None:
    if amount is None or not whole:
        return None
    return amount / whole * HUNDRED


def allocation_page(*, user: User, target: Target, today: date) -> AllocationPage:
    """`target` must be a unit target the user may see."""
    child_units, members, by_owner = _children(target)
    rows = []
    for child in child_units:
        child_target = by_owner.get(("unit", child.pk))
        rows.append(
            AllocationRow(
                key=f"unit-{child.pk}",
                name=child.name,
                kind=child.get_kind_display(),
                unit=child,
                user=None,
                target=child_target,
                share=_share(child_target.base if child_target else None, target.base),
                settable=can_set_target(user, owner_unit=child, owner_user=None),
            )
        )
    for member in members:
        child_target = by_owner.get(("user", member.pk))
        rows.append(
            AllocationRow(
                key=f"user-{member.pk}",
                name=str(member),
                kind=_("Sales rep"),
                unit=None,
                user=member,
                target=child_target,
                share=_share(child_target.base if child_target else None, target.base),
                settable=can_set_target(user, owner_unit=None, owner_user=member),
            )
        )
    figures = figures_for([target], as_of=today)[target.pk]
    child_targets = [row.target for row in rows if row.target is not None]
    access = access_for(user)
    unit_id = target.owner_unit_id
    return AllocationPage(
        target=target,
        owner_name=target.owner_name,
        owner_kind=target.owner_unit.get_kind_display(),
        period_title=period_title(target.period),
        figures=figures,
        allocation=allocation_of(figures),
        rows=rows,
        children_base=sum((t.base for t in child_targets), Decimal(0)),
        children_stretch=sum((t.stretch for t in child_targets), Decimal(0)),
        may_set=bool(rows) and all(row.settable for row in rows),
        locked=target.is_locked(today),
        back_unit=unit_id if access.sees_unit(unit_id) else None,
    )
