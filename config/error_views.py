"""Error pages (SPEC §2): styled, in the user's language, with a way back; the API answers JSON.

Django calls these for exceptions a view did not handle (`handler400` … in config/urls.py)
when DEBUG is off. The 500 page renders without a request context: whatever failed (the
database, a context processor) must not fail the error page too.
"""

from __future__ import annotations

from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _back_url(request: HttpRequest) -> str:
    """The page the user came from, if it is one of ours and not this one."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except Exception:  # DisallowedHost: the 400 being rendered may be about the host itself
        return ""
    if (
        referer
        and url_has_allowed_host_and_scheme(referer, {host}, require_https=request.is_secure())
        and not referer.endswith(request.get_full_path())
    ):
        return referer
    return ""


def _page(
    request: HttpRequest, *, status: int, template: str, message: str, title: str
) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": message}, status=status)
    context = {"message": message, "title": title, "status": status, "back": _back_url(request)}
    return render(request, template, context, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Our views raise BadRequest with a message for the user (e.g. "'x' is not a quarter");
    # other SuspiciousOperations carry text meant for the log, not for the user.
    message = str(exception) if type(exception) is BadRequest else ""
    return _page(
        request,
        status=400,
        template="400.html",
        message=message or _("The address or the form contained something we cannot use."),
        title=_("Bad request"),
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = str(exception) if isinstance(exception, PermissionDenied) else ""
    return _page(
        request,
        status=403,
        template="403.html",
        message=message or _("Your role does not allow this."),
        title=_("Not allowed"),
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Http404's own text names models and queries: the user gets a plain sentence.
    return _page(
        request,
        status=404,
        template="404.html",
        message=_("There is nothing at this address, or it is not visible to you."),
        title=_("Page not found"),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    message = _("Something went wrong on our side. It has been logged; please try again.")
    if _is_api(request):
        return JsonResponse({"detail": message}, status=500)
    # No RequestContext: no context processor, no session or database access.
    body = loader.get_template("500.html").render({"message": message})
    return HttpResponse(body, status=500)
