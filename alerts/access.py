from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from alerts.models import Alert
from targets.access import access_for, targets_visible_to
from targets.access_metrics import metric_reps_visible_to
from targets.models import User


def alerts_visible_to(user: User) -> QuerySet[Alert]:
    """A rep sees own targets' (and own metric weeks') alerts, a manager / HRBP / director
    their scope's, an admin
    all (including alerts about no target, such as a failed sync)."""
    if access_for(user).is_admin:
        return Alert.objects.all()
    return Alert.objects.filter(
        Q(target__in=targets_visible_to(user)) | Q(user__in=metric_reps_visible_to(user))
    )


def alert_get_for_user(*, user: User, alert_id: int) -> Alert:
    alert = alerts_visible_to(user).filter(pk=alert_id).first()
    if alert is None:
        raise Http404(_("No such alert."))
    return alert
