"""HTML selectors."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from targets import access, selectors, services
from targets.errors import StateConflict
from targets.figures import figures_for
from targets.forms import (
    AllocationRowForm,
    DealFilterForm,
    ManualDealForm,
    add_service_errors,
    amount_text,
)
from targets.ids import parse_id
from targets.models import OrgUnit, Target, User
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
        return access.default_unit_for(request.user)
    unit_id = parse_id(raw)
    if unit_id is None:
        raise Http404
    return access.unit_get_for_figures(user=request.user, unit_id=unit_id)


def _render_page(request, template: str, fragment: str, context: dict):
    """The whole page, or only `fragment` of it when htmx swaps that part in."""
    # A history restore asks for the whole page, even though it comes from htmx.
    wants_fragment = bool(request.htmx) and not request.htmx.history_restore_request
    response = render(request, f"{template}#{fragment}" if wants_fragment else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def home(request):
    today = timezone.localdate()
    period = _period_param(request, default=Quarter.of(today))
    unit = _unit_param(request)
    summary = selectors.dashboard_summary(unit=unit, user=request.user, period=period, as_of=today)
    page = selectors.home_page(
        user=request.user, unit=unit, summary=summary, period=period, today=today
    )
    can_set_targets = unit is not None and access.may_use_target_grid(request.user, unit.pk)
    return _render_page(
        request,
        "targets/home.html",
        "dashboard",
        {"page": page, "can_set_targets": can_set_targets},
    )


@login_required
@require_GET
def target_detail(request, target_id: int):
    target = access.target_get_for_user(user=request.user, target_id=target_id)
    today, sort = timezone.localdate(), request.GET.get("sort", "")
    if request.htmx and not request.htmx.history_restore_request:
        # Re-sorting the deals table needs only the table.
        deals = selectors.target_deals(user=request.user, target=target, today=today, sort=sort)
        page = {"target": target, "deals": deals}
        return _render_page(request, "targets/target_detail.html", "target-deals", {"page": page})
    page = selectors.target_page(user=request.user, target=target, today=today, sort=sort)
    return _render_page(request, "targets/target_detail.html", "target-deals", {"page": page})


def _safe_next(request, fallback: str) -> str:
    next_url = request.POST.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return fallback


# Deals -------------------------------------------------------------------------------


@login_required
@require_GET
def deal_list(request):
    form = DealFilterForm(request.GET)
    if not form.is_valid():
        raise BadRequest(" ".join(e for errors in form.errors.values() for e in errors))
    page = selectors.deals_page(
        user=request.user,
        filters=form.filters(user=request.user),
        page_number=request.GET.get("page"),
        today=timezone.localdate(),
    )
    return _render_page(request, "targets/deals.html", "deal-list", {"page": page})


@login_required
@require_POST
def deal_confirm(request, deal_id: int):
    deal = access.deal_get_for_confirmation(user=request.user, deal_id=deal_id)
    error = ""
    try:
        services.deal_confirm(deal=deal, confirmed_by=request.user)
    except StateConflict as conflict:
        error = conflict.message
    if request.htmx:
        # The row comes back in its new state (or, after a conflict, the state someone else
        # left it in) with the reason; a 409 is swapped in too (see deals.html).
        row = selectors.deal_row(user=request.user, deal_id=deal.pk, error=error)
        back = request.htmx.current_url_abs_path or reverse("deals")
        return render(
            request,
            "targets/deals.html#deal-row",
            {"row": row, "back": back},
            status=409 if error else 200,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Deal confirmed: %(account)s.") % {"account": deal.account})
    return redirect(_safe_next(request, reverse("deals")))


@login_required
@require_GET
def deal_confirm_preview(request, deal_id: int):
    """The step before confirming: what the deal does to each credited rep's completion."""
    deal = access.deal_get_for_confirmation(user=request.user, deal_id=deal_id)
    if not deal.is_manual or deal.confirmed_by_id is not None:
        message = _("This deal needs no confirmation or is already confirmed.")
        if not request.htmx:
            messages.error(request, message)
            return redirect("deals")
        return render(request, "targets/deal_confirm.html#confirm-step", {"error": message})
    preview = selectors.deal_confirm_preview(
        user=request.user, deal=deal, today=timezone.localdate()
    )
    back = request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        back, {request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("deals")
    return _render_page(
        request, "targets/deal_confirm.html", "confirm-step", {"preview": preview, "back": back}
    )


@login_required
@require_http_methods(["GET", "POST"])
def deal_new(request):
    owners = selectors.reps_for_entry(request.user)
    if not owners.exists():
        raise PermissionDenied(_("You may not enter deals."))
    today = timezone.localdate()
    initial = {"close_date": today, "won": True}
    if owners.filter(pk=request.user.pk).exists():
        initial["owner"] = request.user.pk
    form = ManualDealForm(
        request.POST or None,
        owners=owners,
        colleagues=selectors.colleagues_for_split(request.user),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not access.can_enter_deal_for(request.user, owner=data["owner"]):
            raise PermissionDenied(_("You may not enter deals for this rep."))
        try:
            services.deal_create_manual(
                author=request.user,
                account=data["account"],
                owner=data["owner"],
                amount=data["amount"],
                close_date=data["close_date"],
                won=data["won"],
                stage=data["stage"],
                splits=form.splits(),
            )
        except ValidationError as error:
            add_service_errors(form, error, aliases={"splits": "second_share"})
        else:
            messages.success(
                request, _("Deal entered; it counts once another manager has confirmed it.")
            )
            return redirect("deals")
    return render(request, "targets/deal_new.html", {"form": form})


# Allocation --------------------------------------------------------------------------


class _Discard(Exception):
    """Leaves a transaction.atomic block without keeping anything."""


def _row_forms(page: selectors.AllocationPage, data=None) -> dict[str, AllocationRowForm]:
    return {
        row.key: AllocationRowForm(
            data,
            prefix=row.key,
            name=row.name,
            has_target=row.target is not None,
            initial={
                "base": amount_text(row.target.base if row.target else None),
                "stretch": amount_text(row.target.stretch if row.target else None),
            },
        )
        for row in page.rows
    }


def _apply_allocation(
    *, user: User, page: selectors.AllocationPage, forms: dict[str, AllocationRowForm], today: date
) -> bool:
    """Validate every row's form, then allocate; False (errors on the rows) if anything fails.

    `services.target_allocate` writes all rows or none; the caller's transaction.atomic also
    discards a preview.
    """
    # Every form is validated (not just up to the first bad one): each row shows its errors.
    valid = [form.is_valid() for form in forms.values()]
    if not all(valid):
        return False
    children = [
        services.ChildAmounts(
            key=row.key,
            owner_unit=row.unit,
            owner_user=row.user,
            target=row.target,
            amounts=forms[row.key].amounts(),
        )
        for row in page.rows
    ]
    try:
        services.target_allocate(
            parent=page.target, children=children, created_by=user, today=today
        )
    except services.AllocationRejected as rejected:
        for key, error in rejected.errors.items():
            add_service_errors(forms[key], error, aliases={"period": "base", "owner_user": "base"})
        return False
    return True


def _allocation_target(request, target_id: int) -> Target:
    target = access.target_get_for_user(user=request.user, target_id=target_id)
    # A rep's target has nothing below it to allocate.
    if target.owner_unit_id is None:
        raise Http404
    return target


@login_required
@require_http_methods(["GET", "POST"])
def target_allocate(request, target_id: int):
    target = _allocation_target(request, target_id)
    today = timezone.localdate()
    page = selectors.allocation_page(user=request.user, target=target, today=today)
    if request.method == "POST":
        if not page.may_set:
            raise PermissionDenied(_("You may not set these targets."))
        if page.locked:
            messages.error(
                request,
                _("The period has started: amounts change only through an approved adjustment."),
            )
            return render(
                request, "targets/allocation.html", _allocation_context(page, {}), status=409
            )
        forms = _row_forms(page, request.POST)
        if "preview" in request.GET:
            return _allocation_preview(request, page=page, forms=forms, today=today)
        try:
            with transaction.atomic():
                if not _apply_allocation(user=request.user, page=page, forms=forms, today=today):
                    raise _Discard
        except _Discard:
            # Re-read: the rolled-back writes may have changed the row objects in memory.
            page = selectors.allocation_page(user=request.user, target=target, today=today)
        else:
            messages.success(request, _("Allocation saved."))
            return redirect("target-allocate", target_id=target.pk)
    else:
        forms = _row_forms(page) if page.editable else {}
    return render(request, "targets/allocation.html", _allocation_context(page, forms))


def _allocation_context(
    page: selectors.AllocationPage, forms: dict[str, AllocationRowForm]
) -> dict:
    # Templates cannot look a form up by the row's key: hand them (row, form) pairs.
    return {
        "page": page,
        "lines": [(row, forms.get(row.key)) for row in page.rows],
        "invalid": sum(1 for form in forms.values() if form.is_bound and form.errors),
    }


def _allocation_preview(
    request, *, page: selectors.AllocationPage, forms: dict[str, AllocationRowForm], today: date
):
    """The coverage the typed amounts would give: applied, measured, and rolled back."""
    figures = None
    try:
        with transaction.atomic():
            if _apply_allocation(user=request.user, page=page, forms=forms, today=today):
                figures = figures_for([page.target], as_of=today)[page.target.pk]
            raise _Discard
    except _Discard:
        pass
    return render(
        request,
        "targets/allocation.html#coverage-preview",
        {
            "page": page,
            "preview": selectors.allocation_of(figures),
            "invalid": sum(1 for form in forms.values() if form.errors),
        },
    )


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
