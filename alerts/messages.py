"""Words for notices and alerts, rendered when shown, in the reader's language."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
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
    if alert.kind == AlertKind.SYNC_FAILED:
        return _("The last sync of %(connection)s failed: %(error)s") % {
            "connection": _connection_name(alert),
            "error": details.get("error", ""),
        }
    if alert.kind == AlertKind.DATA_STALE:
        return _(
            "%(connection)s has not synced successfully for %(hours)s hours: figures may "
            "be missing recent deals."
        ) % {"connection": _connection_name(alert), "hours": details.get("hours", "")}
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


def _connection_name(alert: Alert) -> str:
    return alert.connection.name if alert.connection_id else _("a removed connection")


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
        elif alert.target is None and alert.connection_id:
            owner = alert.connection.name
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


# The page a notice is about, by kind; its subject_id is that page's object.
SUBJECT_PAGES = {
    NotificationKind.PROPOSAL_SUBMITTED: "proposal-page",
    NotificationKind.PROPOSAL_APPROVED: "proposal-page",
    NotificationKind.PROPOSAL_REJECTED: "proposal-page",
    NotificationKind.DISPUTE_OPENED: "dispute-page",
    NotificationKind.DISPUTE_RESOLVED: "dispute-page",
    NotificationKind.REVIEW_INVITED: "meeting-page",
    NotificationKind.REVIEW_CLOSED: "meeting-page",
}


def notice_link(notice: Notification) -> str:
    """Where the notice leads: its proposal, flag or review, else its target, else the rep's
    weeks of the metric an alert is about, else nowhere."""
    page = SUBJECT_PAGES.get(notice.kind)
    if page and notice.subject_id:
        return reverse(page, args=[notice.subject_id])
    if notice.target_id:
        return reverse("target-page", args=[notice.target_id])
    alert = notice.alert if notice.alert_id else None
    if alert is not None and alert.metric_id:
        return reverse("metric-page", args=[alert.metric_id]) + f"?user={alert.user_id}"
    return ""
