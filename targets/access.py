"""Who may see and do what (SPEC §2). Every view and endpoint asks here."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.db.models import Q, QuerySet

from targets.models import Credit, Deal, OrgUnit, OrgUnitClosure, Role, Target, User

SEES_ALL_SALES_DATA = {Role.ADMIN, Role.SALES_DIRECTOR, Role.HRBP, Role.FINANCE}


@dataclass(frozen=True)
class Access:
    user: User
    roles: frozenset[str]
    managed_unit_ids: frozenset[int]

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_director(self) -> bool:
        return Role.SALES_DIRECTOR in self.roles

    @property
    def sees_all(self) -> bool:
        return bool(self.roles & SEES_ALL_SALES_DATA)

    def managed_subtree(self) -> QuerySet:
        """Ids of every unit under the units this user manages, as a subquery."""
        return OrgUnitClosure.objects.filter(ancestor__in=self.managed_unit_ids).values(
            "descendant"
        )

    @cached_property
    def _managed_scope(self) -> tuple[frozenset[int], frozenset[int]]:
        """(every unit in the managed subtrees, those strictly below a managed unit).

        Loaded once per request, so checking a page of rows costs no query per row.
        """
        if not self.managed_unit_ids:
            return frozenset(), frozenset()
        pairs = list(
            OrgUnitClosure.objects.filter(ancestor__in=self.managed_unit_ids).values_list(
                "descendant", "depth"
            )
        )
        return (
            frozenset(unit for unit, _depth in pairs),
            frozenset(unit for unit, depth in pairs if depth > 0),
        )

    def manages_unit(self, unit_id: int | None, *, strictly_below: bool = False) -> bool:
        if unit_id is None or not self.managed_unit_ids:
            return False
        within, below = self._managed_scope
        return unit_id in (below if strictly_below else within)


def access_for(user: User) -> Access:
    cached = getattr(user, "_targetpilot_access", None)
    if cached is not None:
        return cached
    if not user.is_authenticated:
        access = Access(user=user, roles=frozenset(), managed_unit_ids=frozenset())
    else:
        assignments = list(user.role_assignments.values_list("role", "unit_id"))
        access = Access(
            user=user,
            roles=frozenset(role for role, _ in assignments),
            managed_unit_ids=frozenset(
                unit for role, unit in assignments if role == Role.SALES_MANAGER and unit
            ),
        )
    user._targetpilot_access = access
    return access


# Targets ---------------------------------------------------------------------------


def targets_visible_to(user: User) -> QuerySet[Target]:
    access = access_for(user)
    targets = Target.objects.all()
    if access.sees_all:
        return targets
    visible = Q(owner_user=user)
    if access.managed_unit_ids:
        subtree = access.managed_subtree()
        visible |= Q(owner_unit__in=subtree) | Q(owner_user__team__in=subtree)
    return targets.filter(visible)


def target_get_for_user(*, user: User, target_id: int) -> Target | None:
    return targets_visible_to(user).filter(pk=target_id).first()


def can_set_target(user: User, *, owner_unit: OrgUnit | None, owner_user: User | None) -> bool:
    """Directors set amounts anywhere; a manager splits own unit's targets below it."""
    access = access_for(user)
    if access.is_director:
        return True
    if owner_unit is not None:
        return access.manages_unit(owner_unit.pk, strictly_below=True)
    if owner_user is not None:
        return access.manages_unit(owner_user.team_id)
    return False


# Deals -----------------------------------------------------------------------------


def deals_visible_to(user: User) -> QuerySet[Deal]:
    access = access_for(user)
    deals = Deal.objects.all()
    if access.sees_all:
        return deals
    members = Q(pk=user.pk)
    if access.managed_unit_ids:
        members |= Q(team__in=access.managed_subtree())
    member_ids = User.objects.filter(members).values("pk")
    return deals.filter(
        Q(owner__in=member_ids)
        | Q(pk__in=Credit.objects.filter(user__in=member_ids).values("deal"))
    )


def deal_get_for_user(*, user: User, deal_id: int) -> Deal | None:
    return deals_visible_to(user).filter(pk=deal_id).first()


def reps_for_deal_entry(user: User) -> QuerySet[User]:
    """The active reps `can_enter_deal_for` allows, as a queryset for choice lists."""
    access = access_for(user)
    reps = User.objects.filter(is_active=True, team__isnull=False)
    if access.is_director:
        return reps
    allowed = Q(pk__in=[])
    if Role.REP in access.roles:
        allowed |= Q(pk=user.pk)
    if access.managed_unit_ids:
        allowed |= Q(team__in=access.managed_subtree())
    return reps.filter(allowed)


def can_enter_deal_for(user: User, *, owner: User) -> bool:
    access = access_for(user)
    if access.is_director:
        return True
    if owner.pk == user.pk and Role.REP in access.roles:
        return True
    return access.manages_unit(owner.team_id)


def can_confirm_deal(user: User, deal: Deal) -> bool:
    """Another authorised person than the author: the owner's manager or a director."""
    if deal.created_by_id == user.pk:
        return False
    access = access_for(user)
    return access.is_director or access.manages_unit(deal.owner.team_id)


# People and units ------------------------------------------------------------------


def users_visible_to(user: User) -> QuerySet[User]:
    access = access_for(user)
    users = User.objects.all()
    if access.sees_all:
        return users
    visible = Q(pk=user.pk)
    if access.managed_unit_ids:
        visible |= Q(team__in=access.managed_subtree())
    return users.filter(visible)


def units_visible_to(user: User) -> QuerySet[OrgUnit]:
    # The organisation chart itself is not confidential; figures behind it are.
    return OrgUnit.objects.all()


def can_manage_organisation(user: User) -> bool:
    return access_for(user).is_admin


def can_view_unit_figures(user: User, unit: OrgUnit) -> bool:
    access = access_for(user)
    return access.sees_all or access.manages_unit(unit.pk)
