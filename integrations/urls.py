from __future__ import annotations

from django.urls import path

from . import views
from .dingtalk import views as dingtalk_views

urlpatterns = [
    path("imports/", views.imports_page, name="imports"),
    path(
        "integrations/dingtalk/<int:connection_id>/contacts/",
        dingtalk_views.contacts_page,
        name="dingtalk-contacts",
    ),
    path("imports/templates/<slug:kind>/", views.import_template, name="import-template"),
    path("setup/", views.setup_page, name="setup"),
]
