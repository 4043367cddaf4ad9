"""Who may propose, see and decide adjustment proposals (SPEC §2, §6)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from reviews.models import Proposal
from targets.access import access_for, targets_visible_to
from targets.models import OrgUnitClosure, Role, Target, User

DECIDING_ROLES = (Role.HRBP, Role.SALES_DIRECTOR)


def _target_unit(target: Target) -> int | None:
    return target.owner_unit_id or target.owner_user.team_id


def can_propose(user: User, target: Target) -> bool:
    """A rep for their own target; a manager for a unit target inside what they manage."""
    access = access_for(user)
    if target.owner_user_id is not None:
        return target.owner_user_id == user.pk and access.is_rep
    return access.manages_unit(target.owner_unit_id)


def can_decide(user: User, proposal: Proposal) -> bool:
    """The HRBP or a sales director over the target; never its author, never admin as such."""
    if proposal.author_id == user.pk:
        return False
    return access_for(user).covers(_target_unit(proposal.target), *DECIDING_ROLES)


def proposals_visible_to(user: User) -> QuerySet[Proposal]:
    """Own proposals, and those on targets the user sees through a role (not own drafts of
    others: a draft is its author's until submitted)."""
    visible_targets = targets_visible_to(user).values("pk")
    return Proposal.objects.filter(
        Q(author=user) | (Q(target__in=visible_targets) & ~Q(status="draft"))
    )


def proposal_get_for_user(*, user: User, proposal_id: int) -> Proposal:
    proposal = (
        proposals_visible_to(user)
        .select_related("target", "target__owner_user", "target__owner_unit", "author")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise Http404(_("No such proposal."))
    return proposal


def proposal_get_for_author(*, user: User, proposal_id: int) -> Proposal:
    proposal = proposal_get_for_user(user=user, proposal_id=proposal_id)
    if proposal.author_id != user.pk:
        raise PermissionDenied(_("Only the author may change this proposal."))
    return proposal


def proposal_get_for_decision(*, user: User, proposal_id: int) -> Proposal:
    proposal = proposal_get_for_user(user=user, proposal_id=proposal_id)
    if not can_decide(user, proposal):
        raise PermissionDenied(
            _(
                "Only the HRBP or a sales director over this target, other than its author, may decide."
            )
        )
    return proposal


def deciders_of(target: Target) -> QuerySet[User]:
    """Everyone who may decide a proposal on `target`: HRBPs and directors over it."""
    unit = _target_unit(target)
    above = OrgUnitClosure.objects.filter(descendant=unit).values("ancestor")
    return User.objects.filter(
        is_active=True,
        role_assignments__role__in=DECIDING_ROLES,
        role_assignments__unit__in=above,
    ).distinct()
