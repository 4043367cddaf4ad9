"""The in-app inbox: notices and alerts, mark read, acknowledge, resolve; the header badge."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts import access, delivery, selectors, services
from alerts.messages import notice_link, notice_text, notice_title
from targets.errors import StateConflict, ValidationError


@login_required
@require_GET
def inbox(request):
    notices = selectors.inbox_for(request.user)
    rows = [
        {"notice": n, "title": notice_title(n), "text": notice_text(n), "link": notice_link(n)}
        for n in notices
    ]
    return render(
        request,
        "alerts/inbox.html",
        {"rows": rows, "unread": selectors.unread_count(request.user)},
    )


@login_required
@require_GET
def inbox_badge(request):
    return render(request, "alerts/_badge.html", {"unread": selectors.unread_count(request.user)})


@login_required
@require_POST
def notice_read(request, notification_id: int):
    services.notification_mark_read(user=request.user, notification_id=notification_id)
    return redirect("inbox")


@login_required
@require_POST
def notices_read_all(request):
    services.notification_mark_read(user=request.user)
    return redirect("inbox")


def _act(request, action) -> object:
    try:
        action()
    except StateConflict as conflict:
        messages.error(request, conflict.message)
    else:
        messages.success(request, _("Done."))
    return redirect("inbox")


@login_required
@require_POST
def alert_acknowledge(request, alert_id: int):
    alert = access.alert_get_for_user(user=request.user, alert_id=alert_id)
    return _act(request, lambda: services.alert_acknowledge(alert=alert, user=request.user))


@login_required
@require_POST
def alert_resolve(request, alert_id: int):
    alert = access.alert_get_for_user(user=request.user, alert_id=alert_id)
    return _act(request, lambda: services.alert_resolve(alert=alert, user=request.user))


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    """Every user chooses, per kind of notice, which channels tell them and how: each
    notice as it comes, or one daily digest. The inbox always gets everything."""
    error, status = None, 200
    if request.method == "POST":
        modes = {
            (topic, code): request.POST[f"{topic}__{code}"]
            for topic in delivery.TOPIC_CODES
            for code in (c.code for c in delivery.registry.channels())
            if f"{topic}__{code}" in request.POST
        }
        try:
            delivery.notification_preferences_save(user=request.user, modes=modes)
        except ValidationError as invalid:
            error, status = invalid.messages[0], 400
        else:
            messages.success(request, _("Saved."))
            return redirect("notification-settings")
    return render(
        request,
        "alerts/settings.html",
        {
            "rows": delivery.preference_grid(request.user),
            "channels": delivery.registry.channels(),
            "error": error,
        },
        status=status,
    )
