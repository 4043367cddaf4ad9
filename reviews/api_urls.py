from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from reviews import api
from reviews.disputes.api import DisputeViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("proposals", api.ProposalViewSet, basename="proposal")
router.register("cases", api.AdjustmentCaseViewSet, basename="case")
router.register("disputes", DisputeViewSet, basename="dispute")

urlpatterns = [path("", include(router.urls))]
