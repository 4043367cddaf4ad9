from __future__ import annotations

from django import forms
from django.contrib import admin

from reviews import services
from reviews.meeting_models import AgendaItem, ReviewMeeting
from reviews.models import ActualDispute, AdjustmentCase, DeviationSettings, Proposal
from targets.admin_readonly import ReadOnlyAdmin


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
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


class DeviationSettingsForm(forms.ModelForm):
    class Meta:
        model = DeviationSettings
        fields = ["company", "threshold_percent", "weeks"]

    def clean(self):
        data = super().clean()
        if all(data.get(k) is not None for k in ("company", "threshold_percent", "weeks")):
            services.deviation_settings_validate(
                company=data["company"],
                threshold_percent=data["threshold_percent"],
                weeks=data["weeks"],
            )
        return data


@admin.register(DeviationSettings)
class DeviationSettingsAdmin(admin.ModelAdmin):
    form = DeviationSettingsForm
    list_display = ["company", "threshold_percent", "weeks"]

    def save_model(self, request, obj, form, change):
        saved = services.deviation_settings_save(
            company=obj.company, threshold_percent=obj.threshold_percent, weeks=obj.weeks
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        obj.delete()  # back to the defaults: nothing else refers to settings


@admin.register(AdjustmentCase)
class AdjustmentCaseAdmin(ReadOnlyAdmin):
    """Read-only: cases are opened by the deviation trigger and closed by reviews."""

    list_display = ["target", "indicator", "opened_week", "state", "opened_at"]
    list_filter = ["state", "indicator"]


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    fields = ["position", "kind", "target", "proposal", "case", "dispute", "decision", "notes"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReviewMeeting)
class ReviewMeetingAdmin(ReadOnlyAdmin):
    """Read-only: the HRBP runs reviews in the app (admin takes no part in decisions)."""

    list_display = ["unit", "month", "chair", "state", "created_at", "closed_at"]
    list_filter = ["state", "month"]
    search_fields = ["unit__name", "chair__username", "chair__display_name"]
    exclude = ["minutes"]
    inlines = [AgendaItemInline]


@admin.register(ActualDispute)
class ActualDisputeAdmin(ReadOnlyAdmin):
    """Read-only: reps flag actuals and their managers resolve them in the app."""

    list_display = ["account", "kind", "author", "team", "amount", "state", "created_at"]
    list_filter = ["state", "kind"]
    search_fields = ["account", "author__username", "author__display_name", "comment"]
