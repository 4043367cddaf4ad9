"""API v1: connections, sync runs, imports and the signed webhook (SPEC §10)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from targets import access

from . import serializers as s
from . import services
from .imports import deals_import
from .metric_imports import metric_values_import
from .models import Connection, SyncRun
from .webhook import WebhookRefused, webhook_parse, webhook_receive, webhook_verify


class Administrators(BasePermission):
    message = gettext_lazy("Only administrators manage integrations.")

    def has_permission(self, request, view) -> bool:
        return request.user.is_authenticated and access.can_manage_organisation(request.user)


@extend_schema_view(
    create=extend_schema(
        request=s.ConnectionInputSerializer, responses={201: s.ConnectionSerializer}
    ),
    update=extend_schema(request=s.ConnectionInputSerializer, responses=s.ConnectionSerializer),
    partial_update=extend_schema(
        request=s.ConnectionInputSerializer, responses=s.ConnectionSerializer
    ),
)
class ConnectionViewSet(viewsets.ModelViewSet):
    """Where actuals come from. Secrets in `settings` are write-only: never returned."""

    queryset = Connection.objects.none()
    serializer_class = s.ConnectionSerializer
    permission_classes = [Administrators]

    def get_queryset(self):
        return Connection.objects.order_by("name", "pk")

    def create(self, request, *args, **kwargs):
        data = self._input(request, partial=False)
        connection = services.connection_save(**data)
        return Response(s.ConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        connection = self.get_object()
        data = self._input(request, partial=kwargs.get("partial", False), instance=connection)
        connection = services.connection_save(connection=connection, **data)
        return Response(s.ConnectionSerializer(connection).data)

    def _input(self, request, *, partial: bool, instance: Connection | None = None) -> dict:
        query = s.ConnectionInputSerializer(data=request.data, partial=partial)
        query.is_valid(raise_exception=True)
        data = dict(query.validated_data)
        if instance is not None:
            for name in ("kind", "name", "source", "enabled", "schedule_minutes"):
                data.setdefault(name, getattr(instance, name))
            if not partial:
                data.setdefault("settings", {})
        return data

    def perform_destroy(self, instance):
        services.connection_delete(connection=instance)


class SyncRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The log of every run that wrote deals: syncs, webhook pushes, imports."""

    queryset = SyncRun.objects.none()
    serializer_class = s.SyncRunSerializer
    permission_classes = [Administrators]
    filterset_fields = ["connection", "kind", "source"]

    def get_queryset(self):
        return SyncRun.objects.order_by("-started_at", "-pk")


@extend_schema(
    operation_id="imports_create",
    tags=["imports"],
    request={"multipart/form-data": s.ImportInputSerializer},
    responses={200: s.ImportResultSerializer, 201: s.ImportResultSerializer},
    description=gettext_lazy(
        "Import deals (`kind=deals`) or weekly process-metric values (`kind=metric_values`: "
        "columns metric, username or email, week, value) from a CSV (UTF-8 or GBK/GB18030, "
        "detected) or XLSX file of at most 50 MB. `dry_run` checks every row and writes nothing; a file with bad rows writes "
        "nothing unless `keep_good_rows`. Rows are numbered as a spreadsheet shows them "
        "(the header is row 1)."
    ),
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def imports(request):
    query = s.ImportInputSerializer(data=request.data)
    if not access.can_manage_organisation(request.user):
        raise PermissionDenied(_("Only administrators import deals."))
    query.is_valid(raise_exception=True)
    data = query.validated_data
    upload = data["file"]
    importer = metric_values_import if data["kind"] == "metric_values" else deals_import
    result = importer(
        stream=upload.file,
        size=upload.size,
        user=request.user,
        dry_run=data["dry_run"],
        keep_good_rows=data["keep_good_rows"],
    )
    body = {
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "failed": result.failed,
        "errors": result.errors,
        "dry_run": data["dry_run"],
        "written": result.written,
        "run": result.run_id,
    }
    return Response(body, status=status.HTTP_201_CREATED if result.written else 200)


def _refused() -> Response:
    response = Response(
        {"detail": _("The push is not signed, too old, or already received.")},
        status=status.HTTP_401_UNAUTHORIZED,
    )
    response["WWW-Authenticate"] = 'Signature realm="webhook"'
    return response


class WebhookView(APIView):
    """Signed pushes of deal records; the signature is the authentication."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="integrations_webhook_create",
        tags=["integrations"],
        request=s.WebhookInputSerializer,
        responses={200: s.WebhookResultSerializer},
        parameters=[
            OpenApiParameter("X-TargetPilot-Timestamp", str, OpenApiParameter.HEADER, True),
            OpenApiParameter("X-TargetPilot-Signature", str, OpenApiParameter.HEADER, True),
        ],
        auth=[],
        description=gettext_lazy(
            "Push deal records. Sign timestamp + '.' + the raw body with the connection's "
            "secret (HMAC-SHA256, hex, prefixed 'sha256='). Older than 5 minutes, replayed "
            "or badly signed → 401 and nothing written. Bad rows are reported per row "
            "(1-based) and the good ones written."
        ),
    )
    def post(self, request, connection_id: int):
        body = request.body  # the raw bytes the signature covers, before any parsing
        connection = (
            Connection.objects.filter(pk=connection_id).first() if connection_id < 2**63 else None
        )
        if connection is None:
            return _refused()
        try:
            webhook_verify(
                connection=connection,
                timestamp=request.headers.get("X-TargetPilot-Timestamp", ""),
                signature=request.headers.get("X-TargetPilot-Signature", ""),
                body=body,
            )
        except WebhookRefused:
            return _refused()
        records = webhook_parse(body)
        result = webhook_receive(connection=connection, records=records)
        return Response(
            {
                "run": result.run.pk,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "failed": result.failed,
                "errors": result.errors,
            }
        )
