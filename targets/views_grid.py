"""The quarter target grid (SPEC §3): set a quarter's targets for a unit and everything below.

One form holds every row. Its buttons either run a tool (fill, split, roll up) that changes
the values shown and saves nothing, or save all rows through `services.target_grid_save`
(all or none). htmx swaps the grid in place; without JavaScript the same buttons post the
form and the whole page comes back.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from targets import access, grid_xlsx, services
from targets.forms import add_service_errors
from targets.grid_forms import (
    GridImportForm,
    GridRowForm,
    GridToolForm,
    initial_data,
    lenient_draft,
    value_text,
    weight_text,
)
from targets.ids import parse_id
from targets.models import OrgUnit, User
from targets.periods import PeriodError, Quarter
from targets.selectors import grid as selectors
from targets.selectors.grid import FIELDS, Draft, GridPage


class _Discard(Exception):
    """Leaves a transaction.atomic block without keeping anything."""


def _params(request) -> tuple[OrgUnit, Quarter]:
    today = timezone.localdate()
    label = request.GET.get("period")
    if label:
        try:
            period = Quarter.parse(label)
        except PeriodError:
            raise BadRequest(
                _("'%(value)s' is not a quarter like 2025Q2.") % {"value": label[:20]}
            ) from None
    else:
        # Targets are mostly set for the quarter ahead.
        period = Quarter.of(today).next()
    raw = request.GET.get("unit")
    if raw:
        unit_id = parse_id(raw)
        if unit_id is None:
            raise Http404
        unit = access.unit_get_for_target_setting(user=request.user, unit_id=unit_id)
    else:
        unit = access.default_unit_for(request.user)
        if unit is None:
            raise PermissionDenied(_("Only sales directors and managers set targets."))
        unit = access.unit_get_for_target_setting(user=request.user, unit_id=unit.pk)
    return unit, period


def _grid_url(page: GridPage) -> str:
    return reverse("target-grid") + "?" + urlencode({"unit": page.unit.pk, "period": page.period})


def _saved_data(page: GridPage) -> dict[str, str]:
    data: dict[str, str] = {}
    for line in page.lines:
        data.update(
            initial_data(line.key, Draft.of(line.target), line.target and line.target.version)
        )
    return data


def _posted(key: str, data: QueryDict | dict) -> bool:
    return any(f"{key}-{name}" in data for name in FIELDS)


def _month_titles(page: GridPage) -> list[str]:
    return [date_format(month.start, "M") for month in page.months]


def _forms(page: GridPage, data) -> dict[str, GridRowForm]:
    """A bound form for each row the user may edit, and for any other row that was posted
    (so that the service, not silence, answers it)."""
    titles = _month_titles(page)
    return {
        line.key: GridRowForm(
            data,
            prefix=line.key,
            name=line.name,
            has_target=line.target is not None,
            month_titles=titles,
        )
        for line in page.lines
        if line.editable or _posted(line.key, data)
    }


def _drafts(page: GridPage, data) -> dict[str, Draft]:
    return {
        line.key: lenient_draft(line.key, data) if line.editable else Draft.of(line.target)
        for line in page.lines
    }


def _render(
    request,
    page: GridPage,
    data,
    *,
    forms: dict[str, GridRowForm] | None = None,
    tool: GridToolForm | None = None,
    result: selectors.ToolResult | None = None,
    rejected: bool = False,
    import_preview: dict | None = None,
    status: int = 200,
):
    forms = forms if forms is not None else _forms(page, data)
    drafts = _drafts(page, data)
    reconciliation = selectors.grid_reconciliation(page.lines, drafts)
    lines = [
        {
            "line": line,
            "form": forms.get(line.key) if line.editable else None,
            "errors": _row_messages(forms.get(line.key), every=not line.editable),
            "draft": drafts[line.key],
            "weights": [
                weight_text(getattr(drafts[line.key], name)) for name in ("w1", "w2", "w3")
            ],
            "recon": reconciliation.get(line.key),
            "can_split": any(page.by_key[k].editable for k in line.child_keys),
            "can_roll_up": line.editable and bool(line.child_keys),
        }
        for line in page.lines
    ]
    invalid = sum(1 for form in forms.values() if form.is_bound and form.errors)
    context = {
        "page": page,
        "lines": lines,
        "grid_url": _grid_url(page),
        "tool": tool or GridToolForm(initial={"percent": 0}),
        "result": result,
        "rejected": rejected,
        "invalid": invalid,
        "import_form": GridImportForm(),
        "import_preview": import_preview,
        "month_titles": _month_titles(page),
        "settable_lines": sum(1 for line in page.lines if line.settable),
    }
    wants_fragment = bool(request.htmx) and not request.htmx.history_restore_request
    template = "targets/grid.html#grid" if wants_fragment else "targets/grid.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _row_messages(form: GridRowForm | None, *, every: bool) -> list[str]:
    """The messages shown beside the row's name: all of them when it shows no inputs."""
    if form is None or not form.is_bound:
        return []
    if every:
        return [message for messages in form.errors.values() for message in messages]
    return list(form.non_field_errors())


@login_required
@require_http_methods(["GET", "POST"])
def target_grid(request):
    unit, period = _params(request)
    today = timezone.localdate()
    page = selectors.grid_page(user=request.user, unit=unit, period=period, today=today)
    if request.method == "GET":
        return _render(request, page, _saved_data(page))
    if not page.may_edit:
        raise PermissionDenied(_("You may not set any of these targets."))
    data = request.POST.copy()
    tool = GridToolForm(request.POST)
    action = request.POST.get("action", "save")
    if "split" in request.POST or "rollup" in request.POST or action.startswith("fill"):
        return _run_tool(request, page, data, tool, action=action, today=today)
    if action == "recalc":
        drafts = _drafts(page, data)
        return render(
            request,
            "targets/grid.html#recon-oob",
            {
                "recons": [
                    (line.key, recon)
                    for line in page.lines
                    if (recon := selectors.grid_reconciliation([line], drafts).get(line.key))
                ]
            },
        )
    return _save(request, page, data, tool, today=today)


