"""Who may see and do what (SPEC §2). Every view and endpoint asks here.

Every role but admin is granted on a unit and applies to that unit's subtree; nobody but
admin sees across company roots. Admin configures but is not a sales authority: it confirms
no deal and sets no target through the sales workflow. Getters raise `Http404` for what the
user may not see and `PermissionDenied` for what they may see but not do, so no caller
rebuilds either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from targets.models import (
    Credit,
    Deal,
    DealSource,
    OrgUnit,
    OrgUnitClosure,
    Role,
    RoleAssignment,
    Target,
    User,
)
from targets.models.org import team_on

# Roles whose grant lets the holder see the figures of the granted subtree.
SEEING_ROLES = frozenset({Role.SALES_DIRECTOR, Role.SALES_MANAGER, Role.HRBP, Role.FINANCE})


@dataclass(frozen=True)
class Access:
    user: User
    roles: frozenset[str]
    # role → the units it is granted on
    grants: dict[str, frozenset[int]] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_director(self) -> bool:
        return Role.SALES_DIRECTOR in self.roles

    @property
    def is_rep(self) -> bool:
        return Role.REP in self.roles

    def granted(self, *roles: str) -> frozenset[int]:
        return frozenset().union(*(self.grants.get(r, frozenset()) for r in roles))

    @property
    def managed_unit_ids(self) -> frozenset[int]:
        return self.granted(Role.SALES_MANAGER)

    @property
    def scope_unit_ids(self) -> frozenset[int]:
        """The units whose subtrees this user sees figures of."""
        return self.granted(*SEEING_ROLES)

    def subtree_of(self, unit_ids: Iterable[int]) -> QuerySet:
        """Ids of every unit under the given units, as a subquery."""
        return OrgUnitClosure.objects.filter(ancestor__in=list(unit_ids)).values("descendant")

    def scope_subtree(self) -> QuerySet:
        return self.subtree_of(self.scope_unit_ids)

    @cached_property
    def _subtrees(self) -> dict[int, tuple[frozenset[int], frozenset[int]]]:
        """Granted unit → (its whole subtree, the part strictly below it).

        Loaded once per request, so checking a page of rows costs no query per row.
        """
        granted = self.scope_unit_ids
        if not granted:
            return {}
        subtrees: dict[int, tuple[set[int], set[int]]] = {u: (set(), set()) for u in granted}
        pairs = OrgUnitClosure.objects.filter(ancestor__in=granted).values_list(
            "ancestor", "descendant", "depth"
        )
        for ancestor, descendant, depth in pairs:
            within, below = subtrees[ancestor]
            within.add(descendant)
            if depth > 0:
                below.add(descendant)
        return {u: (frozenset(w), frozenset(b)) for u, (w, b) in subtrees.items()}

    def covers(self, unit_id: int | None, *roles: str, strictly_below: bool = False) -> bool:
        """Whether `unit_id` lies in the subtree of a unit granted with one of `roles`."""
        if unit_id is None:
            return False
        for granted in self.granted(*roles):
            within, below = self._subtrees.get(granted, (frozenset(), frozenset()))
            if unit_id in (below if strictly_below else within):
                return True
        return False

    def manages_unit(self, unit_id: int | None, *, strictly_below: bool = False) -> bool:
        return self.covers(unit_id, Role.SALES_MANAGER, strictly_below=strictly_below)

    def sees_unit(self, unit_id: int | None) -> bool:
        return self.is_admin or self.covers(unit_id, *SEEING_ROLES)


def access_for(user: User) -> Access:
    cached = getattr(user, "_targetpilot_access", None)
    if cached is not None:
        return cached
    if not user.is_authenticated:
        access = Access(user=user, roles=frozenset())
    else:
        assignments = list(user.role_assignments.values_list("role", "unit_id"))
        grants: dict[str, set[int]] = {}
        for role, unit in assignments:
            if unit is not None:
                grants.setdefault(role, set()).add(unit)
        access = Access(
            user=user,
            roles=frozenset(role for role, _ in assignments),
            grants={role: frozenset(units) for role, units in grants.items()},
        )
    user._targetpilot_access = access
    return access


# Units -----------------------------------------------------------------------------


def units_visible_to(user: User) -> QuerySet[OrgUnit]:
    """The units a user may see named: the whole tree of each company they belong to (the
    organisation chart is not confidential inside a company; its figures are), never
    another company's. Figures need `can_view_unit_figures` on top."""
    access = access_for(user)
    units = OrgUnit.objects.all()
    if access.is_admin:
        return units
    anchors = set(access.granted(*access.roles))
    if user.team_id:
        anchors.add(user.team_id)
    roots = OrgUnitClosure.objects.filter(
        descendant__in=anchors, ancestor__parent__isnull=True
    ).values("ancestor")
    return units.filter(
        pk__in=OrgUnitClosure.objects.filter(ancestor__in=roots).values("descendant")
    )


