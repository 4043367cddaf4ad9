from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views
from .auth import obtain_token

router = DefaultRouter()
router.register("org-units", views.OrgUnitViewSet, basename="org-unit")
router.register("users", views.UserViewSet, basename="user")
router.register("targets", views.TargetViewSet, basename="target")
router.register("deals", views.DealViewSet, basename="deal")

urlpatterns = [
    path("auth/token/", obtain_token, name="api-token"),
    path("me/", views.me, name="api-me"),
    path("dashboard/summary/", views.dashboard_summary, name="api-dashboard-summary"),
    path("", include(router.urls)),
]
