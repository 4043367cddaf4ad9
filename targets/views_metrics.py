"""Pages of the process metrics: the settings list and form (admin), one metric's weeks
for a rep or a unit with value entry and confirmation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from targets import access
from targets import access_metrics as metric_access
from targets.charts import chart_html, metric_chart
from targets.errors import StateConflict
from targets.forms import add_service_errors
from targets.ids import parse_id
from targets.metric_forms import FilterFormSet, MetricForm, MetricValueForm, filters_from
from targets.models import Metric
from targets.selectors.metrics import metric_page, metrics_for_list
from targets.services import metrics as services


@login_required
@require_GET
def metric_list(request):
    return render(
        request,
        "targets/metrics.html",
        {
            "metrics": metrics_for_list(),
            "may_manage": metric_access.may_manage_metrics(request.user),
        },
    )


def _definition_page(request, metric: Metric | None):
    if not metric_access.may_manage_metrics(request.user):
        raise PermissionDenied(_("Only an administrator defines metrics."))
    initial = MetricForm.initial_for(metric) if metric else {"active": True}
    rows = [
        {
            "field": f["field"],
            "op": f["op"],
            "value": str(f["value"]).lower() if isinstance(f["value"], bool) else f["value"],
        }
        for f in (metric.filters if metric else [])
    ]
    form = MetricForm(request.POST or None, initial=initial)
    filters = FilterFormSet(request.POST or None, initial=rows, prefix="filters")
    status = 200
    if request.method == "POST":
        if form.is_valid() and filters.is_valid():
            fields = {**form.cleaned_data, "filters": filters_from(filters)}
            try:
                if metric is None:
                    if Metric.objects.filter(code=fields["code"]).exists():
                        raise ValidationError({"code": [_("A metric with this code exists.")]})
                    metric = services.metric_create(fields=fields)
                else:
                    if Metric.objects.filter(code=fields["code"]).exclude(pk=metric.pk).exists():
                        raise ValidationError({"code": [_("A metric with this code exists.")]})
                    metric = services.metric_update(metric=metric, fields=fields)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Metric saved."))
                return redirect("metrics")
        status = 400
    return render(
        request,
        "targets/metric_form.html",
        {"form": form, "filters": filters, "metric": metric},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def metric_new(request):
    return _definition_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def metric_edit(request, metric_id: int):
    return _definition_page(
        request, metric_access.metric_get_for_managing(user=request.user, metric_id=metric_id)
    )


def _subject(request):
    """?user= (a rep) or ?unit=; by default the signed-in rep, else their highest unit."""
    user = request.user
    rep_id, unit_id = request.GET.get("user"), request.GET.get("unit")
    if rep_id:
        rep = metric_access.metric_reps_visible_to(user).filter(pk=parse_id(rep_id)).first()
        if rep is None:
            raise Http404(_("No such person."))
        return rep, None
    if unit_id:
        return None, access.unit_get_for_figures(user=user, unit_id=parse_id(unit_id))
    unit = access.default_unit_for(user)
    if unit is None:
        return user, None
    return None, unit


@login_required
@require_http_methods(["GET", "POST"])
def metric_detail(request, metric_id: int):
    metric = metric_access.metric_get(metric_id=metric_id)
    rep, unit = _subject(request)
    today = timezone.localdate()
    page = metric_page(user=request.user, metric=metric, rep=rep, unit=unit, today=today)
    form = None
    status = 200
    if page.may_enter:
        reps = metric_access.reps_for_metric_entry(request.user)
        initial = {"week": str(services.metric_week_range(today)[1].previous())}
        if rep is not None and reps.filter(pk=rep.pk).exists():
            initial["rep"] = rep.pk
        form = MetricValueForm(request.POST or None, reps=reps, initial=initial)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("You may not enter values of this metric."))
        if form.is_valid():
            data = form.cleaned_data
            if not metric_access.can_enter_metric_for(request.user, rep=data["rep"]):
                raise PermissionDenied(_("You may enter values only for yourself or your reps."))
            try:
                services.metric_value_enter(
                    entered_by=request.user,
                    metric=metric,
                    rep=data["rep"],
                    week=data["week"],
                    value=data["value"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Value saved."))
                return redirect(request.get_full_path())
        status = 400
    chart = chart_html(metric_chart(page, language=translation.get_language()))
    return render(
        request,
        "targets/metric_detail.html",
        {"page": page, "form": form, "chart": chart},
        status=status,
    )


@login_required
@require_POST
def metric_value_confirm(request, value_id: int):
    value = metric_access.metric_value_get_for_confirmation(user=request.user, value_id=value_id)
    try:
        services.metric_value_confirm(value=value, confirmed_by=request.user)
    except StateConflict as conflict:
        messages.error(request, conflict.message)
    else:
        messages.success(request, _("Value confirmed; it now counts."))
    back = reverse("metric-page", args=[value.metric_id]) + f"?user={value.user_id}"
    return redirect(back)