def can_view_unit_figures(user: User, unit: OrgUnit) -> bool:
    return access_for(user).sees_unit(unit.pk)


def unit_get_for_figures(*, user: User, unit_id: int) -> OrgUnit:
    """The unit whose figures `user` wants: 404 if they may not see it, 403 if they may
    see it but not its figures."""
    unit = units_visible_to(user).filter(pk=unit_id).first()
    if unit is None:
        raise Http404(_("No such unit."))
    if not can_view_unit_figures(user, unit):
        raise PermissionDenied(_("You may not see this unit's figures."))
    return unit


def default_unit_for(user: User) -> OrgUnit | None:
    """The unit a dashboard opens on: the highest granted unit (admin: the first company)."""
    access = access_for(user)
    if access.is_admin:
        return OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    granted = access.scope_unit_ids
    if not granted:
        return None
    # Highest first: the granted unit with the fewest ancestors.
    heights = Counter(
        OrgUnitClosure.objects.filter(descendant__in=granted).values_list("descendant", flat=True)
    )
    return OrgUnit.objects.get(pk=min(granted, key=lambda unit: (heights[unit], unit)))


def can_manage_organisation(user: User) -> bool:
    return access_for(user).is_admin


# Targets ---------------------------------------------------------------------------


def targets_visible_to(user: User) -> QuerySet[Target]:
    access = access_for(user)
    targets = Target.objects.all()
    if access.is_admin:
        return targets
    visible = Q(owner_user=user)
    if access.scope_unit_ids:
        subtree = access.scope_subtree()
        visible |= Q(owner_unit__in=subtree) | Q(owner_user__team__in=subtree)
    return targets.filter(visible)


def target_get_for_user(*, user: User, target_id: int) -> Target:
    target = targets_visible_to(user).filter(pk=target_id).first()
    if target is None:
        raise Http404(_("No such target."))
    return target


def can_set_target(user: User, *, owner_unit: OrgUnit | None, owner_user: User | None) -> bool:
    """Directors set amounts in their subtree; a manager splits own unit's targets below it.

    Admin configures but sets no targets (segregation of duties, SPEC §2).
    """
    access = access_for(user)
    if owner_unit is not None:
        return access.covers(owner_unit.pk, Role.SALES_DIRECTOR) or access.manages_unit(
            owner_unit.pk, strictly_below=True
        )
    if owner_user is not None:
        return access.covers(owner_user.team_id, Role.SALES_DIRECTOR, Role.SALES_MANAGER)
    return False


def may_import_targets(user: User) -> bool:
    """Targets come in from a file (the quarter grid's XLSX) for admin, who loads the
    targets the sales organisation agreed when it starts on the app (SPEC §8 onboarding,
    §10 `imports/`), and for sales directors within their scope."""
    access = access_for(user)
    return access.is_admin or bool(access.granted(Role.SALES_DIRECTOR))


