"""API v1 for alerts (SPEC §10 `alerts/`, `alerts/summary/`)."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from alerts import access, services
from alerts.messages import alert_message
from alerts.models import Alert, AlertKind, AlertState
from alerts.selectors import alert_summary
from targets.api.views import IdFilter
from targets.periods import PeriodError, Quarter


class AlertSerializer(serializers.ModelSerializer):
    message = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "target",
            "metric",
            "user",
            "state",
            "created_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
            "message",
        ]
        read_only_fields = fields

    def get_message(self, alert: Alert) -> str:
        return alert_message(alert)


class AlertSummarySerializer(serializers.Serializer):
    period = serializers.CharField()
    open = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    resolved = serializers.IntegerField()
    same_day_share = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, help_text="Percent, 0–100."
    )


class AlertFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices)
    state = django_filters.ChoiceFilter(choices=AlertState.choices)
    target = IdFilter(field_name="target_id")

    class Meta:
        model = Alert
        fields = ["kind", "state", "target"]


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts on targets the user may see; acknowledged then resolved, each once."""

    queryset = Alert.objects.none()
    serializer_class = AlertSerializer
    filterset_class = AlertFilter

    def get_queryset(self):
        return (
            access.alerts_visible_to(self.request.user)
            .select_related("target", "target__owner_user", "target__owner_unit", "metric", "user")
            .order_by("-created_at", "-pk")
        )

    @extend_schema(request=None, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = self.get_object()
        alert = services.alert_acknowledge(alert=alert, user=request.user)
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=None, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        alert = self.get_object()
        alert = services.alert_resolve(alert=alert, user=request.user)
        return Response(AlertSerializer(alert).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "period", OpenApiTypes.STR, description="A quarter, e.g. 2025Q2 (default: now)."
            )
        ],
        responses=AlertSummarySerializer,
        filters=False,
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def summary(self, request):
        label = request.query_params.get("period")
        try:
            quarter = Quarter.parse(label) if label else Quarter.of(timezone.localdate())
        except PeriodError as error:
            raise ValidationError({"period": [_("Give a quarter such as 2025Q2.")]}) from error
        summary = alert_summary(alerts=access.alerts_visible_to(request.user), quarter=quarter)
        return Response(AlertSummarySerializer(summary).data)
