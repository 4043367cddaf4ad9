from __future__ import annotations

from django.contrib import admin

from alerts.models import Notification
from targets.admin_readonly import ReadOnlyAdmin


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Read-only: notices are written by the services that raise them."""

    list_display = ["created_at", "recipient", "kind", "actor", "target", "read_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__username", "note"]
    date_hierarchy = "created_at"
