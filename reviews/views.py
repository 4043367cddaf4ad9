"""Proposal pages: my proposals, the reviewers' queue, a new proposal with its what-if."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviews import access, selectors, services
from reviews.attachments import attachment_content_type
from reviews.effect import REPS_SHOWN, effect_metrics
from reviews.forms import DecisionForm, ProposalForm
from reviews.models import ProposalReason, ProposalStatus
from targets.access import unit_get_for_figures
from targets.errors import StateConflict, ValidationError
from targets.forms import add_service_errors, amount_text
from targets.ids import parse_id
from targets.periods import PeriodError, Quarter


@login_required
@require_GET
def proposal_list(request):
    tab = request.GET.get("tab") or selectors.Tab.MINE
    if tab not in (selectors.Tab.MINE, selectors.Tab.QUEUE, selectors.Tab.ALL):
        raise BadRequest(_("Unknown list."))
    status = request.GET.get("status", "")
    if status and status not in ProposalStatus.values:
        raise BadRequest(_("Unknown status."))
    page = selectors.proposal_list_page(
        user=request.user,
        tab=tab,
        status=status,
        today=timezone.localdate(),
        filters=_filters(request),
    )
    return render(
        request,
        "reviews/proposals.html",
        {
            "page": page,
            "statuses": ProposalStatus.choices,
            "reasons": ProposalReason.choices,
            "Tab": selectors.Tab,
        },
    )


def _filters(request) -> selectors.ProposalFilters:
    """?unit=, ?period=, ?reason= of the list; a unit the user does not see is a 404."""
    unit = None
    raw_unit = request.GET.get("unit", "")
    if raw_unit:
        unit_id = parse_id(raw_unit)
        if unit_id is None:
            raise BadRequest(_("Unknown unit."))
        unit = selectors.filter_units(request.user).filter(pk=unit_id).first()
        if unit is None:
            raise Http404(_("No such unit."))
    period = request.GET.get("period", "")
    if period:
        try:
            period = Quarter.parse(period).label
        except PeriodError:
            raise BadRequest(_("Give a quarter like 2025Q2.")) from None
    reason = request.GET.get("reason", "")
    if reason and reason not in ProposalReason.values:
        raise BadRequest(_("Unknown reason."))
    return selectors.ProposalFilters(unit=unit, period=period, reason=reason)


def _new_form(request, data=None, files=None):
    targets = selectors.proposable_targets(user=request.user, today=timezone.localdate())
    initial = {}
    target_id = parse_id(request.GET.get("target"))
    if target_id is not None:
        target = targets.filter(pk=target_id).first()
        if target is not None:
            initial = {
                "target": target,
                "proposed_base": amount_text(target.base),
                "proposed_stretch": amount_text(target.stretch),
            }
    return ProposalForm(data, files, targets=targets, initial=initial), targets


@login_required
@require_http_methods(["GET", "POST"])
def proposal_new(request):
    if request.method == "POST":
        form, targets = _new_form(request, request.POST, request.FILES)
    else:
        form, targets = _new_form(request)
    if not targets.exists():
        raise PermissionDenied(_("You have no target of this or a later quarter to adjust."))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = services.proposal_create(
                author=request.user,
                target=data["target"],
                proposed_base=data["proposed_base"],
                proposed_stretch=data["proposed_stretch"],
                reason=data["reason"],
                explanation=data["explanation"],
                attachment=data.get("attachment"),
                submit="submit" in request.POST,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if proposal.status == ProposalStatus.SUBMITTED:
                messages.success(request, _("Your proposal was submitted for review."))
            else:
                messages.success(request, _("Your proposal was saved as a draft."))
            return redirect("proposal-page", proposal_id=proposal.pk)
    return render(
        request, "reviews/proposal_new.html", {"form": form, "preview": _preview(request, form)}
    )


def _preview(request, form: ProposalForm):
    """The what-if of the amounts typed so far, or None while they are incomplete."""
    if not form.is_bound:
        target = form.initial.get("target")
        if target is None:
            return None
        return selectors.proposal_preview(
            target=target, base=target.base, stretch=target.stretch, today=timezone.localdate()
        )
    form.is_valid()
    data = form.cleaned_data
    target = data.get("target")
    if (
        target is not None
        and not form.data.get("proposed_base")
        and not form.data.get("proposed_stretch")
    ):
        # A target chosen, nothing typed yet: show where it stands today.
        return selectors.proposal_preview(
            target=target, base=target.base, stretch=target.stretch, today=timezone.localdate()
        )
    if not all(data.get(k) is not None for k in ("target", "proposed_base", "proposed_stretch")):
        return None
    return selectors.proposal_preview(
        target=data["target"],
        base=data["proposed_base"],
        stretch=data["proposed_stretch"],
        today=timezone.localdate(),
    )


@login_required
@require_GET
def proposal_preview(request):
    """htmx: the what-if panel for the amounts in the form."""
    targets = selectors.proposable_targets(user=request.user, today=timezone.localdate())
    form = ProposalForm(request.GET, targets=targets)
    return render(
        request, "reviews/proposal_new.html#preview", {"preview": _preview(request, form)}
    )


@login_required
@require_GET
def proposal_detail(request, proposal_id: int):
    proposal = access.proposal_get_for_user(user=request.user, proposal_id=proposal_id)
    page = selectors.proposal_detail(
        user=request.user, proposal=proposal, today=timezone.localdate()
    )
    return render(request, "reviews/proposal_detail.html", {"page": page, "form": DecisionForm()})


@login_required
@require_GET
def proposal_attachment(request, proposal_id: int):
    """The attachment, to those who may see the proposal only (never from MEDIA_URL)."""
    proposal = access.proposal_get_for_user(user=request.user, proposal_id=proposal_id)
    if not proposal.attachment:
        raise Http404(_("This proposal has no attachment."))
    try:
        stream = proposal.attachment.open("rb")
    except FileNotFoundError:
        raise Http404(_("This proposal has no attachment.")) from None
    return FileResponse(
        stream,
        as_attachment=True,
        filename=proposal.attachment_name or proposal.attachment.name.rsplit("/", 1)[-1],
        content_type=attachment_content_type(proposal.attachment.name),
    )


def _act(request, proposal_id: int, action, *, success: str = ""):
    try:
        action()
    except StateConflict as conflict:
        messages.error(request, conflict.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if success:
            messages.success(request, success)
    return redirect("proposal-page", proposal_id=proposal_id)


@login_required
@require_POST
def proposal_submit(request, proposal_id: int):
    proposal = access.proposal_get_for_author(user=request.user, proposal_id=proposal_id)
    return _act(
        request,
        proposal_id,
        lambda: services.proposal_submit(proposal=proposal, by=request.user),
        success=_("Your proposal was submitted for review."),
    )


@login_required
@require_POST
def proposal_withdraw(request, proposal_id: int):
    proposal = access.proposal_get_for_author(user=request.user, proposal_id=proposal_id)
    return _act(
        request,
        proposal_id,
        lambda: services.proposal_withdraw(proposal=proposal, by=request.user),
        success=_("Your proposal was withdrawn."),
    )


@login_required
@require_POST
def proposal_decide(request, proposal_id: int):
    proposal = access.proposal_get_for_decision(user=request.user, proposal_id=proposal_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        raise BadRequest(_("Decide 'approve' or 'reject'."))
    return _act(
        request,
        proposal_id,
        lambda: services.proposal_decide(
            proposal=proposal,
            by=request.user,
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
        ),
        success=_("The proposal is approved and the target revised; the author is notified.")
        if form.cleaned_data["decision"] == "approve"
        else _("The proposal is rejected; the author is notified with your note."),
    )


@login_required
@require_GET
def proposal_effect_section(request):
    """The company dashboard's effect section, loaded after the dashboard itself (htmx)."""
    unit_id = parse_id(request.GET.get("unit"))
    if unit_id is None:
        raise BadRequest(_("Name the company with ?unit=."))
    unit = unit_get_for_figures(user=request.user, unit_id=unit_id)
    try:
        period = Quarter.parse(request.GET.get("period", ""))
        as_of = date.fromisoformat(request.GET["as_of"]) if request.GET.get("as_of") else None
    except (PeriodError, ValueError):
        raise BadRequest(_("Give a quarter like 2025Q2 and a date like 2025-05-15.")) from None
    effect = effect_metrics(unit=unit, period=period, as_of=as_of or timezone.localdate())
    return render(
        request, "reviews/_effect.html", {"effect": effect, "reps": effect.by_rep[:REPS_SHOWN]}
    )
