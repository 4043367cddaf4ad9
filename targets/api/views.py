"""API v1 endpoints. Objects come from the access helpers: unseen → 404, not allowed → 403."""

from __future__ import annotations

from datetime import date

import django_filters
from django import forms
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response

from targets import access, selectors, services
from targets.errors import StateConflict
from targets.figures import figures_for, trend
from targets.models import Deal, OrgUnit, Target, User
from targets.periods import Quarter

from . import serializers as s
from .auth import ObtainToken
from .parsers import JSONParser

# Ids are BigAutoField keys.
ID_MAX = 2**63 - 1

AS_OF = OpenApiParameter(
    "as_of", date, description=gettext_lazy("Figures as of this day (default today).")
)


def _as_of(request) -> date:
    query = s.AsOfSerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data.get("as_of") or timezone.localdate()


@extend_schema_view(
    post=extend_schema(
        operation_id="auth_token_create",
        request=s.AuthTokenRequestSerializer,
        responses=s.AuthTokenSerializer,
        description=gettext_lazy(
            "Exchange a username and password for the API key. Send it on every request as "
            "`Authorization: Token <key>`."
        ),
    )
)
class TokenView(ObtainToken):
    """`POST {"username", "password"}` → `{"token"}`, open to anonymous callers."""

    # Nobody needs to be signed in to sign in; no session also means no CSRF check here.
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    # Throttled and locked like the login page: ObtainToken (auth.py).


@extend_schema(responses=s.MeSerializer)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def me(request):
    return Response(s.MeSerializer(request.user).data)


# Organisation ------------------------------------------------------------------------


class IdFilter(django_filters.NumberFilter):
    """A whole-number id; one past the 64-bit range would crash SQLite's driver, not match.

    An id filter, not a choice among all rows: an id of another company's unit or user
    matches nothing, like a missing one, instead of telling them apart (SPEC §2).
    """

    field_class = forms.IntegerField

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


class OrgUnitFilter(django_filters.FilterSet):
    parent = IdFilter()

    class Meta:
        model = OrgUnit
        fields = ["parent", "kind"]


class UserFilter(django_filters.FilterSet):
    team = IdFilter()

    class Meta:
        model = User
        fields = ["team"]


class AdministratorsWrite(BasePermission):
    """Everybody signed in may read; only administrators change the organisation.

    A change to one object is judged after the object is looked up, so an unseen one
    answers 404 before any 403; a creation is judged before its body is validated.
    """

    message = gettext_lazy("Only administrators may change the organisation.")

    def has_permission(self, request, view) -> bool:
        if not request.user.is_authenticated:
            return False
        return (
            request.method in SAFE_METHODS
            or view.detail
            or access.can_manage_organisation(request.user)
        )

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or access.can_manage_organisation(request.user)


class OrgUnitViewSet(viewsets.ModelViewSet):
    queryset = OrgUnit.objects.none()  # for the schema; requests use get_queryset
    serializer_class = s.OrgUnitSerializer
    permission_classes = [AdministratorsWrite]
    filterset_class = OrgUnitFilter

    def get_queryset(self):
        return access.units_visible_to(self.request.user).order_by("pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.org_unit_save(
            name=data["name"], kind=data["kind"], parent=data.get("parent")
        )

    def perform_update(self, serializer):
        unit, data = serializer.instance, serializer.validated_data
        serializer.instance = services.org_unit_save(
            unit=unit,
            name=data.get("name", unit.name),
            kind=data.get("kind", unit.kind),
            parent=data.get("parent", unit.parent),
        )

    def perform_destroy(self, instance):
        services.org_unit_delete(unit=instance)


