from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from integrations import api
from integrations.dingtalk import views as dingtalk_views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("connections", api.ConnectionViewSet, basename="connection")
router.register("sync-runs", api.SyncRunViewSet, basename="sync-run")

urlpatterns = [
    path("imports/", api.imports, name="api-imports"),
    path(
        "integrations/webhook/<int:connection_id>/",
        api.WebhookView.as_view(),
        name="api-webhook",
    ),
    path(
        "integrations/dingtalk/callback/<int:connection_id>/",
        dingtalk_views.callback,
        name="api-dingtalk-callback",
    ),
    path("", include(router.urls)),
]
