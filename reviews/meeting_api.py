"""API v1 for review meetings (SPEC §10 `reviews/`, `reviews/{id}/items/`)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from reviews import meeting_access as access
from reviews import meeting_serializers as s
from reviews import meetings
from reviews.meeting_models import MemberScore, ReviewMeeting
from reviews.meeting_selectors import items_with_scores, meeting_list
from reviews.minutes import FORMATS, minutes_file
from targets.access import units_visible_to, users_nameable_by


def _prefetched(queryset):
    from django.db.models import Prefetch

    from reviews.meeting_models import AgendaItem

    return queryset.prefetch_related(
        "members",
        Prefetch(
            "items",
            queryset=AgendaItem.objects.select_related("target__owner_unit", "target__owner_user")
            .prefetch_related(
                Prefetch(
                    "scores", queryset=MemberScore.objects.select_related("user").order_by("id")
                )
            )
            .order_by("position", "pk"),
        ),
    )


@extend_schema_view(
    create=extend_schema(request=s.ReviewInputSerializer, responses={201: s.ReviewSerializer}),
    partial_update=extend_schema(request=s.ReviewUpdateSerializer, responses=s.ReviewSerializer),
    update=extend_schema(request=s.ReviewUpdateSerializer, responses=s.ReviewSerializer),
)
class ReviewViewSet(viewsets.ModelViewSet):
    """Monthly target-health review meetings: created and chaired by an HRBP over the unit;
    read by the chair, the members and the unit's HRBPs."""

    queryset = ReviewMeeting.objects.none()
    serializer_class = s.ReviewSerializer

    def get_queryset(self):
        return _prefetched(meeting_list(user=self.request.user))

    def perform_content_negotiation(self, request, force=False):
        # `?format=docx|pdf` names the minutes' file type, not a DRF renderer.
        if getattr(self, "action", None) == "minutes":
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)

    def _reload(self, meeting):
        return _prefetched(ReviewMeeting.objects.select_related("unit", "chair")).get(pk=meeting.pk)

    def create(self, request, *args, **kwargs):
        query = s.ReviewInputSerializer(
            data=request.data,
            # Any unit of the caller's companies may be named; whether they may chair it is
            # the service's question (403). Another company's unit stays unknown (400).
            units=units_visible_to(request.user),
            users=users_nameable_by(request.user),
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        meeting = meetings.meeting_create(
            chair=request.user,
            unit=data["unit"],
            month=data["month"],
            members=list(data["members"]),
            today=timezone.localdate(),
        )
        return Response(
            s.ReviewSerializer(self._reload(meeting)).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        meeting = access.meeting_get_for_chair(user=request.user, meeting_id=self.get_object().pk)
        query = s.ReviewUpdateSerializer(data=request.data, users=users_nameable_by(request.user))
        query.is_valid(raise_exception=True)
        meetings.meeting_update(
            meeting=meeting, by=request.user, members=list(query.validated_data["members"])
        )
        return Response(s.ReviewSerializer(self._reload(meeting)).data)

    def destroy(self, request, *args, **kwargs):
        meeting = access.meeting_get_for_chair(user=request.user, meeting_id=self.get_object().pk)
        meetings.meeting_delete(meeting=meeting, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.ReviewSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        meeting = access.meeting_get_for_chair(user=request.user, meeting_id=self.get_object().pk)
        meetings.meeting_close(meeting=meeting, by=request.user, today=timezone.localdate())
        return Response(s.ReviewSerializer(self._reload(meeting)).data)

    @extend_schema(request=None, responses=s.ReviewSerializer)
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """Bring the agenda up to date (chair, open meeting): add what belongs there, take off
        what no longer applies unless it was scored or decided."""
        meeting = access.meeting_get_for_chair(user=request.user, meeting_id=self.get_object().pk)
        meetings.agenda_refresh(meeting=meeting, by=request.user, today=timezone.localdate())
        return Response(s.ReviewSerializer(self._reload(meeting)).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), default="docx"),
            OpenApiParameter("lang", str, enum=["zh-hans", "en"], required=False),
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("The minutes file."))
        },
    )
    @action(detail=True, methods=["get"])
    def minutes(self, request, pk=None, format=None):
        """The minutes as DOCX or PDF, in the caller's language (or `?lang=`)."""
        meeting = access.meeting_get_for_user(user=request.user, meeting_id=self.get_object().pk)
        # `?format=` as documented; `minutes.pdf` (DRF's suffix) means the same.
        fmt = format or request.query_params.get("format") or "docx"
        if fmt not in FORMATS:
            raise ApiValidationError({"format": [_("Ask for docx or pdf.")]})
        language = request.query_params.get("lang") or get_language()
        if language not in ("zh-hans", "en"):
            raise ApiValidationError({"lang": [_("Ask for zh-hans or en.")]})
        return minutes_response(meeting, fmt=fmt, language=language)


def minutes_response(meeting, *, fmt: str, language: str) -> HttpResponse:
    content, name = minutes_file(meeting, fmt=fmt, language=language, today=timezone.localdate())
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@extend_schema_view(
    partial_update=extend_schema(request=s.ItemUpdateSerializer, responses=s.AgendaItemSerializer),
)
class AgendaItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A review's agenda: each participant writes own `scores`/`notes`; only the chair
    writes `decision` (adjust writes one target revision), `decision_note` and `position`."""

    queryset = ReviewMeeting.objects.none()
    serializer_class = s.AgendaItemSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def _meeting(self) -> ReviewMeeting:
        if not hasattr(self, "_meeting_cache"):
            self._meeting_cache = access.meeting_get_for_user(
                user=self.request.user, meeting_id=int(self.kwargs["review_pk"])
            )
        return self._meeting_cache

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            from reviews.meeting_models import AgendaItem

            return AgendaItem.objects.none()
        return items_with_scores(self._meeting())

    def partial_update(self, request, *args, **kwargs):
        meeting = self._meeting()
        item = access.item_get_for_user(meeting=meeting, item_id=int(kwargs["pk"]))
        query = s.ItemUpdateSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if not data:
            raise ApiValidationError({"non_field_errors": [_("Nothing to change.")]})
        chair_fields = {"decision", "new_base", "new_stretch", "decision_note", "position"} & set(
            data
        )
        if chair_fields and meeting.chair_id != request.user.pk:
            raise PermissionDenied(_("Only the chair decides and orders the agenda."))
        if not access.is_participant(request.user, meeting):
            raise PermissionDenied(_("Only the chair and the members of this review take part."))
        with transaction.atomic():
            if "scores" in data or "notes" in data:
                scores = data.get("scores", {})
                meetings.item_score(
                    item=item,
                    by=request.user,
                    market=scores.get("market"),
                    customer=scores.get("customer"),
                    capacity=scores.get("capacity"),
                    notes=data.get("notes"),
                )
            if "decision" in data:
                meetings.item_decide(
                    item=item,
                    by=request.user,
                    decision=data["decision"],
                    new_base=data.get("new_base"),
                    new_stretch=data.get("new_stretch"),
                    notes=data.get("decision_note", ""),
                )
            elif {"new_base", "new_stretch", "decision_note"} & set(data):
                raise ApiValidationError(
                    {"decision": [_("Give the decision with its amounts and note.")]}
                )
            if "position" in data:
                meetings.item_move(item=item, by=request.user, position=data["position"])
        return Response(s.AgendaItemSerializer(items_with_scores(meeting).get(pk=item.pk)).data)
