"""Review meeting pages: the list, a new meeting, the meeting with its agenda, the
projector view, and the minutes files."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviews import meeting_access as access
from reviews import meeting_selectors as selectors
from reviews import meetings
from reviews.meeting_api import minutes_response
from reviews.meeting_forms import ItemDecisionForm, MeetingForm, ScoreForm
from reviews.meeting_models import ItemDecision
from reviews.minutes import FORMATS
from targets.errors import StateConflict, ValidationError
from targets.forms import add_service_errors, amount_text
from targets.periods import Month


@login_required
@require_GET
def meeting_list(request):
    return render(
        request,
        "reviews/meetings.html",
        {
            "meetings": selectors.meeting_list(user=request.user),
            "may_create": access.units_chairable_by(request.user).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request):
    units = access.units_chairable_by(request.user)
    if not units.exists():
        raise PermissionDenied(_("Only an HRBP runs review meetings."))
    form = MeetingForm(
        request.POST if request.method == "POST" else None,
        units=units,
        users=access.member_candidates(request.user),
        initial={"unit": units.first(), "month": Month.of(timezone.localdate()).label},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = meetings.meeting_create(
                chair=request.user,
                unit=data["unit"],
                month=data["month"],
                members=list(data["members"]),
                today=timezone.localdate(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The review is set up with %(count)s items on its agenda.")
                % {"count": meeting.items.count()},
            )
            return redirect("meeting-page", meeting_id=meeting.pk)
    return render(request, "reviews/meeting_new.html", {"form": form})


def _decision_form(row) -> ItemDecisionForm:
    item = row.item
    base = item.new_base if item.new_base is not None else item.target.base
    stretch = item.new_stretch if item.new_stretch is not None else item.target.stretch
    if item.proposal_id and item.new_base is None:
        base, stretch = item.proposal.proposed_base, item.proposal.proposed_stretch
    return ItemDecisionForm(
        initial={
            "decision": item.decision or None,
            "new_base": amount_text(base),
            "new_stretch": amount_text(stretch),
            "note": item.notes,
        },
        prefix=f"d{item.pk}",
    )


def _score_form(row) -> ScoreForm:
    mine = row.mine
    initial = {}
    if mine is not None:
        initial = {
            "market": mine.market,
            "customer": mine.customer,
            "capacity": mine.capacity,
            "notes": mine.notes,
        }
    return ScoreForm(initial=initial, prefix=f"s{row.item.pk}")


def _final(item) -> bool:
    return item.decision == ItemDecision.ADJUST or (
        item.decision == ItemDecision.KEEP and item.proposal_id is not None
    )


@login_required
@require_GET
def meeting_detail(request, meeting_id: int):
    meeting = access.meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    page = selectors.meeting_page(meeting=meeting, user=request.user, today=timezone.localdate())
    for row in page.rows:
        row.extra = {
            "score_form": _score_form(row) if page.is_participant else None,
            "decision_form": _decision_form(row) if page.is_chair else None,
            "final": _final(row.item),
        }
    undecided = sum(1 for row in page.rows if not row.item.decision)
    return render(
        request,
        "reviews/meeting.html",
        {
            "page": page,
            "formats": list(FORMATS),
            "close_question": _(
                "Close the review and freeze its minutes? %(count)s items have no decision yet; "
                "nothing can change afterwards."
            )
            % {"count": undecided}
            if undecided
            else _("Close the review and freeze its minutes? Nothing can change afterwards."),
        },
    )


@login_required
@require_GET
def meeting_present(request, meeting_id: int):
    meeting = access.meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    page = selectors.meeting_page(meeting=meeting, user=request.user, today=timezone.localdate())
    return render(request, "reviews/meeting_present.html", {"page": page})


@login_required
@require_GET
def meeting_minutes(request, meeting_id: int, fmt: str):
    meeting = access.meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    if fmt not in FORMATS:
        raise BadRequest(_("Ask for docx or pdf."))
    return minutes_response(meeting, fmt=fmt, language=get_language())


def _back(meeting_id: int, item_id: int | None = None):
    url = reverse("meeting-page", args=[meeting_id])
    return redirect(f"{url}#item-{item_id}" if item_id else url)


def _run(request, action, *, success: str = "") -> bool:
    try:
        action()
    except StateConflict as conflict:
        messages.error(request, conflict.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if success:
            messages.success(request, success)
        return True
    return False


@login_required
@require_POST
def meeting_refresh(request, meeting_id: int):
    meeting = access.meeting_get_for_chair(user=request.user, meeting_id=meeting_id)
    changes = []
    _run(
        request,
        lambda: changes.append(
            meetings.agenda_refresh(meeting=meeting, by=request.user, today=timezone.localdate())
        ),
    )
    if changes:
        messages.success(
            request,
            _(
                "The agenda is up to date: %(added)s items added, %(dropped)s that no longer "
                "apply taken off."
            )
            % {"added": changes[0].added, "dropped": changes[0].dropped},
        )
    return _back(meeting_id)


@login_required
@require_POST
def meeting_close(request, meeting_id: int):
    meeting = access.meeting_get_for_chair(user=request.user, meeting_id=meeting_id)
    _run(
        request,
        lambda: meetings.meeting_close(
            meeting=meeting, by=request.user, today=timezone.localdate()
        ),
        success=_("The review is closed and its minutes are final."),
    )
    return _back(meeting_id)


@login_required
@require_POST
def item_score(request, meeting_id: int, item_id: int):
    meeting = access.meeting_get_for_participant(user=request.user, meeting_id=meeting_id)
    item = access.item_get_for_user(meeting=meeting, item_id=item_id)
    form = ScoreForm(request.POST, prefix=f"s{item.pk}")
    if not form.is_valid():
        raise BadRequest(_("Give scores from 1 to 5."))
    data = form.cleaned_data
    _run(
        request,
        lambda: meetings.item_score(
            item=item,
            by=request.user,
            market=data["market"],
            customer=data["customer"],
            capacity=data["capacity"],
            notes=data["notes"],
        ),
        success=_("Your scores are saved."),
    )
    return _back(meeting_id, item.pk)


@login_required
@require_POST
def item_decide(request, meeting_id: int, item_id: int):
    meeting = access.meeting_get_for_chair(user=request.user, meeting_id=meeting_id)
    item = access.item_get_for_user(meeting=meeting, item_id=item_id)
    form = ItemDecisionForm(request.POST, prefix=f"d{item.pk}")
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return _back(meeting_id, item.pk)
    data = form.cleaned_data
    _run(
        request,
        lambda: meetings.item_decide(
            item=item,
            by=request.user,
            decision=data["decision"],
            new_base=data["new_base"] if data["decision"] == ItemDecision.ADJUST else None,
            new_stretch=data["new_stretch"] if data["decision"] == ItemDecision.ADJUST else None,
            notes=data["note"],
        ),
        success=_("The decision is recorded."),
    )
    return _back(meeting_id, item.pk)


@login_required
@require_POST
def item_move(request, meeting_id: int, item_id: int):
    meeting = access.meeting_get_for_chair(user=request.user, meeting_id=meeting_id)
    item = access.item_get_for_user(meeting=meeting, item_id=item_id)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        raise BadRequest(_("Move up or down."))
    ordered = list(meeting.items.order_by("position", "pk").values_list("pk", flat=True))
    index = ordered.index(item.pk) + 1
    _run(
        request,
        lambda: meetings.item_move(
            item=item, by=request.user, position=index - 1 if direction == "up" else index + 1
        ),
    )
    return _back(meeting_id, item.pk)
