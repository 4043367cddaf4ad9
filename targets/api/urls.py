from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import metrics, views

router = DefaultRouter()
router.register("org-units", views.OrgUnitViewSet, basename="org-unit")
router.register("users", views.UserViewSet, basename="user")
router.register("targets", views.TargetViewSet, basename="target")
router.register("deals", views.DealViewSet, basename="deal")
router.register("metrics", metrics.MetricViewSet, basename="metric")
router.register("metric-values", metrics.MetricValueViewSet, basename="metric-value")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("me/", views.me, name="api-me"),
    path("dashboard/summary/", views.dashboard_summary, name="api-dashboard-summary"),
    path("", include(router.urls)),
]
