from __future__ import annotations

from django.contrib import admin

from alerts.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notices are written by the services that raise them."""

    list_display = ["created_at", "recipient", "kind", "actor", "target", "read_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__username", "note"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
