from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from alerts import api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("alerts", api.AlertViewSet, basename="alert")

urlpatterns = [path("", include(router.urls))]
