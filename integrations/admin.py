"""Admin for connections and the run log; writes go through the integrations services.

Secrets are never rendered: the form shows the plain settings and takes new secrets in a
field that starts empty every time (left empty, the stored ones are kept).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from targets.admin_readonly import ReadOnlyAdmin
from targets.errors import StateConflict

from . import runs, services
from .models import ApprovalInstance, Connection, SyncRun


class ConnectionAdminForm(forms.ModelForm):
    new_secrets = forms.CharField(
        label=_("New secrets"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_(
            'JSON, e.g. {"secret": "…"}. Stored secrets are never shown; leave empty to keep '
            "them, give a name with an empty value to remove one."
        ),
    )

    class Meta:
        model = Connection
        fields = ["kind", "name", "source", "enabled", "schedule_minutes", "settings"]

    def clean_new_secrets(self) -> dict:
        text = self.cleaned_data["new_secrets"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise ValidationError(_("Write the secrets as a JSON object.")) from None
        if not isinstance(value, dict):
            raise ValidationError(_("Write the secrets as a JSON object."))
        return value

    def clean_settings(self) -> dict:
        settings = self.cleaned_data.get("settings") or {}
        if not isinstance(settings, dict):
            raise ValidationError(_("Write the settings as a JSON object."))
        return settings

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if self.instance.pk and kind and kind != self.instance.kind:
            self.add_error("kind", _("The kind of a connection cannot change; create another one."))
        return cleaned


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionAdminForm
    list_display = ["name", "kind", "source", "enabled", "schedule_minutes", "freshness"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name"]
    readonly_fields = ["secrets_set", "last_success_at", "last_error", "webhook_url"]
    # Adds "Test connection" and "Sync now" (for pulled kinds) above the form.
    change_form_template = "admin/integrations/connection/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/test/",
                view(require_POST(self.test_view)),
                name="integrations_connection_test",
            ),
            path(
                "<int:object_id>/sync/",
                view(require_POST(self.sync_view)),
                name="integrations_connection_sync",
            ),
            *super().get_urls(),
        ]

    def _connection(self, request, object_id: int) -> Connection:
        connection = get_object_or_404(Connection, pk=object_id)
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        return connection

    def test_view(self, request, object_id: int):
        connection = self._connection(request, object_id)
        ok, message = runs.connection_test(connection=connection)
        level = messages.SUCCESS if ok else messages.ERROR
        self.message_user(request, message, level)
        return redirect("admin:integrations_connection_change", connection.pk)

    def sync_view(self, request, object_id: int):
        connection = self._connection(request, object_id)
        try:
            run = runs.run_request(connection_id=connection.pk, started_by=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        except StateConflict as conflict:
            self.message_user(request, conflict.message, messages.WARNING)
        else:
            self.message_user(
                request,
                gettext("Sync started (run %(id)s); its log is under sync runs.") % {"id": run.pk},
                messages.SUCCESS,
            )
        return redirect("admin:integrations_connection_change", connection.pk)

    @admin.display(description=_("stored secrets"))
    def secrets_set(self, obj: Connection) -> str:
        return ", ".join(sorted(obj.secrets)) or "—"

    @admin.display(description=_("webhook address"))
    def webhook_url(self, obj: Connection) -> str:
        if not obj.pk or obj.kind != "webhook":
            return "—"
        return reverse("api-webhook", args=[obj.pk])

    @admin.display(description=_("data freshness"))
    def freshness(self, obj: Connection) -> str:
        if obj.last_error:
            return format_html('<span style="color:#b42318">{}</span>', obj.last_error[:80])
        return obj.last_success_at.isoformat(timespec="minutes") if obj.last_success_at else "—"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        settings = {**data["settings"]}
        # A secret typed into the plain settings is still a secret: the service files it so.
        settings.update(data["new_secrets"])
        saved = services.connection_save(
            connection=Connection.objects.get(pk=obj.pk) if change else None,
            kind=data["kind"],
            name=data["name"],
            source=data["source"],
            enabled=data["enabled"],
            schedule_minutes=data["schedule_minutes"],
            settings=settings,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.connection_delete(connection=obj)

    def delete_queryset(self, request, queryset):
        for connection in queryset:
            services.connection_delete(connection=connection)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    """The run log: written by runs only, read here."""

    list_display = [
        "started_at",
        "kind",
        "source",
        "connection",
        "fetched",
        "created",
        "updated",
        "deleted",
        "failed",
        "duration",
        "error",
    ]
    list_filter = ["kind", "source", "connection"]
    date_hierarchy = "started_at"

    exclude = ["failures", "unmapped_owners"]
    readonly_fields = ["owners_not_mapped", "failed_rows"]

    @admin.display(description=_("unmapped owners"))
    def owners_not_mapped(self, obj: SyncRun) -> str:
        return ", ".join(obj.unmapped_owners) or "—"

    @admin.display(description=_("failed rows"))
    def failed_rows(self, obj: SyncRun):
        if not obj.failures:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            "{}: {} — {}",
            (
                (f.get("row") or f.get("id") or "?", f.get("field", ""), f.get("message", ""))
                for f in obj.failures
            ),
        )

    @admin.display(description=_("duration (s)"))
    def duration(self, obj: SyncRun) -> str:
        seconds = obj.duration_seconds
        return "—" if seconds is None else f"{seconds:.1f}"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApprovalInstance)
class ApprovalInstanceAdmin(ReadOnlyAdmin):
    """DingTalk approvals of proposals: written only by the approval service."""

    list_display = ["proposal", "instance_id", "state", "result", "approver_userid", "created_at"]
    list_filter = ["state", "connection"]
    search_fields = ["instance_id", "approver_userid"]
    list_select_related = ["proposal__target__owner_user", "proposal__target__owner_unit"]
