from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from alerts import api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("alerts", api.AlertViewSet, basename="alert")

urlpatterns = [
    path(
        "me/notification-preferences/",
        api.notification_preferences,
        name="api-notification-preferences",
    ),
    path("", include(router.urls)),
]
