"""Who may see and do what with process metrics and their weekly values (SPEC §2).

Definitions: read by everyone signed in, written by admin only. Values follow the people
they belong to: a rep sees own, a manager / HRBP / director / finance user their scope's,
admin all; a rep enters own weeks, a manager those of reps below them; a manager over the rep
(never the author) confirms a rep's own entry.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from targets.access import access_for, users_visible_to
from targets.models import Metric, MetricValue, Role, User


def may_manage_metrics(user: User) -> bool:
    return access_for(user).is_admin


def metric_get(*, metric_id: int) -> Metric:
    metric = Metric.objects.filter(pk=metric_id).first()
    if metric is None:
        raise Http404(_("No such metric."))
    return metric


def metric_get_for_managing(*, user: User, metric_id: int) -> Metric:
    metric = metric_get(metric_id=metric_id)
    if not may_manage_metrics(user):
        raise PermissionDenied(_("Only an administrator defines metrics."))
    return metric


def metric_reps_visible_to(user: User) -> QuerySet[User]:
    """The people whose metric values `user` sees (the same rule as people)."""
    return users_visible_to(user)


def metric_values_visible_to(user: User) -> QuerySet[MetricValue]:
    values = MetricValue.objects.all()
    if access_for(user).is_admin:
        return values
    return values.filter(user__in=metric_reps_visible_to(user).values("pk"))


def metric_value_get_for_user(*, user: User, value_id: int) -> MetricValue:
    value = metric_values_visible_to(user).filter(pk=value_id).select_related("user").first()
    if value is None:
        raise Http404(_("No such metric value."))
    return value


def can_enter_metric_for(user: User, *, rep: User) -> bool:
    access = access_for(user)
    if rep.pk == user.pk:
        return access.is_rep
    return rep.is_active and access.manages_unit(rep.team_id)


def can_confirm_metric_value(user: User, value: MetricValue) -> bool:
    return value.entered_by_id != user.pk and access_for(user).manages_unit(value.user.team_id)


def metric_value_get_for_confirmation(*, user: User, value_id: int) -> MetricValue:
    value = metric_value_get_for_user(user=user, value_id=value_id)
    if not can_confirm_metric_value(user, value):
        raise PermissionDenied(_("Only a manager over the rep, not the author, confirms it."))
    return value


def reps_for_metric_entry(user: User) -> QuerySet[User]:
    """The reps `user` may enter values for: themself (a rep) and reps below a managed unit."""
    access = access_for(user)
    reps = User.objects.filter(is_active=True, role_assignments__role=Role.REP)
    allowed = reps.filter(team__in=access.subtree_of(access.managed_unit_ids))
    if access.is_rep:
        allowed = allowed | reps.filter(pk=user.pk)
    return allowed.distinct().order_by("username")
