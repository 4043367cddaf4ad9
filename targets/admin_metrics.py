"""Process metrics in the Django admin: to look up, never to write. Definitions are edited on
the metrics settings page and values arrive by entry, import or derivation, all through
`targets.services.metrics`, so the admin cannot write around their checks."""

from __future__ import annotations

from django.contrib import admin

from targets.admin_readonly import ReadOnlyAdmin
from targets.models import Activity, Metric, MetricValue


@admin.register(Metric)
class MetricAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "name_en", "category", "unit", "direction", "key", "active")
    list_filter = ("category", "unit", "direction", "key", "active", "derivation")
    search_fields = ("code", "name", "name_en")


@admin.register(MetricValue)
class MetricValueAdmin(ReadOnlyAdmin):
    list_display = ("metric", "user", "week", "value", "source", "counts", "confirmed_by")
    list_filter = ("metric", "source", "counts")
    search_fields = ("user__username", "user__display_name", "week")
    list_select_related = ("metric", "user", "confirmed_by")


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "source", "owner", "account", "kind", "occurred_on", "completed")
    list_filter = ("source", "kind", "completed", "key_account")
    search_fields = ("external_id", "account", "owner__username")
    list_select_related = ("owner",)
