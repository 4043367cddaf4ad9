"""`?status=` looks at one quarter: the `period` filter when given, else the quarter of as_of."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from targets import services
from targets.periods import Quarter
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

D = Decimal


def make_quarter(org, label: str) -> dict:
    """alice far behind (red), bob ahead (green), East-1 in between, in quarter `label`."""
    quarter = Quarter.parse(label)
    make = services.target_create
    targets = {
        "alice": make(period=label, owner_user=org.alice, base=D(100000), stretch=D(200000)),
        "bob": make(period=label, owner_user=org.bob, base=D(100000), stretch=D(200000)),
        "east1": make(period=label, owner_unit=org.east1, base=D(150000), stretch=D(300000)),
    }
    DealFactory(owner=org.alice, amount=D(10000), close_date=quarter.start)
    DealFactory(owner=org.bob, amount=D(95000), close_date=quarter.start)
    return targets


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {t["id"] for t in response.json()["results"]}


def test_status_without_period_means_the_quarter_of_as_of(api, org):
    q1, q2 = make_quarter(org, "2025Q1"), make_quarter(org, "2025Q2")
    client = api(org.director)
    red = client.get("/api/v1/targets/", {"status": "red", "as_of": "2025-06-30"})
    assert ids(red) == {q2["alice"].pk}
    green = client.get("/api/v1/targets/", {"status": "green", "as_of": "2025-06-30"})
    assert ids(green) == {q2["bob"].pk}
    yellow = client.get("/api/v1/targets/", {"status": "yellow", "as_of": "2025-06-30"})
    assert ids(yellow) == {q2["east1"].pk}
    # Q1 as of the end of June: closed, so statuses come from completion.
    in_q1 = client.get(
        "/api/v1/targets/", {"status": "red", "as_of": "2025-06-30", "period": "2025Q1"}
    )
    assert ids(in_q1) == {q1["alice"].pk}


def test_status_filter_keeps_other_filters_and_visibility(api, org):
    q2 = make_quarter(org, "2025Q2")
    as_of = {"as_of": "2025-06-30", "status": "red"}
    assert (
        ids(api(org.director).get("/api/v1/targets/", {**as_of, "owner_user": org.bob.pk})) == set()
    )
    assert ids(api(org.alice).get("/api/v1/targets/", as_of)) == {q2["alice"].pk}
    assert ids(api(org.carol).get("/api/v1/targets/", as_of)) == set()


def test_a_quarter_without_targets_or_an_unknown_period_answers_an_empty_list(api, org):
    make_quarter(org, "2025Q2")
    client = api(org.director)
    assert ids(client.get("/api/v1/targets/", {"status": "red", "as_of": "2025-08-01"})) == set()
    garbage = client.get("/api/v1/targets/", {"status": "red", "period": "garbage"})
    assert ids(garbage) == set()


def count_queries(client, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/targets/", params)
    assert response.status_code == 200
    return len(captured)


def test_status_filter_query_count_does_not_grow_with_the_number_of_periods(api, org):
    client = api(org.director)
    params = {"status": "red", "as_of": date(2025, 11, 15).isoformat(), "page_size": 100}
    make_quarter(org, "2025Q4")
    count_queries(client, params)  # warm-up: what a process looks up once
    with_one = count_queries(client, params)
    for label in ("2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3"):
        make_quarter(org, label)
    with_eight = count_queries(client, params)
    assert with_eight == with_one
    assert count_queries(client, {**params, "period": "2025Q1"}) == with_one


def test_the_schema_says_which_quarter_status_looks_at(api, org):
    schema = api(org.director).get("/api/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/targets/"]["get"]["parameters"]
    status = next(p for p in parameters if p["name"] == "status")
    # In whichever language the schema is served: it names both parameters it depends on.
    assert "period" in status["description"] and "as_of" in status["description"]


def ordered(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [t["id"] for t in response.json()["results"]]


def test_ordering_by_status_puts_the_worst_first_or_last(api, org):
    q2 = make_quarter(org, "2025Q2")
    client = api(org.director)
    query = {"period": "2025Q2", "as_of": "2025-06-30"}
    worst_first = client.get("/api/v1/targets/", {**query, "ordering": "status"})
    assert ordered(worst_first) == [q2["alice"].pk, q2["east1"].pk, q2["bob"].pk]
    best_first = client.get("/api/v1/targets/", {**query, "ordering": "-status"})
    assert ordered(best_first) == [q2["bob"].pk, q2["east1"].pk, q2["alice"].pk]
    with_filter = client.get("/api/v1/targets/", {**query, "ordering": "status", "status": "red"})
    assert ordered(with_filter) == [q2["alice"].pk]
    assert client.get("/api/v1/targets/", {**query, "ordering": "owner"}).status_code == 400


def test_ordering_by_status_reads_the_stored_figures_of_today(api, org, in_may_2025):
    from targets.models import FigureSnapshot
    from targets.recompute import figures_recompute

    q2 = make_quarter(org, "2025Q2")
    figures_recompute(as_of=date(2025, 5, 20))
    assert FigureSnapshot.objects.count() == 3
    # The stored rows answer: what they say decides the order, with no figures computed.
    FigureSnapshot.objects.filter(target=q2["bob"]).update(status="red")
    FigureSnapshot.objects.filter(target=q2["alice"]).update(status="green")
    FigureSnapshot.objects.filter(target=q2["east1"]).update(status="yellow")
    client = api(org.director)
    response = client.get("/api/v1/targets/", {"period": "2025Q2", "ordering": "status"})
    assert ordered(response) == [q2["bob"].pk, q2["east1"].pk, q2["alice"].pk]
