"""`GET /api/v1/proposals/effect/`: the adjustment process's effect metrics (issue 6 §6)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from reviews.effect import effect_metrics
from targets import access
from targets.api.serializers import DashboardQuerySerializer
from targets.periods import Quarter

PERCENT = {"max_digits": 12, "decimal_places": 1, "allow_null": True}


class EffectCountSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    proposals = serializers.IntegerField()
    approved = serializers.IntegerField()


class EffectSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    period = serializers.CharField()
    previous_period = serializers.CharField()
    proposals = serializers.IntegerField(help_text=gettext_lazy("Submitted in the quarter."))
    proposals_previous = serializers.IntegerField()
    proposals_ratio = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    decided = serializers.IntegerField()
    approved = serializers.IntegerField()
    approved_share = serializers.DecimalField(**PERCENT)
    lead_time_median_hours = serializers.DecimalField(
        max_digits=12,
        decimal_places=1,
        allow_null=True,
        help_text=gettext_lazy("Median hours from submission to decision."),
    )
    by_region = EffectCountSerializer(many=True)
    by_rep = EffectCountSerializer(many=True)
    adjusted_targets = serializers.IntegerField()
    completion_original = serializers.DecimalField(**PERCENT)
    completion_adjusted = serializers.DecimalField(**PERCENT)
    volatility = serializers.DecimalField(**PERCENT)
    volatility_previous = serializers.DecimalField(**PERCENT)


@extend_schema(
    operation_id="proposals_effect",
    parameters=[
        OpenApiParameter(
            "unit", int, description=gettext_lazy("Org unit (default: your own scope).")
        ),
        OpenApiParameter(
            "period", str, description=gettext_lazy("Quarter like 2025Q2 (default: today's).")
        ),
        OpenApiParameter(
            "as_of", str, description=gettext_lazy("Figures as of this day (default: today).")
        ),
    ],
    responses=EffectSerializer,
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def proposal_effect(request):
    """Proposals per quarter by region and rep, share approved, decision lead time,
    completion of adjusted targets before and after, the regions' volatility."""
    query = DashboardQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    params = query.validated_data
    as_of = params.get("as_of") or timezone.localdate()
    period = Quarter.parse(params["period"]) if "period" in params else Quarter.of(as_of)
    if "unit" in params:
        unit = access.unit_get_for_figures(user=request.user, unit_id=params["unit"])
    else:
        unit = access.default_unit_for(request.user)
    if unit is None:
        raise PermissionDenied(_("Effect metrics are for those who see a unit's figures."))
    effect = effect_metrics(unit=unit, period=period, as_of=as_of)
    return Response(EffectSerializer(effect).data)
