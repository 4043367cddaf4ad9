from __future__ import annotations

from django.urls import path

from reviews import meeting_views, views
from reviews.disputes import views as dispute_views

urlpatterns = [
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/effect/", views.proposal_effect_section, name="proposal-effect-section"),
    path("proposals/new/", views.proposal_new, name="proposals-new"),
    path("proposals/new/preview/", views.proposal_preview, name="proposals-preview"),
    path("proposals/<int:proposal_id>/", views.proposal_detail, name="proposal-page"),
    path(
        "proposals/<int:proposal_id>/attachment/",
        views.proposal_attachment,
        name="proposal-attachment-download",
    ),
    path("proposals/<int:proposal_id>/submit/", views.proposal_submit, name="proposal-page-submit"),
    path(
        "proposals/<int:proposal_id>/withdraw/",
        views.proposal_withdraw,
        name="proposal-page-withdraw",
    ),
    path("proposals/<int:proposal_id>/decide/", views.proposal_decide, name="proposal-page-decide"),
    path("reviews/", meeting_views.meeting_list, name="meetings"),
    path("reviews/new/", meeting_views.meeting_new, name="meeting-new"),
    path("reviews/<int:meeting_id>/", meeting_views.meeting_detail, name="meeting-page"),
    path(
        "reviews/<int:meeting_id>/present/", meeting_views.meeting_present, name="meeting-present"
    ),
    path(
        "reviews/<int:meeting_id>/refresh/", meeting_views.meeting_refresh, name="meeting-refresh"
    ),
    path("reviews/<int:meeting_id>/close/", meeting_views.meeting_close, name="meeting-close"),
    path(
        "reviews/<int:meeting_id>/minutes/<str:fmt>/",
        meeting_views.meeting_minutes,
        name="meeting-minutes",
    ),
    path(
        "reviews/<int:meeting_id>/items/<int:item_id>/score/",
        meeting_views.item_score,
        name="meeting-item-score",
    ),
    path(
        "reviews/<int:meeting_id>/items/<int:item_id>/decide/",
        meeting_views.item_decide,
        name="meeting-item-decide",
    ),
    path(
        "reviews/<int:meeting_id>/items/<int:item_id>/move/",
        meeting_views.item_move,
        name="meeting-item-move",
    ),
    path("flags/", dispute_views.dispute_list, name="disputes"),
    path("flags/new/", dispute_views.dispute_new, name="disputes-new"),
    path("flags/<int:dispute_id>/", dispute_views.dispute_detail, name="dispute-page"),
    path(
        "flags/<int:dispute_id>/resolve/",
        dispute_views.dispute_resolve,
        name="dispute-page-resolve",
    ),
]
