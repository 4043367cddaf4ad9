"""Words for notices and alerts, rendered when shown, in the reader's language."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from alerts.models import Alert, AlertKind, Notification, NotificationKind
from targets.formatting import format_pct, status_label


def alert_message(alert: Alert) -> str:
    target = alert.target
    name = target.owner_name if target is not None else ""
    period = target.period if target is not None else ""
    details = alert.details or {}
    if alert.kind == AlertKind.STATUS_WORSE:
        rate = details.get("pace") or details.get("completion")
        return _("%(owner)s %(period)s went from %(before)s to %(after)s (pace %(pace)s).") % {
            "owner": name,
            "period": period,
            "before": status_label(details.get("from")),
            "after": status_label(details.get("to")),
            "pace": format_pct(Decimal(rate) if rate else None),
        }
    if alert.kind == AlertKind.CASE_OPENED:
        return _(
            "An adjustment case opened for %(owner)s %(period)s: a key indicator was off "
            "plan by more than the threshold two weeks running."
        ) % {"owner": name, "period": period}
    if alert.kind == AlertKind.METRIC_THRESHOLD and alert.metric is not None:
        metric = alert.metric
        words = {
            "rep": alert.user.display_name or alert.user.username if alert.user else "",
            "metric": metric_name(metric),
            "week": details.get("week", ""),
            "value": details.get("value", ""),
            "plan": details.get("plan", ""),
            "shortfall": details.get("shortfall", ""),
        }
        if details.get("level") == "alert":
            return (
                _(
                    "%(rep)s: %(metric)s was %(value)s in %(week)s against a plan of %(plan)s, "
                    "%(shortfall)s %% worse: past the alert threshold."
                )
                % words
            )
        return (
            _(
                "%(rep)s: %(metric)s was %(value)s in %(week)s against a plan of %(plan)s, "
                "%(shortfall)s %% worse: past the warning threshold."
            )
            % words
        )
    return str(alert.get_kind_display())


def metric_name(metric) -> str:
    """The metric's name in the reader's language (English falls back to Chinese)."""
    if get_language() and not get_language().startswith("zh") and metric.name_en:
        return metric.name_en
    return metric.name


def notice_title(notice: Notification) -> str:
    if notice.alert_id is not None:
        alert = notice.alert
        owner = alert.target.owner_name if alert.target is not None else ""
        if alert.target is None and alert.user is not None:
            owner = alert.user.display_name or alert.user.username
        return _("Alert: %(kind)s — %(owner)s") % {
            "kind": alert.get_kind_display(),
            "owner": owner,
        }
    owner = notice.target.owner_name if notice.target is not None else ""
    return (
        f"{NotificationKind(notice.kind).label} — {owner}"
        if owner
        else str(NotificationKind(notice.kind).label)
    )


def notice_text(notice: Notification) -> str:
    if notice.alert_id is not None:
        return alert_message(notice.alert)
    return notice.note
