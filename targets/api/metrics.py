"""API v1 for process metrics (SPEC §10 `metrics/`, `metric-values/`)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from targets import access_metrics as access
from targets.access import users_nameable_by
from targets.metric_fields import OPERATORS
from targets.models import (
    DerivationKind,
    Metric,
    MetricAggregation,
    MetricCategory,
    MetricDirection,
    MetricUnit,
    MetricValue,
    RecordType,
    User,
)
from targets.money import MAX_AMOUNT
from targets.services import metrics as services

from .views import IdFilter


class MetricFilterSerializer(serializers.Serializer):
    field = serializers.CharField(max_length=40)
    op = serializers.ChoiceField(choices=list(OPERATORS), default="eq")
    value = serializers.JSONField()


class MetricSerializer(serializers.ModelSerializer):
    code = serializers.SlugField(max_length=32)
    category = serializers.ChoiceField(choices=MetricCategory.choices)
    unit = serializers.ChoiceField(choices=MetricUnit.choices)
    aggregation = serializers.ChoiceField(choices=MetricAggregation.choices)
    direction = serializers.ChoiceField(
        choices=MetricDirection.choices, default=MetricDirection.HIGHER
    )
    weekly_plan = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, max_value=MAX_AMOUNT
    )
    warn_at = serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        min_value=0,
        allow_null=True,
        required=False,
        help_text="Percent short of the weekly plan, in the metric's bad direction, at which "
        "a rep's week is flagged 'warn' (reached counts).",
    )
    alert_at = serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        min_value=0,
        allow_null=True,
        required=False,
        help_text="As warn_at, for 'alert'; above warn_at. Key metrics raise metric_threshold.",
    )
    derivation = serializers.ChoiceField(
        choices=DerivationKind.choices, default=DerivationKind.NONE
    )
    record_type = serializers.ChoiceField(
        choices=[("", "—"), *RecordType.choices], required=False, default=""
    )
    field = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    field_to = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    filters = MetricFilterSerializer(many=True, required=False, default=list)

    class Meta:
        model = Metric
        fields = ["id", *services.METRIC_FIELDS]
        # The service checks uniqueness and the database keeps it; no validator query.
        validators = []


class MetricsAdministratorsWrite(BasePermission):
    message = "Only administrators define metrics."

    def has_permission(self, request, view) -> bool:
        if not request.user.is_authenticated:
            return False
        return (
            request.method in SAFE_METHODS or view.detail or access.may_manage_metrics(request.user)
        )

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or access.may_manage_metrics(request.user)


class MetricViewSet(viewsets.ModelViewSet):
    """Process metrics: read by everyone signed in, defined by administrators."""

    queryset = Metric.objects.none()
    serializer_class = MetricSerializer
    permission_classes = [MetricsAdministratorsWrite]

    def get_queryset(self):
        return Metric.objects.order_by("category", "code")

    def _check_code(self, code: str, metric: Metric | None) -> None:
        if Metric.objects.filter(code=code).exclude(pk=metric.pk if metric else None).exists():
            raise serializers.ValidationError({"code": [_("A metric with this code exists.")]})

    def perform_create(self, serializer):
        self._check_code(serializer.validated_data["code"], None)
        serializer.instance = services.metric_create(fields=serializer.validated_data)

    def perform_update(self, serializer):
        if "code" in serializer.validated_data:
            self._check_code(serializer.validated_data["code"], serializer.instance)
        serializer.instance = services.metric_update(
            metric=serializer.instance, fields=serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.metric_delete(metric=instance)


class MetricValueSerializer(serializers.ModelSerializer):
    metric = serializers.SlugRelatedField(slug_field="code", read_only=True)
    confirmed = serializers.SerializerMethodField()

    class Meta:
        model = MetricValue
        fields = [
            "id",
            "metric",
            "user",
            "week",
            "value",
            "source",
            "counts",
            "entered_by",
            "confirmed",
            "confirmed_by",
            "confirmed_at",
        ]
        read_only_fields = fields

    def get_confirmed(self, value: MetricValue) -> bool:
        """False only for a rep's own entry still waiting for a manager."""
        return not value.needs_confirmation


class MetricValueInputSerializer(serializers.Serializer):
    metric = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Metric.objects.all(),
        error_messages={"does_not_exist": "No metric has the code {value}."},
    )
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    week = serializers.CharField(max_length=10, help_text="An ISO week like 2025-W20.")
    # Text, so a unit error or "not a number" is the service's one message.
    value = serializers.CharField(max_length=40)


class MetricValueFilter(django_filters.FilterSet):
    metric = django_filters.CharFilter(field_name="metric__code")
    user = IdFilter(field_name="user_id")
    week = django_filters.CharFilter(field_name="week")

    class Meta:
        model = MetricValue
        fields = ["metric", "user", "week"]


class MetricValueViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Weekly values: a rep sees own, managers / HRBP / directors / finance their scope."""

    queryset = MetricValue.objects.none()
    serializer_class = MetricValueSerializer
    filterset_class = MetricValueFilter

    def get_queryset(self):
        return (
            access.metric_values_visible_to(self.request.user)
            .select_related("metric")
            .order_by("-week_start", "metric_id", "user_id", "pk")
        )

    @extend_schema(request=MetricValueInputSerializer, responses={201: MetricValueSerializer})
    def create(self, request, *args, **kwargs):
        query = MetricValueInputSerializer(data=request.data)
        query.fields["user"].queryset = users_nameable_by(request.user)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if not access.can_enter_metric_for(request.user, rep=data["user"]):
            raise PermissionDenied(_("You may enter values only for yourself or your reps."))
        value = services.metric_value_enter(
            entered_by=request.user,
            metric=data["metric"],
            rep=data["user"],
            week=data["week"],
            value=data["value"],
        )
        return Response(MetricValueSerializer(value).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=MetricValueSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def confirm(self, request, pk=None):
        self.get_object()  # 404 first for what the user may not see
        value = access.metric_value_get_for_confirmation(user=request.user, value_id=pk)
        value = services.metric_value_confirm(value=value, confirmed_by=request.user)
        return Response(MetricValueSerializer(value).data)
