from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from targets import views, views_grid, views_metrics

admin.site.site_header = _("TargetPilot administration")
admin.site.site_title = _("TargetPilot")
admin.site.index_title = _("Organisation, targets and actuals")

urlpatterns = [
    path("", views.home, name="home"),
    path("targets/<int:target_id>/", views.target_detail, name="target-page"),
    path("targets/<int:target_id>/allocate/", views.target_allocate, name="target-allocate"),
    path("targets/grid/", views_grid.target_grid, name="target-grid"),
    path("targets/grid/export/", views_grid.target_grid_export, name="target-grid-export"),
    path("targets/grid/import/", views_grid.target_grid_import, name="target-grid-import"),
    path("deals/", views.deal_list, name="deals"),
    path("deals/new/", views.deal_new, name="deals-new"),
    path("deals/<int:deal_id>/confirm/", views.deal_confirm, name="deals-confirm"),
    path(
        "deals/<int:deal_id>/confirm/preview/",
        views.deal_confirm_preview,
        name="deals-confirm-preview",
    ),
    path("metrics/", views_metrics.metric_list, name="metrics"),
    path("metrics/new/", views_metrics.metric_new, name="metrics-new"),
    path("metrics/<int:metric_id>/", views_metrics.metric_detail, name="metric-page"),
    path("metrics/<int:metric_id>/edit/", views_metrics.metric_edit, name="metric-edit"),
    path(
        "metric-values/<int:value_id>/confirm/",
        views_metrics.metric_value_confirm,
        name="metric-value-confirm-page",
    ),
    path("", include("reviews.urls")),
    path("", include("alerts.urls")),
    path("", include("integrations.urls")),
    path("language/", views.set_language, name="set-language"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("targets.api.urls")),
    path("api/v1/", include("reviews.api_urls")),
    path("api/v1/", include("alerts.api_urls")),
    path("api/v1/", include("integrations.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

# Styled error pages in both languages; JSON under /api/ (config/error_views.py).
handler400 = "config.error_views.bad_request"
handler403 = "config.error_views.permission_denied"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"
