from __future__ import annotations

from django.urls import path

from alerts import views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path(
        "settings/notifications/",
        views.notification_settings,
        name="notification-settings",
    ),
    path("inbox/badge/", views.inbox_badge, name="inbox-badge"),
    path("inbox/read/", views.notices_read_all, name="inbox-read-all"),
    path("inbox/<int:notification_id>/read/", views.notice_read, name="inbox-read"),
    path(
        "alerts/<int:alert_id>/acknowledge/",
        views.alert_acknowledge,
        name="inbox-alert-acknowledge",
    ),
    path("alerts/<int:alert_id>/resolve/", views.alert_resolve, name="inbox-alert-resolve"),
]
