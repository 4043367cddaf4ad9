"""Pages of the integrations app: imports with a dry-run preview, and their templates."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from targets import access

from .forms import ImportForm
from .import_templates import XLSX_TYPE
from .importers import IMPORTERS, importers_for
from .onboarding import setup_steps
from .selectors import recent_runs

MAX_ERRORS_SHOWN = 500


def _importers(user):
    importers = importers_for(user)
    if not importers:
        raise PermissionDenied(_("Only administrators and sales directors import files."))
    return importers


@login_required
@require_http_methods(["GET", "POST"])
def imports_page(request):
    importers = _importers(request.user)
    initial = {"kind": request.GET.get("kind")} if request.GET.get("kind") else None
    form = ImportForm(
        request.POST or None, request.FILES or None, importers=importers, initial=initial
    )
    result = None
    dry_run = request.POST.get("action") != "import"
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = IMPORTERS[form.cleaned_data["kind"]].run(
                stream=upload.file,
                size=upload.size,
                user=request.user,
                dry_run=dry_run,
                keep_good_rows=form.cleaned_data["keep_good_rows"],
                period=form.cleaned_data["period"] or None,
            )
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                form.add_error(name if name in form.fields else "file", messages)
    if form.errors:
        status = 400
    context = {
        "form": form,
        "importers": importers,
        "result": result,
        "dry_run": dry_run,
        "errors_shown": result.errors[:MAX_ERRORS_SHOWN] if result else [],
        "runs": recent_runs() if request.user.is_staff else [],
    }
    return render(request, "integrations/imports.html", context, status=status)


@login_required
@require_GET
def import_template(request, kind: str):
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise Http404
    if not importer.may_import(request.user):
        raise PermissionDenied(_("You may not import these files."))
    content, filename = importer.template(request.user, request.GET.get("period"))
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def setup_page(request):
    if not access.can_manage_organisation(request.user):
        raise PermissionDenied(_("Only administrators set the app up."))
    steps = setup_steps()
    done = sum(1 for step in steps if step.done)
    return render(
        request,
        "integrations/setup.html",
        {"steps": steps, "done": done, "total": len(steps), "complete": done == len(steps)},
    )
