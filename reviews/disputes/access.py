"""Who may flag an actual, see a flag, and resolve it (issue 6 §5, SPEC §2).

A rep flags their own deals and credit splits (or a deal missing from their actuals); the
rep's manager, a sales director over the rep's team on the close date, or the HRBP resolves
it, never its author and never admin as such. Everyone with a role over the team sees it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from reviews.models import ActualDispute
from targets.access import SEEING_ROLES, access_for
from targets.models import Credit, Deal, OrgUnitClosure, Role, User

RESOLVING_ROLES = (Role.SALES_MANAGER, Role.SALES_DIRECTOR, Role.HRBP)


def may_flag(user: User) -> bool:
    return access_for(user).is_rep


def own_deals(user: User) -> QuerySet[Deal]:
    """The deals a rep may flag: owned by them or credited (in part) to them."""
    return Deal.objects.filter(
        Q(owner=user) | Q(pk__in=Credit.objects.filter(user=user).values("deal"))
    )


def can_flag_deal(user: User, deal: Deal) -> bool:
    return may_flag(user) and own_deals(user).filter(pk=deal.pk).exists()


def can_resolve(user: User, dispute: ActualDispute) -> bool:
    if dispute.author_id == user.pk:
        return False
    return access_for(user).covers(dispute.team_id, *RESOLVING_ROLES)


def may_resolve_any(user: User) -> bool:
    return bool(access_for(user).granted(*RESOLVING_ROLES))


def disputes_visible_to(user: User) -> QuerySet[ActualDispute]:
    """Own flags, and flags of teams inside the user's scope (admin: all)."""
    access = access_for(user)
    disputes = ActualDispute.objects.all()
    if access.is_admin:
        return disputes
    visible = Q(author=user)
    units = access.granted(*SEEING_ROLES)
    if units:
        visible |= Q(team__in=access.subtree_of(units))
    return disputes.filter(visible)


def disputes_resolvable_by(user: User) -> QuerySet[ActualDispute]:
    """`can_resolve` as a query (the queue): other people's flags in the user's subtrees."""
    access = access_for(user)
    units = access.granted(*RESOLVING_ROLES)
    if not units:
        return ActualDispute.objects.none()
    return ActualDispute.objects.filter(team__in=access.subtree_of(units)).exclude(author=user)


def dispute_get_for_user(*, user: User, dispute_id: int) -> ActualDispute:
    dispute = (
        disputes_visible_to(user)
        .select_related("author", "deal", "split_user", "team", "resolved_by")
        .filter(pk=dispute_id)
        .first()
    )
    if dispute is None:
        raise Http404(_("No such flag."))
    return dispute


def dispute_get_for_resolution(*, user: User, dispute_id: int) -> ActualDispute:
    dispute = dispute_get_for_user(user=user, dispute_id=dispute_id)
    if not can_resolve(user, dispute):
        raise PermissionDenied(
            _(
                "Only the rep's manager, a sales director over the rep's team or the HRBP "
                "resolves a flag, never its author."
            )
        )
    return dispute


def resolvers_of(dispute: ActualDispute) -> QuerySet[User]:
    """Whom a new flag is sent to: the managers over the rep's team (directors when the team
    has no manager above it)."""
    above = OrgUnitClosure.objects.filter(descendant=dispute.team_id).values("ancestor")

    def holding(role: str) -> QuerySet[User]:
        # One filter call: the role and the unit belong to the same grant.
        return User.objects.filter(
            is_active=True, role_assignments__role=role, role_assignments__unit__in=above
        ).distinct()

    managers = holding(Role.SALES_MANAGER)
    return managers if managers.exists() else holding(Role.SALES_DIRECTOR)
