from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from reviews import api, meeting_api
from reviews.disputes.api import DisputeViewSet
from reviews.effect_api import proposal_effect

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("proposals", api.ProposalViewSet, basename="proposal")
router.register("cases", api.AdjustmentCaseViewSet, basename="case")
router.register("reviews", meeting_api.ReviewViewSet, basename="review")
router.register(
    r"reviews/(?P<review_pk>[0-9]+)/items", meeting_api.AgendaItemViewSet, basename="review-item"
)
router.register("disputes", DisputeViewSet, basename="dispute")

urlpatterns = [
    # Before the router: its `proposals/{id}/` would take "effect" for an id.
    path("proposals/effect/", proposal_effect, name="proposal-effect"),
    path("", include(router.urls)),
]