class UserViewSet(viewsets.ModelViewSet):
    queryset = User.objects.none()
    serializer_class = s.UserSerializer
    permission_classes = [AdministratorsWrite]
    filterset_class = UserFilter

    def get_queryset(self):
        return selectors.users_with_team_since(access.users_visible_to(self.request.user))

    def _save(self, serializer, user: User | None):
        data = serializer.validated_data
        roles = data.get("role_assignments", {}).get("all")

        def given(name: str, default):
            # PATCH keeps what it does not mention.
            return data.get(name, getattr(user, name) if user else default)

        saved = services.user_save(
            user=user,
            username=given("username", None),
            display_name=given("display_name", ""),
            email=given("email", ""),
            team=given("team", None),
            team_since=data.get("team_since"),
            password=data.get("password"),
            language=given("language", ""),
            roles=None
            if roles is None
            else [services.RoleGrant(role=r["role"], unit=r.get("unit")) for r in roles],
        )
        serializer.instance = selectors.users_with_team_since(
            User.objects.filter(pk=saved.pk)
        ).get()

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        services.user_deactivate(user=instance)


# Targets -----------------------------------------------------------------------------


# Worst first: the order `?ordering=status` lists targets in.
STATUS_RANK = ("red", "yellow", "green")


class TargetFilter(django_filters.FilterSet):
    period = django_filters.CharFilter()
    owner_unit = IdFilter()
    owner_user = IdFilter()
    status = django_filters.ChoiceFilter(
        choices=s.STATUS_CHOICES,
        method="filter_status",
        help_text=gettext_lazy(
            "Targets with this status as of as_of, within one quarter: the period filter "
            "when given, else the quarter of as_of (default today)."
        ),
    )

    ordering = django_filters.ChoiceFilter(
        choices=[("status", "status"), ("-status", "-status")],
        method="order_by_status",
        help_text=gettext_lazy(
            "Sort by status as of as_of: `status` worst first (red, yellow, green, then "
            "targets without a status), `-status` best first."
        ),
    )

    class Meta:
        model = Target
        fields = ["period", "owner_unit", "owner_user", "measure"]

    def filter_status(self, queryset, name, value):
        # Status is a figure, not a column: compute it for one quarter's visible targets
        # (what one period's figures cost, however many periods there are), then keep ids.
        as_of = _as_of(self.request)
        period = self.form.cleaned_data.get("period") or Quarter.of(as_of).label
        in_period = queryset.filter(period=period)
        # The stored figures answer when every target has them for this very day (the
        # scheduled recompute and the one after each confirmation or revision keep them so).
        stored = in_period.filter(snapshot__as_of=as_of, snapshot__computed_at__gte=F("updated_at"))
        if (
            as_of == timezone.localdate()
            and not in_period.exclude(pk__in=stored.values("pk")).exists()
        ):
            return in_period.filter(snapshot__status=value)
        figures = figures_for(in_period, as_of=as_of)
        return in_period.filter(pk__in=[pk for pk, f in figures.items() if f.status == value])

    def order_by_status(self, queryset, name, value):
        """Worst first (`status`: red, yellow, green, then no status) or best first
        (`-status`). The stored figures rank a target when they are for this very day and
        newer than its last change; only the others are computed."""
        as_of = _as_of(self.request)
        stored = Q(snapshot__as_of=as_of, snapshot__computed_at__gte=F("updated_at"))
        computed = figures_for(queryset.exclude(stored), as_of=as_of)
        by_status: dict[str | None, list[int]] = {}
        for pk, figures in computed.items():
            by_status.setdefault(figures.status, []).append(pk)
        rank = Case(
            *(
                When(stored & Q(snapshot__status=state), then=Value(n))
                for n, state in enumerate(STATUS_RANK)
            ),
            *(
                When(pk__in=by_status[state], then=Value(n))
                for n, state in enumerate(STATUS_RANK)
                if by_status.get(state)
            ),
            default=Value(len(STATUS_RANK)),
        )
        worst_first = value == "status"
        return queryset.annotate(status_rank=rank).order_by(
            "status_rank" if worst_first else "-status_rank", "period_start", "pk"
        )


