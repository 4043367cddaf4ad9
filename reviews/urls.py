from __future__ import annotations

from django.urls import path

from reviews import views
from reviews.disputes import views as dispute_views

urlpatterns = [
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/new/", views.proposal_new, name="proposals-new"),
    path("proposals/new/preview/", views.proposal_preview, name="proposals-preview"),
    path("proposals/<int:proposal_id>/", views.proposal_detail, name="proposal-page"),
    path("proposals/<int:proposal_id>/submit/", views.proposal_submit, name="proposal-submit"),
    path(
        "proposals/<int:proposal_id>/withdraw/", views.proposal_withdraw, name="proposal-withdraw"
    ),
    path("proposals/<int:proposal_id>/decide/", views.proposal_decide, name="proposal-decide"),
    path("flags/", dispute_views.dispute_list, name="disputes"),
    path("flags/new/", dispute_views.dispute_new, name="disputes-new"),
    path("flags/<int:dispute_id>/", dispute_views.dispute_detail, name="dispute-page"),
    path("flags/<int:dispute_id>/resolve/", dispute_views.dispute_resolve, name="dispute-resolve"),
]