def can_import_target(user: User, *, owner_unit: OrgUnit | None, owner_user: User | None) -> bool:
    """Admin imports any target (its amounts still change only while the quarter has not
    started, like anyone's); a director those of the subtree they set targets in."""
    access = access_for(user)
    if access.is_admin:
        return True
    if owner_unit is not None:
        return access.covers(owner_unit.pk, Role.SALES_DIRECTOR)
    if owner_user is not None:
        return access.covers(owner_user.team_id, Role.SALES_DIRECTOR)
    return False


def target_get_for_setting(*, user: User, target_id: int) -> Target:
    target = target_get_for_user(user=user, target_id=target_id)
    if not can_set_target(user, owner_unit=target.owner_unit, owner_user=target.owner_user):
        raise PermissionDenied(_("You may not change this target."))
    return target


def may_use_target_grid(user: User, unit_id: int | None = None) -> bool:
    """Sales directors and managers set targets in the grid, within their grants; admin may
    look at it (read-only: it sets no targets)."""
    access = access_for(user)
    if unit_id is None:
        return bool(access.granted(Role.SALES_DIRECTOR, Role.SALES_MANAGER))
    return access.covers(unit_id, Role.SALES_DIRECTOR, Role.SALES_MANAGER)


def unit_get_for_target_setting(*, user: User, unit_id: int) -> OrgUnit:
    """The unit whose quarter grid `user` opens: 404 unseen, 403 for anyone but a director
    or manager over it (admin sees it read-only)."""
    unit = unit_get_for_figures(user=user, unit_id=unit_id)
    if not (access_for(user).is_admin or may_use_target_grid(user, unit.pk)):
        raise PermissionDenied(_("Only sales directors and managers set targets."))
    return unit


# Deals -----------------------------------------------------------------------------


def deals_visible_to(user: User) -> QuerySet[Deal]:
    """Own deals and credits, and those credited to a team in the user's scope (the team on
    the close date, so history stays with the region it was won for)."""
    access = access_for(user)
    deals = Deal.objects.all()
    if access.is_admin:
        return deals
    credits = Q(user=user)
    owners = Q(owner=user)
    if access.scope_unit_ids:
        subtree = access.scope_subtree()
        credits |= Q(team__in=subtree)
        owners |= Q(owner__team__in=subtree)
    return deals.filter(owners | Q(pk__in=Credit.objects.filter(credits).values("deal")))


def deal_get_for_user(*, user: User, deal_id: int) -> Deal:
    deal = deals_visible_to(user).filter(pk=deal_id).first()
    if deal is None:
        raise Http404(_("No such deal."))
    return deal


def reps_for_deal_entry(user: User) -> QuerySet[User]:
    """The active reps `can_enter_deal_for` allows, as a queryset for choice lists."""
    access = access_for(user)
    reps = User.objects.filter(is_active=True, team__isnull=False, role_assignments__role=Role.REP)
    allowed = Q(pk__in=[])
    if access.is_rep:
        allowed |= Q(pk=user.pk)
    entry_units = access.granted(Role.SALES_DIRECTOR, Role.SALES_MANAGER)
    if entry_units:
        allowed |= Q(team__in=access.subtree_of(entry_units))
    return reps.filter(allowed).distinct()


def users_nameable_by(user: User) -> QuerySet[User]:
    """The people `user` may name in a request (a deal's owner or split, a target's owner):
    everyone of their own companies, by team or by a role granted there, as
    `units_visible_to` names units. A person of another company is as unknown as a missing
    id (400, nothing leaked); whether the named person may be acted for is asked next."""
    access = access_for(user)
    if access.is_admin:
        return User.objects.all()
    units = units_visible_to(user)
    granted_there = RoleAssignment.objects.filter(unit__in=units).values("user")
    return User.objects.filter(Q(pk=user.pk) | Q(team__in=units) | Q(pk__in=granted_there))


def reps_creditable_by(user: User) -> QuerySet[User]:
    """Whom a deal `user` enters may be shared with: the active reps of their own companies
    (SPEC §4: split users must be active reps). Whoever confirms must manage them all."""
    return (
        users_nameable_by(user)
        .filter(is_active=True, team__isnull=False, role_assignments__role=Role.REP)
        .distinct()
    )


