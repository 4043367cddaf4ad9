"""HTML pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from targets import access, selectors
from targets.figures import figures_for, trend
from targets.periods import Quarter


@login_required
@require_GET
def home(request):
    as_of = timezone.localdate()
    unit = selectors.default_unit_for(request.user)
    summary = selectors.dashboard_summary(
        unit=unit, user=request.user, period=Quarter.of(as_of), as_of=as_of
    )
    return render(request, "targets/home.html", {"summary": summary})


@login_required
@require_GET
def target_detail(request, target_id: int):
    target = access.target_get_for_user(user=request.user, target_id=target_id)
    if target is None:
        raise Http404
    as_of = timezone.localdate()
    figures = figures_for([target], as_of=as_of)[target.pk]
    points = trend(target, grain="week", as_of=as_of)
    return render(
        request,
        "targets/target_detail.html",
        {"target": target, "figures": figures, "points": points},
    )


@require_POST
def set_language(request):
    """The language switch: remembered in a cookie, and on the profile when signed in."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = "/"
    if request.user.is_authenticated:
        request.user.language = language
        request.user.save(update_fields=["language"])
    translation.activate(language)
    response = HttpResponseRedirect(next_url)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600)
    return response
