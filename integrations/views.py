"""Pages of the integrations app: deal imports with a dry-run preview."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from targets import access

from .forms import DealImportForm
from .imports import deals_import
from .selectors import recent_runs

MAX_ERRORS_SHOWN = 500


@login_required
@require_http_methods(["GET", "POST"])
def imports_page(request):
    if not access.can_manage_organisation(request.user):
        raise PermissionDenied(_("Only administrators import deals."))
    form = DealImportForm(request.POST or None, request.FILES or None)
    result = None
    dry_run = request.POST.get("action") != "import"
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = deals_import(
                stream=upload.file,
                size=upload.size,
                user=request.user,
                dry_run=dry_run,
                keep_good_rows=form.cleaned_data["keep_good_rows"],
            )
        except ValidationError as error:
            for message in error.message_dict.get("file", error.messages):
                form.add_error("file", message)
    if form.errors:
        status = 400
    context = {
        "form": form,
        "result": result,
        "dry_run": dry_run,
        "errors_shown": result.errors[:MAX_ERRORS_SHOWN] if result else [],
        "runs": recent_runs(),
    }
    return render(request, "integrations/imports.html", context, status=status)
