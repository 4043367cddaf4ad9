"""API v1 for alerts (SPEC §10 `alerts/`, `alerts/summary/`)."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from alerts import access, delivery, services
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
            "connection",
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
    connection = IdFilter(field_name="connection_id")

    class Meta:
        model = Alert
        fields = ["kind", "state", "target", "connection"]


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts on targets the user may see; acknowledged then resolved, each once."""

    queryset = Alert.objects.none()
    serializer_class = AlertSerializer
    filterset_class = AlertFilter

    def get_queryset(self):
        return (
            access.alerts_visible_to(self.request.user)
            .select_related(
                "target", "target__owner_user", "target__owner_unit", "connection", "metric", "user"
            )
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


# Notification preferences (the settings page's, for the signed-in user) ----------------


class PreferenceSerializer(serializers.Serializer):
    topic = serializers.CharField(help_text="A notice or alert kind.")
    channel = serializers.CharField(help_text="A channel code, e.g. email.")
    mode = serializers.CharField(help_text="each, digest (where the channel offers it) or off.")
    modes = serializers.ListField(child=serializers.CharField(), read_only=True)


class PreferencesSerializer(serializers.Serializer):
    preferences = PreferenceSerializer(many=True)


def _preferences(user) -> dict:
    return {
        "preferences": [
            {
                "topic": row["topic"],
                "channel": cell["channel"].code,
                "mode": cell["mode"],
                "modes": [value for value, _label in cell["modes"]],
            }
            for row in delivery.preference_grid(user)
            for cell in row["cells"]
        ]
    }


@extend_schema(
    tags=["me"],
    methods=["GET"],
    responses=PreferencesSerializer,
    operation_id="me_notification_preferences_retrieve",
)
@extend_schema(
    tags=["me"],
    methods=["PUT"],
    request=PreferencesSerializer,
    responses=PreferencesSerializer,
    operation_id="me_notification_preferences_update",
    description="Sets the modes given; the others stay. The inbox always gets every notice.",
)
@api_view(["GET", "PUT"])
@permission_classes([IsAuthenticated])
def notification_preferences(request):
    if request.method == "PUT":
        given = PreferencesSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        delivery.notification_preferences_save(
            user=request.user,
            modes={
                (p["topic"], p["channel"]): p["mode"] for p in given.validated_data["preferences"]
            },
        )
    return Response(PreferencesSerializer(_preferences(request.user)).data)
