"""API v1 for adjustment proposals (SPEC §10 `proposals/`)."""

from __future__ import annotations

import django_filters
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from reviews import access, services
from reviews import serializers as s
from reviews.models import AdjustmentCase, AgendaItem, CaseState, Proposal, ProposalStatus
from targets.access import target_get_for_user, targets_visible_to
from targets.api.views import IdFilter


class ProposalFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ProposalStatus.choices)
    target = IdFilter(field_name="target_id")
    period = django_filters.CharFilter(field_name="target__period", max_length=6)
    mine = django_filters.BooleanFilter(method="filter_mine")

    class Meta:
        model = Proposal
        fields = ["status", "target", "period"]

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(author=user) if value else queryset.exclude(author=user)


@extend_schema_view(
    create=extend_schema(request=s.ProposalInputSerializer, responses={201: s.ProposalSerializer}),
    partial_update=extend_schema(
        request=s.ProposalUpdateSerializer, responses=s.ProposalSerializer
    ),
    update=extend_schema(request=s.ProposalUpdateSerializer, responses=s.ProposalSerializer),
)
class ProposalViewSet(viewsets.ModelViewSet):
    """Adjustment proposals: a rep for own target, a manager for own unit; decided by the
    HRBP or a sales director, exactly once."""

    queryset = Proposal.objects.none()
    serializer_class = s.ProposalSerializer
    filterset_class = ProposalFilter

    def get_queryset(self):
        return (
            access.proposals_visible_to(self.request.user)
            .select_related("author")
            .order_by("-created_at", "-pk")
        )

    def create(self, request, *args, **kwargs):
        query = s.ProposalInputSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        target = target_get_for_user(user=request.user, target_id=data["target"].pk)
        if not access.can_propose(request.user, target):
            raise PermissionDenied(_("You may propose adjustments only for your own targets."))
        proposal = services.proposal_create(
            author=request.user,
            target=target,
            proposed_base=data["proposed_base"],
            proposed_stretch=data["proposed_stretch"],
            reason=data["reason"],
            explanation=data["explanation"],
            submit=data["submit"],
        )
        return Response(s.ProposalSerializer(proposal).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        proposal = self.get_object()
        access.proposal_get_for_author(user=request.user, proposal_id=proposal.pk)
        query = s.ProposalUpdateSerializer(data=request.data, partial=True)
        query.is_valid(raise_exception=True)
        proposal = services.proposal_update(
            proposal=proposal, by=request.user, **query.validated_data
        )
        return Response(s.ProposalSerializer(proposal).data)

    def destroy(self, request, *args, **kwargs):
        proposal = self.get_object()
        access.proposal_get_for_author(user=request.user, proposal_id=proposal.pk)
        services.proposal_delete(proposal=proposal, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.ProposalSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        proposal = self.get_object()
        access.proposal_get_for_author(user=request.user, proposal_id=proposal.pk)
        proposal = services.proposal_submit(proposal=proposal, by=request.user)
        return Response(s.ProposalSerializer(proposal).data)

    @extend_schema(request=None, responses=s.ProposalSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        proposal = self.get_object()
        access.proposal_get_for_author(user=request.user, proposal_id=proposal.pk)
        proposal = services.proposal_withdraw(proposal=proposal, by=request.user)
        return Response(s.ProposalSerializer(proposal).data)

    @extend_schema(
        request={"multipart/form-data": s.AttachmentInputSerializer},
        responses={201: s.ProposalSerializer},
        description=gettext_lazy(
            "Attach a file to the author's draft, replacing any earlier one: a PDF, a PNG or "
            "JPEG image or an XLSX workbook of at most 10 MB, its type told by its content. "
            "Download it from the proposal's page (`/proposals/{id}/attachment/`)."
        ),
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachment(self, request, pk=None):
        proposal = self.get_object()
        access.proposal_get_for_author(user=request.user, proposal_id=proposal.pk)
        query = s.AttachmentInputSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        proposal = services.proposal_update(
            proposal=proposal, by=request.user, attachment=query.validated_data["attachment"]
        )
        return Response(s.ProposalSerializer(proposal).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DecisionSerializer, responses=s.ProposalSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        proposal = self.get_object()
        access.proposal_get_for_decision(user=request.user, proposal_id=proposal.pk)
        query = s.DecisionSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        proposal = services.proposal_decide(
            proposal=proposal,
            by=request.user,
            decision=query.validated_data["decision"],
            note=query.validated_data["note"],
        )
        return Response(s.ProposalSerializer(proposal).data)


class CaseFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=CaseState.choices)
    target = IdFilter(field_name="target_id")

    class Meta:
        model = AdjustmentCase
        fields = ["state", "target"]


class AdjustmentCaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Adjustment cases opened by the deviation trigger, on targets the user may see."""

    queryset = AdjustmentCase.objects.none()
    serializer_class = s.AdjustmentCaseSerializer
    filterset_class = CaseFilter

    def get_queryset(self):
        latest_review = (
            AgendaItem.objects.filter(case=OuterRef("pk"))
            .order_by("-meeting__month", "-meeting_id")
            .values("meeting_id")[:1]
        )
        return (
            AdjustmentCase.objects.filter(
                target__in=targets_visible_to(self.request.user).values("pk")
            )
            .annotate(review_id=Subquery(latest_review))
            .order_by("-opened_at", "-pk")
        )
