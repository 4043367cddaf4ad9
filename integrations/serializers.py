from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from .models import SECRET_SETTINGS, SYNC_SOURCES, Connection, ConnectionKind, SyncRun


class ConnectionSerializer(serializers.ModelSerializer):
    """Settings are shown without their secrets; `secrets_set` names the stored ones."""

    settings = serializers.SerializerMethodField()
    secrets_set = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = [
            "id",
            "kind",
            "name",
            "source",
            "enabled",
            "schedule_minutes",
            "settings",
            "secrets_set",
            "last_success_at",
            "last_error",
        ]

    def get_settings(self, obj: Connection) -> dict:
        hidden = SECRET_SETTINGS.get(obj.kind, ())
        return {k: v for k, v in obj.settings.items() if k not in hidden}

    def get_secrets_set(self, obj: Connection) -> list[str]:
        return sorted(obj.secrets)


class ConnectionInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ConnectionKind.choices)
    name = serializers.CharField(max_length=100)
    source = serializers.ChoiceField(choices=SYNC_SOURCES, required=False)
    enabled = serializers.BooleanField(default=True)
    schedule_minutes = serializers.IntegerField(min_value=1, max_value=10_080, default=15)
    settings = serializers.DictField(required=False, help_text="Secrets are write-only.")


class SyncRunSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "connection",
            "kind",
            "source",
            "started_by",
            "started_at",
            "finished_at",
            "duration_seconds",
            "fetched",
            "created",
            "updated",
            "deleted",
            "failed",
            "unmapped_owners",
            "failures",
            "error",
        ]


class SyncRunInputSerializer(serializers.Serializer):
    connection = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    failed = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)


class ImportResultSerializer(IngestResultSerializer):
    kind = serializers.CharField()
    dry_run = serializers.BooleanField()
    written = serializers.BooleanField()
    run = serializers.IntegerField(allow_null=True)


class WebhookResultSerializer(IngestResultSerializer):
    run = serializers.IntegerField()


IMPORT_KINDS = ["deals", "targets", "org", "metric_values"]


class ImportInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=IMPORT_KINDS, default="deals")
    dry_run = serializers.BooleanField(default=False)
    keep_good_rows = serializers.BooleanField(default=False)
    period = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=10,
        help_text="targets: the quarter (2025Q3); an XLSX names it in its sheet title.",
    )

    def validate_kind(self, value: str) -> str:
        from .importers import IMPORTERS

        if value not in IMPORTERS:
            raise serializers.ValidationError(
                _("'%(kind)s' files cannot be imported yet.") % {"kind": value}
            )
        return value


class WebhookInputSerializer(serializers.Serializer):
    records = serializers.ListField(child=serializers.DictField())
