"""The process-metric pages: who may open what, the derivation builder, value entry and
confirmation, both languages, pinned query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from targets.charts import metric_chart
from targets.models import Metric, MetricValue
from targets.periods import IsoWeek
from targets.selectors.metrics import metric_page
from targets.services.metrics import metric_value_enter
from tests.metrics.helpers import make_metric, put_values

pytestmark = pytest.mark.django_db

LAST_WEEK = IsoWeek.of(timezone.localdate() - timedelta(days=7)).label


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def metric(org):
    metric = make_metric()
    put_values(metric, org.alice, {LAST_WEEK: "3"})
    put_values(metric, org.carol, {LAST_WEEK: "12"})
    put_values(metric, org.dave, {LAST_WEEK: "9"})
    return metric


@pytest.mark.parametrize(
    ("persona", "path", "status"),
    [
        (None, "/metrics/", 302),
        ("alice", "/metrics/", 200),
        ("admin", "/metrics/new/", 200),
        ("director", "/metrics/new/", 403),
        ("alice", "/metrics/new/", 403),
        ("alice", "/metrics/{metric}/edit/", 403),
        ("admin", "/metrics/{metric}/edit/", 200),
        ("admin", "/metrics/999999/edit/", 404),
        ("alice", "/metrics/{metric}/", 200),
        ("alice", "/metrics/{metric}/?user={dave}", 404),
        ("alice", "/metrics/{metric}/?unit={east}", 403),
        ("mgr_east", "/metrics/{metric}/?unit={east}", 200),
        ("mgr_east", "/metrics/{metric}/?unit={north}", 403),
        ("mgr_east", "/metrics/{metric}/?user={alice}", 200),
        ("director", "/metrics/{metric}/", 200),
        ("alice", "/metrics/999999/", 404),
    ],
)
def test_who_may_open_which_metric_page(org, metric, persona, path, status):
    user = getattr(org, persona) if persona else None
    ids = {
        "metric": metric.pk,
        "dave": org.dave.pk,
        "east": org.east.pk,
        "north": org.north.pk,
        "alice": org.alice.pk,
    }
    assert client_for(user).get(path.format(**ids)).status_code == status


def test_pages_refuse_wrong_methods(org, metric):
    client = client_for(org.admin)
    assert client.delete("/metrics/").status_code == 405
    assert client.put(f"/metrics/{metric.pk}/").status_code == 405
    assert (
        client.get(f"/metric-values/{MetricValue.objects.first().pk}/confirm/").status_code == 405
    )


def test_an_admin_defines_a_derived_metric_in_the_form(org):
    response = client_for(org.admin).post(
        "/metrics/new/",
        {
            "code": "visits",
            "name": "拜访次数",
            "name_en": "Visits",
            "category": "customer",
            "unit": "count",
            "aggregation": "sum",
            "direction": "higher",
            "weekly_plan": "5",
            "key": "on",
            "warn_at": "20",
            "alert_at": "40",
            "active": "on",
            "derivation": "count",
            "record_type": "activities",
            "filters-TOTAL_FORMS": "2",
            "filters-INITIAL_FORMS": "0",
            "filters-0-field": "completed",
            "filters-0-op": "eq",
            "filters-0-value": "true",
            "filters-1-field": "",
            "filters-1-op": "eq",
            "filters-1-value": "",
        },
    )
    assert response.status_code == 302
    metric = Metric.objects.get(code="visits")
    assert metric.filters == [{"field": "completed", "op": "eq", "value": True}]
    assert metric.key and metric.derivation == "count"


def test_a_filter_on_a_field_the_record_type_lacks_is_a_form_error(org):
    response = client_for(org.admin).post(
        "/metrics/new/",
        {
            "code": "cycle",
            "name": "周期",
            "category": "process",
            "unit": "days",
            "aggregation": "avg",
            "direction": "lower",
            "weekly_plan": "30",
            "derivation": "duration",
            "record_type": "activities",
            "field": "source_created_at",
            "field_to": "close_date",
            "filters-TOTAL_FORMS": "0",
            "filters-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 400
    assert "source_created_at" in response.content.decode()
    assert not Metric.objects.filter(code="cycle").exists()


def test_a_rep_enters_a_value_and_the_manager_confirms_it(org, metric):
    week = IsoWeek.of(timezone.localdate()).label
    response = client_for(org.alice).post(
        f"/metrics/{metric.pk}/", {"rep": org.alice.pk, "week": week, "value": "6"}
    )
    assert response.status_code == 302
    value = MetricValue.objects.get(user=org.alice, week=week)
    assert value.counts is False and value.entered_by == org.alice
    page = client_for(org.mgr_east).get(f"/metrics/{metric.pk}/?user={org.alice.pk}")
    assert b'data-testid="value-confirm"' in page.content
    assert client_for(org.alice).post(f"/metric-values/{value.pk}/confirm/").status_code == 403
    assert client_for(org.dave).post(f"/metric-values/{value.pk}/confirm/").status_code == 404
    confirm = client_for(org.mgr_east).post(f"/metric-values/{value.pk}/confirm/")
    assert confirm.status_code == 302
    value.refresh_from_db()
    assert value.counts and value.confirmed_by == org.mgr_east


def test_a_bad_value_is_a_form_error_and_nothing_is_written(org, metric):
    response = client_for(org.alice).post(
        f"/metrics/{metric.pk}/", {"rep": org.alice.pk, "week": "2025-W99", "value": "x"}
    )
    assert response.status_code == 400
    assert MetricValue.objects.filter(user=org.alice).count() == 1


def test_a_rep_cannot_enter_for_a_colleague(org, metric):
    response = client_for(org.alice).post(
        f"/metrics/{metric.pk}/", {"rep": org.bob.pk, "week": LAST_WEEK, "value": "6"}
    )
    assert response.status_code == 400  # bob is not among the choices
    assert not MetricValue.objects.filter(user=org.bob).exists()


@pytest.mark.parametrize("more_reps", [0, 8])
def test_the_unit_page_flags_the_rep_behind_and_counts_queries(
    org, metric, more_reps, django_assert_max_num_queries
):
    from tests.factories import make_rep

    for n in range(more_reps):
        put_values(metric, make_rep(f"extra{n}", org.east2), {LAST_WEEK: "11"})
    client = client_for(org.mgr_east)
    # A fixed number whatever the reps: session, user, roles, metric, subtree, values, …
    with django_assert_max_num_queries(11):
        response = client.get(f"/metrics/{metric.pk}/?unit={org.east.pk}")
    html = response.content.decode()
    assert 'data-testid="metric-chart"' in html
    assert html.index("Alice") < html.index("Carol")  # worst first
    assert "Dave" not in html


def test_the_list_page_counts_queries(org, metric, django_assert_max_num_queries):
    for n in range(5):
        make_metric(code=f"m{n}")
    client = client_for(org.admin)
    with django_assert_max_num_queries(6):
        response = client.get("/metrics/")
    assert response.content.decode().count('data-testid="metric-row"') == 6


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_pages_speak_both_languages(org, metric, language):
    client = client_for(org.admin)
    client.cookies["django_language"] = language
    html = client.get("/metrics/").content.decode()
    assert ("过程指标" if language == "zh-hans" else "Process metrics") in html
    edit = client.get(f"/metrics/{metric.pk}/edit/").content.decode()
    assert (
        "按已同步记录推导" if language == "zh-hans" else "Derivation from synced records"
    ) in edit


def test_the_chart_marks_weeks_past_a_threshold(org, metric):
    page = metric_page(
        user=org.admin, metric=metric, rep=org.alice, unit=None, today=timezone.localdate()
    )
    with translation.override("en"):
        fig = metric_chart(page, language="en")
    bars = fig.data[1]
    assert "past the alert threshold" in bars.text
    assert fig.data[0].name == "Plan"


def test_an_unconfirmed_own_entry_waits_in_the_table(org, metric):
    metric_value_enter(
        entered_by=org.carol,
        metric=metric,
        rep=org.carol,
        week=IsoWeek.of(timezone.localdate()).label,
        value="4",
    )
    page = metric_page(
        user=org.mgr_east, metric=metric, rep=None, unit=org.east, today=timezone.localdate()
    )
    assert any(row.awaiting and row.confirmable for row in page.rows)


def test_the_inbox_links_a_metric_alert_to_the_reps_weeks(org, metric):
    html = client_for(org.mgr_east).get("/inbox/").content.decode()
    assert f"/metrics/{metric.pk}/?user={org.alice.pk}" in html
