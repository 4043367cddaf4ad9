from __future__ import annotations

from django.contrib import admin

from reviews.models import Proposal


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    """Read-only: proposals are written, submitted and decided in the app, through the
    services that claim each decision once and write the revision (admin is no sales
    authority, SPEC §2)."""

    list_display = [
        "target",
        "author",
        "proposed_base",
        "proposed_stretch",
        "reason",
        "status",
        "created_at",
        "decided_by",
    ]
    list_filter = ["status", "reason", "target__period"]
    search_fields = [
        "target__owner_unit__name",
        "target__owner_user__username",
        "target__owner_user__display_name",
        "author__username",
        "explanation",
    ]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
