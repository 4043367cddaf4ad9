"""API v1 for flags on wrong actuals: `/api/v1/disputes/` (issue 6 §5)."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from reviews.disputes import access, services
from reviews.models import ActualDispute, DisputeKind, DisputeState
from targets.access import deal_get_for_user, users_nameable_by
from targets.api.serializers import MoneyField, MoneyInputField
from targets.api.views import IdFilter
from targets.models import Deal, User


class DisputeSerializer(serializers.ModelSerializer):
    amount = MoneyField()
    author_name = serializers.CharField(source="author.__str__", read_only=True)

    class Meta:
        model = ActualDispute
        fields = [
            "id",
            "kind",
            "deal",
            "split_user",
            "account",
            "amount",
            "close_date",
            "comment",
            "author",
            "author_name",
            "team",
            "state",
            "created_at",
            "resolved_by",
            "resolved_at",
            "resolution_note",
        ]
        read_only_fields = fields


class DisputeInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DisputeKind.choices)
    deal = serializers.PrimaryKeyRelatedField(
        queryset=Deal.objects.all(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("The deal that is wrong (not for a missing deal)."),
    )
    split_user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("The rep whose credit split is wrong (optional)."),
    )
    account = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    amount = MoneyInputField(required=False, allow_null=True, default=None)
    close_date = serializers.DateField(required=False, allow_null=True, default=None)
    comment = serializers.CharField(max_length=services.COMMENT_MAX)


class ResolutionSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=[(r.value, r.label) for r in services.RESOLUTIONS])
    note = serializers.CharField(
        allow_blank=True, required=False, default="", max_length=services.COMMENT_MAX
    )


class DisputeFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=DisputeState.choices)
    kind = django_filters.ChoiceFilter(choices=DisputeKind.choices)
    deal = IdFilter(field_name="deal_id")
    mine = django_filters.BooleanFilter(method="filter_mine")

    class Meta:
        model = ActualDispute
        fields = ["state", "kind", "deal"]

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(author=user) if value else queryset.exclude(author=user)


@extend_schema_view(
    create=extend_schema(request=DisputeInputSerializer, responses={201: DisputeSerializer}),
)
class DisputeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Flags on wrong actuals: a rep flags own deals, credit splits or a missing deal; the
    rep's manager, a director over the team or the HRBP resolves each exactly once."""

    queryset = ActualDispute.objects.none()
    serializer_class = DisputeSerializer
    filterset_class = DisputeFilter

    def get_queryset(self):
        return access.disputes_visible_to(self.request.user).order_by("-created_at", "-pk")

    def create(self, request, *args, **kwargs):
        query = DisputeInputSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        user = request.user
        if not access.may_flag(user):
            raise PermissionDenied(_("Only sales reps flag their own actuals."))
        deal = data.get("deal")
        if deal is not None:
            deal = deal_get_for_user(user=user, deal_id=deal.pk)
            if not access.can_flag_deal(user, deal):
                raise PermissionDenied(_("You may flag only your own deals and credit splits."))
        split_user = data.get("split_user")
        if split_user is not None and not users_nameable_by(user).filter(pk=split_user.pk).exists():
            raise serializers.ValidationError(
                {"split_user": [_("This rep holds no share of the deal.")]}
            )
        dispute = services.dispute_create(
            author=user,
            kind=data["kind"],
            comment=data["comment"],
            deal=deal,
            split_user=split_user,
            account=data["account"],
            amount=data["amount"],
            close_date=data["close_date"],
            today=timezone.localdate(),
        )
        return Response(DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ResolutionSerializer, responses=DisputeSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        dispute = self.get_object()
        access.dispute_get_for_resolution(user=request.user, dispute_id=dispute.pk)
        query = ResolutionSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        dispute = services.dispute_resolve(
            dispute=dispute,
            by=request.user,
            resolution=query.validated_data["resolution"],
            note=query.validated_data["note"],
        )
        return Response(DisputeSerializer(dispute).data)
