from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from alerts.models import Alert, Notification
from targets.access import access_for, targets_visible_to
from targets.access_metrics import metric_reps_visible_to
from targets.models import User


def alerts_visible_to(user: User) -> QuerySet[Alert]:
    """A rep sees own targets' (and own metric weeks') alerts, a manager / HRBP / director
    their scope's, an admin all. An alert about neither a target nor a rep (a failed sync)
    is seen by admins and by the people the rule told about it."""
    if access_for(user).is_admin:
        return Alert.objects.all()
    told = Notification.objects.filter(alert=OuterRef("pk"), recipient=user)
    return Alert.objects.filter(
        Q(target__in=targets_visible_to(user))
        | Q(user__in=metric_reps_visible_to(user))
        | (Q(target__isnull=True) & Q(user__isnull=True) & Exists(told))
    )


def alert_get_for_user(*, user: User, alert_id: int) -> Alert:
    alert = alerts_visible_to(user).filter(pk=alert_id).first()
    if alert is None:
        raise Http404(_("No such alert."))
    return alert
