"""metrics/ and metric-values/ (SPEC §10): who may read, define, enter and confirm, and
what bad input answers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from targets.models import Metric, MetricValue
from targets.periods import IsoWeek
from targets.services.metrics import metric_value_enter
from tests.metrics.helpers import make_metric, put_values
from tests.targets.scoped import ACME_WIDE, EAST_SCOPED, GLOBEX, PERSONAS, build_scoped, expected
from tests.targets.test_api_permissions import _fill, call_and_undo

pytestmark = pytest.mark.django_db

THIS_WEEK = IsoWeek.of(timezone.localdate()).label
LAST_WEEK = IsoWeek.of(timezone.localdate() - timedelta(days=7)).label
ALICE_SEERS = ("admin", *ACME_WIDE, *EAST_SCOPED, "alice")


@pytest.fixture
def world(org):
    scoped = build_scoped(org)
    metric = make_metric()
    make_metric(code="manual_only", key=False)
    p = scoped.people
    own = metric_value_enter(
        entered_by=p["alice"], metric=metric, rep=p["alice"], week=LAST_WEEK, value="4"
    )
    put_values(metric, p["dave"], {LAST_WEEK: "11"})
    put_values(metric, p["gina"], {LAST_WEEK: "12"})
    ids = scoped.ids()
    ids.update(metric=metric.pk, v_alice=own.pk, week=THIS_WEEK)
    return scoped, ids


METRIC_BODY = {
    "code": "visits",
    "name": "拜访次数",
    "name_en": "Visits",
    "category": "customer",
    "unit": "count",
    "aggregation": "sum",
    "direction": "higher",
    "weekly_plan": "5",
}
MATRIX = [
    ("metrics list", "get", "/api/v1/metrics/", None, {"anonymous": 401, "others": 200}),
    ("metric read", "get", "/api/v1/metrics/{metric}/", None, {"anonymous": 401, "others": 200}),
    (
        "metric create",
        "post",
        "/api/v1/metrics/",
        METRIC_BODY,
        {"anonymous": 401, "admin": 201, "others": 403},
    ),
    (
        "metric edit",
        "patch",
        "/api/v1/metrics/{metric}/",
        {"weekly_plan": "12"},
        {"anonymous": 401, "admin": 200, "others": 403},
    ),
    (
        "metric delete",
        "delete",
        "/api/v1/metrics/{metric}/",
        None,
        {"anonymous": 401, "admin": 204, "others": 403},
    ),
    ("values list", "get", "/api/v1/metric-values/", None, {"anonymous": 401, "others": 200}),
    (
        "alice's value",
        "get",
        "/api/v1/metric-values/{v_alice}/",
        None,
        {"anonymous": 401, ALICE_SEERS: 200, "others": 404},
    ),
    (
        "enter a value for alice",
        "post",
        "/api/v1/metric-values/",
        {"metric": "manual_only", "user": "{alice}", "week": "{week}", "value": "3"},
        {"anonymous": 401, ("alice", "mgr_east"): 201, tuple(GLOBEX): 400, "others": 403},
    ),
    (
        "confirm alice's own value",
        "post",
        "/api/v1/metric-values/{v_alice}/confirm/",
        None,
        {"anonymous": 401, "mgr_east": 200, ALICE_SEERS: 403, "others": 404},
    ),
]


def test_metric_endpoint_matrix(api, world):
    scoped, ids = world
    wrong: dict[str, dict] = {}
    for name, method, url, body, table in MATRIX:
        url, body = _fill(url, ids), _fill(body, ids)
        for persona in PERSONAS:
            response = call_and_undo(api, scoped.person(persona), method, url, body)
            want = expected(table, persona)
            if response.status_code != want:
                content = response.content[:200].decode(errors="replace")
                wrong.setdefault(name, {})[persona] = (want, response.status_code, content)
    assert not wrong, wrong


def _users(api, user):
    results = api(user).get("/api/v1/metric-values/").json()["results"]
    return sorted({r["user"] for r in results})


def test_a_rep_sees_only_own_values_a_manager_the_subtree(api, world):
    scoped, _ids = world
    p = scoped.people
    assert _users(api, p["alice"]) == [p["alice"].pk]
    assert _users(api, p["mgr_east"]) == [p["alice"].pk]
    assert _users(api, p["director"]) == sorted([p["alice"].pk, p["dave"].pk])
    assert _users(api, p["gina"]) == [p["gina"].pk]
    assert len(_users(api, p["admin"])) == 3


def test_values_filter_by_metric_code_and_week(api, world):
    scoped, _ids = world
    response = api(scoped.people["admin"]).get(
        "/api/v1/metric-values/", {"metric": "follow_ups", "week": LAST_WEEK}
    )
    assert response.json()["count"] == 3
    assert response.json()["results"][0]["metric"] == "follow_ups"


def test_confirming_twice_is_a_conflict_and_the_value_then_counts(api, world):
    scoped, ids = world
    client = api(scoped.people["mgr_east"])
    url = f"/api/v1/metric-values/{ids['v_alice']}/confirm/"
    first = client.post(url)
    assert first.status_code == 200
    assert first.json()["confirmed"] is True and first.json()["counts"] is True
    assert client.post(url).status_code == 409


def test_a_managers_entry_counts_at_once_and_needs_no_confirmation(api, world):
    scoped, ids = world
    response = api(scoped.people["mgr_east"]).post(
        "/api/v1/metric-values/",
        {"metric": "manual_only", "user": ids["alice"], "week": THIS_WEEK, "value": "3"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["counts"] is True
    confirm = api(scoped.people["director"]).post(
        f"/api/v1/metric-values/{response.json()['id']}/confirm/"
    )
    assert confirm.status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metric": "nope"}, "metric"),
        ({"week": "2025-W99"}, "week"),
        ({"week": "2001-W10"}, "week"),
        ({"week": "2999-W10"}, "week"),
        ({"value": "abc"}, "value"),
        ({"value": "NaN"}, "value"),
        ({"value": "-1"}, "value"),
        ({"value": "2.5"}, "value"),
        ({"value": ""}, "value"),
        ({"user": 999999}, "user"),
    ],
)
def test_bad_values_are_a_400_naming_the_field(api, world, change, field):
    scoped, ids = world
    body = {
        "metric": "manual_only",
        "user": ids["alice"],
        "week": THIS_WEEK,
        "value": "3",
        **change,
    }
    response = api(scoped.people["alice"]).post("/api/v1/metric-values/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert MetricValue.objects.filter(metric__code="manual_only").count() == 0


@pytest.mark.parametrize(
    ("unit", "value"), [("percent", "100.01"), ("percent", "-3"), ("days", "-1"), ("cny", "-0.01")]
)
def test_a_value_outside_its_unit_is_refused(api, org, unit, value):
    make_metric(code="m", unit=unit)
    response = api(org.alice).post(
        "/api/v1/metric-values/",
        {"metric": "m", "user": org.alice.pk, "week": THIS_WEEK, "value": value},
        format="json",
    )
    assert response.status_code == 400 and "value" in response.json()


def test_a_derived_metric_takes_no_manual_values(api, org):
    make_metric(code="derived", derivation="count", record_type="activities")
    response = api(org.alice).post(
        "/api/v1/metric-values/",
        {"metric": "derived", "user": org.alice.pk, "week": THIS_WEEK, "value": "1"},
        format="json",
    )
    assert response.status_code == 400 and "metric" in response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"warn_at": "50", "alert_at": "30"}, "alert_at"),
        ({"warn_at": "-1"}, "warn_at"),
        ({"unit": "kg"}, "unit"),
        ({"weekly_plan": "-5"}, "weekly_plan"),
        ({"code": "follow_ups"}, "code"),
        ({"code": "has space"}, "code"),
        ({"filters": [{"field": "won", "op": "eq", "value": True}]}, "filters"),
    ],
)
def test_bad_metric_definitions_are_a_400(api, org, change, field):
    make_metric()
    response = api(org.admin).post("/api/v1/metrics/", {**METRIC_BODY, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Metric.objects.count() == 1


def test_an_admin_defines_a_derived_metric_through_the_api(api, org):
    body = {
        **METRIC_BODY,
        "key": True,
        "warn_at": "20",
        "alert_at": "40",
        "derivation": "count",
        "record_type": "activities",
        "filters": [{"field": "completed", "op": "eq", "value": True}],
    }
    response = api(org.admin).post("/api/v1/metrics/", body, format="json")
    assert response.status_code == 201, response.content
    metric = Metric.objects.get(code="visits")
    assert metric.filters == [{"field": "completed", "op": "eq", "value": True}]
    assert metric.alert_at == Decimal(40)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/v1/metric-values/"),
        ("delete", "/api/v1/metric-values/{v_alice}/"),
        ("patch", "/api/v1/metric-values/{v_alice}/"),
        ("get", "/api/v1/metric-values/{v_alice}/confirm/"),
    ],
)
def test_wrong_methods_answer_405(api, world, method, url):
    scoped, ids = world
    response = getattr(api(scoped.people["admin"]), method)(_fill(url, ids))
    assert response.status_code == 405


def test_a_metric_with_targets_is_deactivated_not_deleted(api, org):
    from targets import services as target_services

    metric = make_metric()
    target_services.target_create(
        period="2025Q3",
        measure=metric.measure,
        owner_user=org.alice,
        base=Decimal(10),
        stretch=Decimal(12),
    )
    response = api(org.admin).delete(f"/api/v1/metrics/{metric.pk}/")
    assert response.status_code == 409
    assert Metric.objects.filter(pk=metric.pk).exists()
