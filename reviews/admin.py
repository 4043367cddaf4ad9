from __future__ import annotations

from django.contrib import admin

from reviews.models import Proposal


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = [
        "target",
        "author",
        "proposed_base",
        "proposed_stretch",
        "reason",
        "status",
        "created_at",
    ]
    list_filter = ["status", "reason", "target__period"]
    search_fields = [
        "target__owner_unit__name",
        "target__owner_user__username",
        "target__owner_user__display_name",
        "author__username",
        "explanation",
    ]
    autocomplete_fields = ["target", "author", "decided_by"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"
