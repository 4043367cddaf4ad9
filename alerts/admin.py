from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from alerts import services
from alerts.models import Alert, AlertRule, DeliveryAttempt, Notification
from targets.admin_readonly import ReadOnlyAdmin


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Read-only: notices are written by the services that raise them."""

    list_display = [
        "created_at",
        "recipient",
        "kind",
        "actor",
        "target",
        "read_at",
    ]
    list_filter = ["kind"]
    search_fields = ["recipient__username", "note"]
    date_hierarchy = "created_at"


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = ["enabled", "thresholds", "to_owner", "to_manager", "to_hrbp", "to_director"]

    def clean_thresholds(self):
        thresholds = self.cleaned_data.get("thresholds")
        try:
            services.alert_rule_validate_thresholds(thresholds)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return thresholds


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
    """One rule per kind (created with SPEC §7 defaults on first use); saved through the
    service, which checks the thresholds."""

    list_display = ["kind", "enabled", "to_owner", "to_manager", "to_hrbp", "to_director"]
    fields = ["kind", "enabled", "thresholds", "to_owner", "to_manager", "to_hrbp", "to_director"]
    readonly_fields = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        for kind in services.RULE_DEFAULTS:
            services.alert_rule_get(kind=kind)
        return super().get_queryset(request)

    def save_model(self, request, obj, form, change):
        services.alert_rule_update(
            rule=obj,
            enabled=obj.enabled,
            thresholds=obj.thresholds,
            to_owner=obj.to_owner,
            to_manager=obj.to_manager,
            to_hrbp=obj.to_hrbp,
            to_director=obj.to_director,
        )


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """Read-only: alerts are raised by rules and handled in the inbox or the API."""

    list_display = ["created_at", "kind", "target", "state", "acknowledged_at", "resolved_at"]
    list_filter = ["kind", "state"]
    date_hierarchy = "created_at"


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    """Read-only: the log every channel writes, one row per attempt."""

    list_display = ["at", "channel", "recipient", "notification", "digest_day", "attempt", "ok"]
    list_filter = ["channel", "ok"]
    search_fields = ["recipient__username", "error"]
    date_hierarchy = "at"
