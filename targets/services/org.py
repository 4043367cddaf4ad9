"""Organisation writes: units, the closure table, people, roles and team history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import OuterRef, ProtectedError, Q, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.errors import StateConflict, field_error
from targets.models import (
    Credit,
    Deal,
    DealRemoval,
    OrgUnit,
    OrgUnitClosure,
    Role,
    RoleAssignment,
    Target,
    TargetRevision,
    TeamMembership,
    User,
)
from targets.models.org import team_on


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


def org_unit_check_parent(*, unit: OrgUnit | None, parent: OrgUnit | None) -> None:
    """What `org_unit_save` refuses about a parent, for forms that validate before saving."""
    _check_parent(unit, parent)


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
    if unit.memberships.exists():
        raise StateConflict(_("Past members' history still refers to this unit."))
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
        if grant.role != Role.ADMIN and grant.unit is None:
            raise field_error(
                "roles",
                _("The role '%(role)s' needs the unit it applies to.") % {"role": grant.role},
            )


def credits_assign_teams(credits) -> int:
    """Tag credits with their rep's team on their close date, in one statement."""
    return credits.update(team=team_on(user=OuterRef("user"), day=OuterRef("close_date")))


@transaction.atomic
def user_move_team(*, user: User, team: OrgUnit | None, since: date | None = None) -> None:
    """Put the rep in `team` from `since` (default today), keeping where they were before.

    Credits closed from `since` on follow the rep to the new team; earlier ones stay with
    the team they were won for, so last quarter's figures do not change.
    """
    since = since or timezone.localdate()
    current = user.memberships.filter(valid_to__isnull=True).first()
    unchanged = current is not None and current.team_id == (team.pk if team else None)
    if unchanged and since >= current.valid_from:
        return
    # A move supersedes whatever history it overlaps from `since` on.
    user.memberships.filter(valid_from__gte=since).delete()
    user.memberships.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=since)).update(
        valid_to=since - timedelta(days=1)
    )
    if team is not None:
        TeamMembership.objects.create(user=user, team=team, valid_from=since)
    if user.team_id != (team.pk if team else None):
        user.team = team
        user.save(update_fields=["team"])
    credits_assign_teams(Credit.objects.filter(user=user, close_date__gte=since))


@transaction.atomic
def user_save(
    *,
    user: User | None = None,
    username: str,
    display_name: str = "",
    email: str = "",
    team: OrgUnit | None = None,
    team_since: date | None = None,
    password: str | None = None,
    roles: Sequence[RoleGrant] | None = None,
    language: str = "",
    is_active: bool | None = None,
    dingtalk_userid: str | None = None,
) -> User:
    """Create or change a person; `dingtalk_userid` None keeps the stored one."""
    user = user or User()
    team_changes = user.pk is None or user.team_id != (team.pk if team else None)
    user.username, user.display_name, user.email = username, display_name, email
    user.language = language
    if is_active is not None:
        user.is_active = is_active
    if dingtalk_userid is not None:
        user.dingtalk_userid = dingtalk_userid.strip()
    if password:
        user.set_password(password)
    elif user.pk is None:
        user.set_unusable_password()
    if user.pk is None:
        user.team = team
    user.full_clean(exclude=["password", "team"])
    user.save()
    if team_changes or team_since is not None:
        user_move_team(user=user, team=team, since=team_since)
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


def user_deactivate(*, user: User) -> User:
    """Stop the user from signing in; what they own and did stays theirs (SPEC §2)."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


def _has_history(user: User) -> bool:
    return (
        user.owned_deals.exists()
        or user.credits.exists()
        or user.targets.exists()
        or Deal.objects.filter(Q(created_by=user) | Q(confirmed_by=user)).exists()
        or DealRemoval.objects.filter(Q(owner=user) | Q(removed_by=user)).exists()
        or TargetRevision.objects.filter(decided_by=user).exists()
        or Target.objects.filter(created_by=user).exists()
    )


@transaction.atomic
def user_delete(*, user: User) -> bool:
    """Delete a user who left no trace; one with deals, credits, targets or decisions on
    record (here or in an app built on this one) is deactivated instead, so the record
    keeps who it was. Returns whether the user was deleted.
    """
    if not _has_history(user):
        try:
            with transaction.atomic():
                user.delete()
            return True
        except (ProtectedError, RestrictedError):
            pass
    user_deactivate(user=user)
    return False