def can_enter_deal_for(user: User, *, owner: User) -> bool:
    access = access_for(user)
    if owner.pk == user.pk and access.is_rep:
        return True
    return access.covers(owner.team_id, Role.SALES_DIRECTOR, Role.SALES_MANAGER)


# The team the deal's owner belonged to on the close date: lists annotate it once per page
# (`with_owner_team`); `can_confirm_deal` looks it up for a deal loaded without it.
OWNER_TEAM = "owner_team_on_close_date"


def with_owner_team(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    return deals.annotate(
        **{OWNER_TEAM: team_on(user=OuterRef("owner"), day=OuterRef("close_date"))}
    )


def _owner_team(deal: Deal) -> int | None:
    if hasattr(deal, OWNER_TEAM):
        return getattr(deal, OWNER_TEAM)
    return (
        with_owner_team(Deal.objects.filter(pk=deal.pk)).values_list(OWNER_TEAM, flat=True).first()
    )


def can_confirm_deal(user: User, deal: Deal, credited_team_ids: Iterable[int | None]) -> bool:
    """Whether `user` may confirm the manual `deal` (SPEC §2, §4).

    Someone other than its author who holds a sales manager or sales director grant over the
    team of every credited rep and of the deal's owner, each on the close date
    (`credited_team_ids`: the credits' teams). The owner counts too: a rep crediting a deal
    wholly to a rep elsewhere is vouched for by neither manager alone, only by someone over
    both. Admin, HRBP and finance confirm nothing. `deals_confirmable_by` is the same rule
    as a query; keep the two in step.
    """
    if deal.created_by_id == user.pk or not deal.is_manual:
        return False
    access = access_for(user)
    units = access.granted(Role.SALES_DIRECTOR, Role.SALES_MANAGER)
    teams = list(credited_team_ids)
    if not units or not teams:
        return False
    teams.append(_owner_team(deal))
    return all(access.covers(team, Role.SALES_DIRECTOR, Role.SALES_MANAGER) for team in teams)


def deals_confirmable_by(user: User) -> QuerySet[Deal]:
    """The manual deals awaiting a confirmation `user` may give: `can_confirm_deal` as one
    query (what "N awaiting confirmation" counts and the filter shows). Each is visible to
    the user, since its credits lie in the user's scope."""
    access = access_for(user)
    units = access.granted(Role.SALES_DIRECTOR, Role.SALES_MANAGER)
    if not units:
        return Deal.objects.none()
    subtree = access.subtree_of(units)
    credits = Credit.objects.filter(deal=OuterRef("pk"))
    awaiting = Deal.objects.filter(source=DealSource.MANUAL, confirmed_by__isnull=True)
    return (
        with_owner_team(awaiting.exclude(created_by=user))  # an authorless deal stays
        .filter(**{f"{OWNER_TEAM}__in": subtree})
        .filter(Exists(credits))
        # A credit without a team, or with one outside every granted subtree, is not covered.
        .exclude(Exists(credits.exclude(team__in=subtree)))
    )


def deal_get_for_confirmation(*, user: User, deal_id: int) -> Deal:
    """The deal `user` confirms: 404 if unseen, 403 if they may not confirm it."""
    deal = deal_get_for_user(user=user, deal_id=deal_id)
    if not deal.is_manual or deal.confirmed_by_id is not None:
        return deal  # nothing to confirm: the service answers that as a conflict (409)
    teams = deal.credits.values_list("team_id", flat=True)
    if not can_confirm_deal(user, deal, teams):
        raise PermissionDenied(_("You may not confirm this deal."))
    return deal


# People ----------------------------------------------------------------------------


def users_visible_to(user: User) -> QuerySet[User]:
    access = access_for(user)
    users = User.objects.all()
    if access.is_admin:
        return users
    visible = Q(pk=user.pk)
    if access.scope_unit_ids:
        visible |= Q(team__in=access.scope_subtree())
    return users.filter(visible)
