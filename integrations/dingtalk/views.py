"""DingTalk's callback endpoint and the contacts import page (admin)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from integrations.models import Connection, ConnectionKind
from targets import access

from .callback import callback_crypto, callback_handle, callback_open
from .client import DingTalkError
from .contacts import contacts_apply, contacts_preview
from .crypto import CallbackRefused


@csrf_exempt
@require_POST
def callback(request, connection_id: int):
    """`POST …/callback/<id>/?msg_signature=&timestamp=&nonce=` with {"encrypt": …}.
    Anything not DingTalk's for this connection is a bare 401 that names no reason."""
    connection = Connection.objects.filter(pk=connection_id).first()
    params = request.GET
    try:
        if connection is None:
            raise CallbackRefused("connection")
        event = callback_open(
            connection=connection,
            msg_signature=params.get("msg_signature") or params.get("signature", ""),
            timestamp=params.get("timestamp") or params.get("timeStamp", ""),
            nonce=params.get("nonce", ""),
            body=request.body,
        )
    except CallbackRefused:
        return HttpResponse(status=401)
    callback_handle(connection=connection, event=event)
    return JsonResponse(callback_crypto(connection).envelope("success"))


def _connection_for_admin(user, connection_id: int) -> Connection:
    if not access.can_manage_organisation(user):
        raise PermissionDenied(_("Only administrators import the org chart."))
    connection = Connection.objects.filter(pk=connection_id, kind=ConnectionKind.DINGTALK).first()
    if connection is None:
        raise Http404(_("No such DingTalk connection."))
    return connection


@login_required
@require_http_methods(["GET", "POST"])
def contacts_page(request, connection_id: int):
    """What an import of DingTalk's contacts would create, match and change; the import."""
    connection = _connection_for_admin(request.user, connection_id)
    if request.method == "POST":
        try:
            result = contacts_apply(connection=connection)
        except DingTalkError as error:
            messages.error(request, _("DingTalk could not be read: %(error)s") % {"error": error})
        except ValidationError as error:
            messages.error(
                request,
                _("Nothing was imported: %(error)s") % {"error": "; ".join(error.messages)},
            )
        else:
            messages.success(
                request,
                _("Imported: %(units)s units and %(people)s people created, %(updated)s changed.")
                % {
                    "units": result.units_created,
                    "people": result.people_created,
                    "updated": result.units_updated + result.people_updated,
                },
            )
        return redirect("dingtalk-contacts", connection_id=connection.pk)
    plan, error = None, ""
    try:
        plan = contacts_preview(connection=connection)
    except DingTalkError as failure:
        error = str(failure)
    context = {"connection": connection, "plan": plan, "error": error}
    return render(request, "integrations/dingtalk_contacts.html", context)