@extend_schema_view(
    list=extend_schema(parameters=[AS_OF]),
    retrieve=extend_schema(parameters=[AS_OF]),
    create=extend_schema(request=s.TargetInputSerializer, responses={201: s.TargetSerializer}),
    update=extend_schema(request=s.TargetUpdateSerializer, responses=s.TargetSerializer),
    partial_update=extend_schema(request=s.TargetUpdateSerializer, responses=s.TargetSerializer),
)
class TargetViewSet(viewsets.ModelViewSet):
    queryset = Target.objects.none()
    serializer_class = s.TargetSerializer
    filterset_class = TargetFilter

    def get_queryset(self):
        return (
            access.targets_visible_to(self.request.user)
            .select_related("owner_unit", "owner_user")
            .order_by("period_start", "owner_user_id", "owner_unit_id", "pk")
        )

    def _context(self, targets, as_of: date) -> dict:
        return {
            "request": self.request,
            "today": timezone.localdate(),
            "figures": figures_for(targets, as_of=as_of),
        }

    def _respond(self, target: Target, *, code: int = status.HTTP_200_OK) -> Response:
        data = s.TargetSerializer(
            target, context=self._context([target], _as_of(self.request))
        ).data
        return Response(data, status=code)

    def list(self, request, *args, **kwargs):
        as_of = _as_of(request)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = s.TargetSerializer(page, many=True, context=self._context(page, as_of)).data
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        return self._respond(self.get_object())

    def create(self, request, *args, **kwargs):
        _as_of(request)
        query = s.TargetInputSerializer(data=request.data)
        # Owners are looked up among the user's own companies: another's is "does not exist".
        query.fields["owner_unit"].queryset = access.units_visible_to(request.user)
        query.fields["owner_user"].queryset = access.users_nameable_by(request.user)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        owner_unit, owner_user = data["owner_unit"], data["owner_user"]
        if not access.can_set_target(request.user, owner_unit=owner_unit, owner_user=owner_user):
            raise PermissionDenied(_("You may not set targets for this owner."))
        target = services.target_create(
            period=data["period"],
            measure=data["measure"],
            owner_unit=owner_unit,
            owner_user=owner_user,
            base=data["base"],
            stretch=data["stretch"],
            phasing=data["phasing"],
            base_bonus=data["base_bonus"],
            stretch_bonus=data["stretch_bonus"],
            created_by=request.user,
        )
        return self._respond(target, code=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        target = self.get_object()
        self._check_may_set(target)
        query = s.TargetUpdateSerializer(
            data=request.data, partial=kwargs.get("partial", False), context={"target": target}
        )
        query.is_valid(raise_exception=True)
        target = services.target_update(target=target, **query.validated_data)
        return self._respond(target)

    def destroy(self, request, *args, **kwargs):
        target = self.get_object()
        self._check_may_set(target)
        services.target_delete(target=target)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _check_may_set(self, target: Target) -> None:
        if not access.can_set_target(
            self.request.user, owner_unit=target.owner_unit, owner_user=target.owner_user
        ):
            raise PermissionDenied(_("You may not change this target."))

    # The list's filters (period, status …) describe targets, not revisions: applied to the
    # parent they made it vanish (404) behind a revision list that has no such fields.
    @extend_schema(responses=s.RevisionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def revisions(self, request, pk=None):
        target = self.get_object()
        # The deciding proposal points at its revision (reviews builds on the core).
        revisions = target.revisions.select_related("decided_by").annotate(
            proposal_ref=F("proposal")
        )
        page = self.paginate_queryset(revisions)
        return self.get_paginated_response(s.RevisionSerializer(page, many=True).data)

    @extend_schema(
        parameters=[AS_OF, OpenApiParameter("grain", str, enum=s.GRAIN_VALUES)],
        responses=s.TrendSerializer,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def trend(self, request, pk=None):
        target = self.get_object()
        query = s.TrendQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of") or timezone.localdate()
        grain = query.validated_data["grain"]
        points = trend(target, grain=grain, as_of=as_of)
        return Response(
            s.TrendSerializer(
                {"target": target.pk, "grain": grain, "as_of": as_of, "points": points}
            ).data
        )


# Deals -------------------------------------------------------------------------------


class DealFilter(django_filters.FilterSet):
    owner = IdFilter()
    close_date_after = django_filters.DateFilter(field_name="close_date", lookup_expr="gte")
    close_date_before = django_filters.DateFilter(field_name="close_date", lookup_expr="lte")

    class Meta:
        model = Deal
        fields = ["source", "owner", "won"]


@extend_schema_view(
    create=extend_schema(request=s.DealInputSerializer, responses={201: s.DealSerializer}),
)
class DealViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Deal.objects.none()
    serializer_class = s.DealSerializer
    filterset_class = DealFilter

    def get_queryset(self):
        return access.deals_visible_to(self.request.user).prefetch_related("credits")

    def create(self, request, *args, **kwargs):
        query = s.DealInputSerializer(data=request.data)
        # People are looked up among the user's own companies: another's is "does not exist".
        people = access.users_nameable_by(request.user)
        query.fields["owner"].queryset = people
        query.fields["splits"].child.fields["user"].queryset = people
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if not access.can_enter_deal_for(request.user, owner=data["owner"]):
            raise PermissionDenied(_("You may not enter deals for this rep."))
        splits = (
            None
            if data["splits"] is None
            else [services.Split(user=x["user"], percent=x["percent"]) for x in data["splits"]]
        )
        deal = services.deal_create_manual(
            author=request.user,
            external_id=data["external_id"],
            account=data["account"],
            owner=data["owner"],
            amount=data["amount"],
            stage=data["stage"],
            won=data["won"],
            close_date=data["close_date"],
            splits=splits,
        )
        return Response(s.DealSerializer(deal).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.DealSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def confirm(self, request, pk=None):
        self.get_object()  # 404 first for what the user may not see
        deal = access.deal_get_for_confirmation(user=request.user, deal_id=pk)
        deal = services.deal_confirm(deal=deal, confirmed_by=request.user)
        return Response(s.DealSerializer(deal).data)

    @extend_schema(
        request=None,
        responses={200: s.ConfirmPreviewSerializer},
        description=(
            "What confirming this manual deal would do, computed without writing: for each "
            "credited rep, the completion of the rep's target for the quarter of the close "
            "date now and with the deal counted, and whether the share exceeds that Base. "
            "Only for who may confirm the deal (403 otherwise); 409 when there is nothing "
            "to confirm."
        ),
    )
    @action(detail=True, methods=["get"], url_path="confirm-preview")
    def confirm_preview(self, request, pk=None):
        self.get_object()  # 404 first for what the user may not see
        deal = access.deal_get_for_confirmation(user=request.user, deal_id=pk)
        if not deal.is_manual or deal.confirmed_by_id is not None:
            raise StateConflict(_("This deal needs no confirmation or is already confirmed."))
        preview = selectors.deal_confirm_preview(
            user=request.user, deal=deal, today=timezone.localdate()
        )
        return Response(s.ConfirmPreviewSerializer(preview).data)


# Dashboard ---------------------------------------------------------------------------


@extend_schema(
    parameters=[
        AS_OF,
        OpenApiParameter(
            "unit", int, description=gettext_lazy("Org unit (default: your own scope).")
        ),
        OpenApiParameter(
            "period",
            str,
            description=gettext_lazy("Quarter like 2025Q2 (default: as_of's)."),
        ),
    ],
    responses=s.DashboardSummarySerializer,
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def dashboard_summary(request):
    query = s.DashboardQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    params = query.validated_data
    as_of = params.get("as_of") or timezone.localdate()
    period = Quarter.parse(params["period"]) if "period" in params else Quarter.of(as_of)
    if "unit" in params:
        unit = access.unit_get_for_figures(user=request.user, unit_id=params["unit"])
    else:
        unit = access.default_unit_for(request.user)
    summary = selectors.dashboard_summary(unit=unit, user=request.user, period=period, as_of=as_of)
    return Response(s.DashboardSummarySerializer(summary).data)


__all__ = ["DealViewSet", "OrgUnit", "OrgUnitViewSet", "TargetViewSet", "UserViewSet"]
