from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("imports/", views.imports_page, name="imports"),
    path("imports/templates/<slug:kind>/", views.import_template, name="import-template"),
    path("setup/", views.setup_page, name="setup"),
]