def _run_tool(request, page: GridPage, data: QueryDict, tool: GridToolForm, *, action, today):
    if not tool.is_valid():
        return _render(request, page, data, tool=tool)
    drafts = _drafts(page, data)
    if "split" in request.POST:
        mode = tool.split_mode_value()
        previous = (
            selectors.previous_quarter(page, today=today, with_actuals=True)
            if mode == selectors.SplitMode.ACTUALS
            else None
        )
        result = selectors.grid_split(
            page, drafts, request.POST["split"], mode=mode, previous=previous
        )
    elif "rollup" in request.POST:
        result = selectors.grid_roll_up(page, drafts, request.POST["rollup"])
    else:
        from_actuals = action == "fill-actuals"
        previous = selectors.previous_quarter(page, today=today, with_actuals=from_actuals)
        result = selectors.grid_fill(
            page, drafts, previous, percent=tool.percent_value(), from_actuals=from_actuals
        )
    _apply(data, result.changes)
    return _render(request, page, data, tool=tool, result=result)


def _apply(data: QueryDict, changes: selectors.Changes) -> None:
    for key, change in changes.items():
        for name, value in change.items():
            data[f"{key}-{name}"] = value_text(name, value)


def _validate_and_write(
    *, user: User, page: GridPage, forms: dict[str, GridRowForm], today: date
) -> services.GridSaved | None:
    """Every row's form, then the service: None (errors on the rows) if anything fails."""
    valid = [form.is_valid() for form in forms.values()]
    if not all(valid):
        return None
    lines = page.by_key
    rows = [form.row(key=key, line=lines[key]) for key, form in forms.items()]
    try:
        return services.target_grid_save(
            user=user, period=page.period.label, rows=rows, today=today
        )
    except services.GridRejected as rejected:
        for key, error in rejected.errors.items():
            add_service_errors(
                forms[key], error, aliases={"phasing": "w1", "owner_user": None, "owner_unit": None}
            )
        for key, message in rejected.conflicts.items():
            forms[key].add_error(None, message)
        return None


def _save(request, page: GridPage, data: QueryDict, tool: GridToolForm, *, today: date):
    forms = _forms(page, data)
    saved = None
    try:
        with transaction.atomic():
            saved = _validate_and_write(user=request.user, page=page, forms=forms, today=today)
            if saved is None:
                raise _Discard
    except _Discard:
        return _render(request, page, data, forms=forms, tool=tool, rejected=True)
    messages.success(
        request,
        _("Targets saved: %(created)s created, %(updated)s changed.")
        % {"created": saved.created, "updated": saved.updated},
    )
    url = _grid_url(page)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_GET
def target_grid_export(request):
    unit, period = _params(request)
    page = selectors.grid_page(
        user=request.user, unit=unit, period=period, today=timezone.localdate()
    )
    content = grid_xlsx.grid_workbook(period=period.label, rows=selectors.grid_sheet_rows(page))
    response = HttpResponse(content, content_type=grid_xlsx.XLSX_TYPE)
    filename = f"targets-{period.label}-unit{unit.pk}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def target_grid_import(request):
    """A preview: the file's values in the grid with each row's errors; nothing is saved."""
    unit, period = _params(request)
    today = timezone.localdate()
    page = selectors.grid_page(user=request.user, unit=unit, period=period, today=today)
    if not page.may_edit:
        raise PermissionDenied(_("You may not set any of these targets."))
    data = QueryDict(mutable=True)
    data.update(_saved_data(page))
    upload = GridImportForm(request.POST, request.FILES)
    if not upload.is_valid():
        errors = [{"line": None, "name": "", "message": m} for m in upload.errors.get("file", [])]
        preview = {"errors": errors, "refused": True, "rows": 0}
        return _render(request, page, data, import_preview=preview, status=400)
    parsed = grid_xlsx.read_grid(upload.cleaned_data["file"])
    plan = selectors.grid_import_plan(page, parsed)
    errors = [{"line": e.line, "name": e.name, "message": e.message} for e in plan.errors]
    if plan.refused:
        preview = {"errors": errors, "refused": True, "rows": len(parsed.rows)}
        return _render(request, page, data, import_preview=preview, status=400)
    _apply(data, plan.changes)
    for key, version in plan.versions.items():
        data[f"{key}-version"] = str(version or "")
    forms = _forms(page, data)
    # The service's verdict without keeping anything: each refused row is listed.
    try:
        with transaction.atomic():
            _validate_and_write(user=request.user, page=page, forms=forms, today=today)
            raise _Discard
    except _Discard:
        pass
    lines = page.by_key
    for key, form in forms.items():
        for name, field_errors in form.errors.items():
            for message in field_errors:
                label = form.fields[name].label if name in form.fields else ""
                errors.append(
                    {
                        "line": plan.lines.get(key),
                        "name": lines[key].name,
                        "message": f"{label}: {message}" if label else message,
                    }
                )
    errors.sort(key=lambda e: e["line"] or 0)
    preview = {"errors": errors, "refused": False, "rows": len(parsed.rows)}
    return _render(request, page, data, forms=forms, import_preview=preview, rejected=bool(errors))
