"""HTML pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from targets import access, pages, selectors
from targets.models import OrgUnit
from targets.periods import PeriodError, Quarter


def _period_param(request, *, default: Quarter) -> Quarter:
    label = request.GET.get("period")
    if not label:
        return default
    try:
        return Quarter.parse(label)
    except PeriodError:
        raise BadRequest(
            _("'%(value)s' is not a quarter like 2025Q2.") % {"value": label}
        ) from None


def _unit_param(request) -> OrgUnit | None:
    """The unit asked for with ?unit=: unknown → 404, figures not allowed → 403 (SPEC §2)."""
    raw = request.GET.get("unit")
    if not raw:
        return selectors.default_unit_for(request.user)
    unit = (
        access.units_visible_to(request.user).filter(pk=int(raw)).first() if raw.isdigit() else None
    )
    if unit is None:
        raise Http404
    if not access.can_view_unit_figures(request.user, unit):
        raise PermissionDenied(_("You may not see this unit's figures."))
    return unit


def _wants_fragment(request) -> bool:
    # A history restore asks for the whole page, even though it comes from htmx.
    return bool(request.htmx) and not request.htmx.history_restore_request


@login_required
@require_GET
def home(request):
    today = timezone.localdate()
    period = _period_param(request, default=Quarter.of(today))
    unit = _unit_param(request)
    summary = selectors.dashboard_summary(unit=unit, user=request.user, period=period, as_of=today)
    page = pages.home_page(
        user=request.user, unit=unit, summary=summary, period=period, today=today
    )
    template = "targets/home.html#dashboard" if _wants_fragment(request) else "targets/home.html"
    response = render(request, template, {"page": page})
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def target_detail(request, target_id: int):
    target = access.target_get_for_user(user=request.user, target_id=target_id)
    if target is None:
        raise Http404
    page = pages.target_page(user=request.user, target=target, today=timezone.localdate())
    return render(request, "targets/target_detail.html", {"page": page})


@require_POST
def set_language(request):
    """The language switch: remembered in a cookie, and on the profile when signed in."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    next_url = request.POST.get("next") or "/"
    if request.htmx and request.htmx.current_url_abs_path:
        # The page may have moved on (hx-push-url) since the form was rendered.
        next_url = request.htmx.current_url_abs_path
    if not url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if request.user.is_authenticated:
        request.user.language = language
        request.user.save(update_fields=["language"])
    translation.activate(language)
    # htmx would swap the redirect's body into the page; have it load the page instead.
    response = (
        HttpResponseClientRedirect(next_url) if request.htmx else HttpResponseRedirect(next_url)
    )
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response
