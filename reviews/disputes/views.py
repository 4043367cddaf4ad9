"""Flag pages: flag a deal (or a missing one), my flags, the resolvers' queue, one flag."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviews.disputes import access, selectors, services
from reviews.disputes.forms import DealDisputeForm, MissingDealForm, ResolutionForm
from reviews.models import DisputeKind, DisputeState
from targets.access import deal_get_for_user
from targets.errors import StateConflict, ValidationError
from targets.forms import add_service_errors
from targets.ids import parse_id
from targets.models import User


@login_required
@require_GET
def dispute_list(request):
    tab = request.GET.get("tab") or selectors.Tab.MINE
    if tab not in selectors.Tab.CHOICES:
        raise BadRequest(_("Unknown list."))
    state = request.GET.get("state", "")
    if state and state not in DisputeState.values:
        raise BadRequest(_("Unknown state."))
    page = selectors.dispute_list_page(user=request.user, tab=tab, state=state)
    return render(
        request,
        "reviews/disputes.html",
        {"page": page, "states": DisputeState.choices, "Tab": selectors.Tab},
    )


@login_required
@require_http_methods(["GET", "POST"])
def dispute_new(request):
    """Flag a deal (?deal=id) or, without one, a deal missing from the rep's actuals."""
    if not access.may_flag(request.user):
        raise PermissionDenied(_("Only sales reps flag their own actuals."))
    raw_deal = request.GET.get("deal")
    deal = None
    if raw_deal:
        deal_id = parse_id(raw_deal)
        if deal_id is None:
            raise BadRequest(_("Unknown deal."))
        deal = deal_get_for_user(user=request.user, deal_id=deal_id)
        if not access.can_flag_deal(request.user, deal):
            raise PermissionDenied(_("You may flag only your own deals and credit splits."))
    data = request.POST if request.method == "POST" else None
    if deal is not None:
        splits = User.objects.filter(credits__deal=deal).order_by("username")
        form = DealDisputeForm(data, split_users=splits)
    else:
        form = MissingDealForm(data)
    if data is not None and form.is_valid():
        cleaned = form.cleaned_data
        try:
            dispute = services.dispute_create(
                author=request.user,
                kind=cleaned["kind"] if deal is not None else DisputeKind.MISSING_DEAL,
                comment=cleaned["comment"],
                deal=deal,
                split_user=cleaned.get("split_user"),
                account=cleaned.get("account", ""),
                amount=cleaned.get("amount"),
                close_date=cleaned.get("close_date"),
                today=timezone.localdate(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your flag was sent to your manager."))
            return redirect("dispute-page", dispute_id=dispute.pk)
    return render(request, "reviews/dispute_new.html", {"form": form, "deal": deal})


@login_required
@require_GET
def dispute_detail(request, dispute_id: int):
    dispute = access.dispute_get_for_user(user=request.user, dispute_id=dispute_id)
    page = selectors.dispute_detail(user=request.user, dispute=dispute)
    return render(request, "reviews/dispute_detail.html", {"page": page, "form": ResolutionForm()})


@login_required
@require_POST
def dispute_resolve(request, dispute_id: int):
    dispute = access.dispute_get_for_resolution(user=request.user, dispute_id=dispute_id)
    form = ResolutionForm(request.POST)
    if not form.is_valid():
        raise BadRequest(_("Resolve as 'corrected' or 'rejected'."))
    try:
        services.dispute_resolve(
            dispute=dispute,
            by=request.user,
            resolution=form.cleaned_data["resolution"],
            note=form.cleaned_data["note"],
        )
    except StateConflict as conflict:
        messages.error(request, conflict.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The flag is resolved; the rep has been told."))
    return redirect("dispute-page", dispute_id=dispute_id)
