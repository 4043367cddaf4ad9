"""Who may see and run review meetings (SPEC §2, §6).

A meeting is seen by its chair, its members and every HRBP over its unit; anyone else is
told it does not exist (404). The chair decides, reorders and closes; every participant
(chair and members, finance too) writes their own scores and notes.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from reviews.meeting_models import AgendaItem, ReviewMeeting
from targets.access import SEEING_ROLES, access_for
from targets.models import OrgUnit, OrgUnitClosure, Role, RoleAssignment, User


def can_chair(user: User, unit_id: int) -> bool:
    """An HRBP whose grant covers the unit (admin runs no reviews: it is no sales authority)."""
    return access_for(user).covers(unit_id, Role.HRBP)


def units_chairable_by(user: User) -> QuerySet[OrgUnit]:
    granted = access_for(user).granted(Role.HRBP)
    return OrgUnit.objects.filter(
        pk__in=OrgUnitClosure.objects.filter(ancestor__in=granted).values("descendant")
    ).order_by("pk")


def member_candidates(user: User) -> QuerySet[User]:
    """Whom an HRBP may invite: active people holding a role that sees figures somewhere in
    the HRBP's own subtrees or above them (business leads and finance)."""
    granted = access_for(user).granted(Role.HRBP)
    related = OrgUnitClosure.objects.filter(
        Q(ancestor__in=granted) | Q(descendant__in=granted)
    ).values_list("ancestor", "descendant")
    units = {u for pair in related for u in pair}
    holders = RoleAssignment.objects.filter(unit__in=units, role__in=SEEING_ROLES).values("user")
    return (
        User.objects.filter(is_active=True, pk__in=holders).exclude(pk=user.pk).order_by("username")
    )


def meetings_visible_to(user: User) -> QuerySet[ReviewMeeting]:
    if not user.is_authenticated:
        return ReviewMeeting.objects.none()
    visible = Q(chair=user) | Q(members=user)
    hrbp_units = access_for(user).granted(Role.HRBP)
    if hrbp_units:
        visible |= Q(
            unit__in=OrgUnitClosure.objects.filter(ancestor__in=hrbp_units).values("descendant")
        )
    return ReviewMeeting.objects.filter(pk__in=ReviewMeeting.objects.filter(visible).values("pk"))


def meeting_get_for_user(*, user: User, meeting_id: int) -> ReviewMeeting:
    meeting = (
        meetings_visible_to(user).select_related("unit", "chair").filter(pk=meeting_id).first()
    )
    if meeting is None:
        raise Http404(_("No such review meeting."))
    return meeting


def is_participant(user: User, meeting: ReviewMeeting) -> bool:
    return meeting.chair_id == user.pk or meeting.members.filter(pk=user.pk).exists()


def meeting_get_for_chair(*, user: User, meeting_id: int) -> ReviewMeeting:
    meeting = meeting_get_for_user(user=user, meeting_id=meeting_id)
    if meeting.chair_id != user.pk:
        raise PermissionDenied(_("Only the chair of this review may do this."))
    return meeting


def meeting_get_for_participant(*, user: User, meeting_id: int) -> ReviewMeeting:
    meeting = meeting_get_for_user(user=user, meeting_id=meeting_id)
    if not is_participant(user, meeting):
        raise PermissionDenied(_("Only the chair and the members of this review take part."))
    return meeting


def item_get_for_user(*, meeting: ReviewMeeting, item_id: int) -> AgendaItem:
    item = (
        AgendaItem.objects.select_related("target", "proposal", "case", "meeting")
        .filter(meeting=meeting, pk=item_id)
        .first()
    )
    if item is None:
        raise Http404(_("No such agenda item."))
    return item
