"""What the read endpoints answer: figures, revisions, trend, dashboard, schema."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from targets import services
from tests.factories import DealFactory, make_rep

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def q2(org):
    make = services.target_create
    targets = {
        "company": make(
            period="2025Q2", owner_unit=org.company, base=D(2000000), stretch=D(3000000)
        ),
        "east": make(period="2025Q2", owner_unit=org.east, base=D(800000), stretch=D(1200000)),
        "north": make(period="2025Q2", owner_unit=org.north, base=D(1000000), stretch=D(1500000)),
        "alice": make(period="2025Q2", owner_user=org.alice, base=D(300000), stretch=D(450000)),
        "bob": make(period="2025Q2", owner_user=org.bob, base=D(300000), stretch=D(450000)),
    }
    DealFactory(owner=org.alice, amount=D(150000), close_date=date(2025, 4, 20))
    DealFactory(owner=org.bob, amount=D(270000), close_date=date(2025, 5, 5))
    DealFactory(owner=org.dave, amount=D(500000), close_date=date(2025, 6, 5))
    return targets


def test_target_figures_follow_as_of(api, org, q2):
    url = f"/api/v1/targets/{q2['alice'].pk}/"
    early = api(org.director).get(url, {"as_of": "2025-04-10"}).json()["figures"]
    late = api(org.director).get(url, {"as_of": "2025-06-30"}).json()["figures"]
    assert early["actual"] == "0.00"
    assert late["actual"] == "150000.00"
    assert late["completion"] == "50.0"
    assert late["pace"] == "50.0"
    assert late["status"] == "red"
    assert [m["month"] for m in late["monthly"]] == ["2025-04", "2025-05", "2025-06"]
    assert late["monthly"][0]["completion"] == "150.0"


def test_unit_figures_roll_up_with_coverage(api, org, q2):
    body = (
        api(org.director).get(f"/api/v1/targets/{q2['east'].pk}/", {"as_of": "2025-07-01"}).json()
    )
    assert body["figures"]["actual"] == "420000.00"
    assert body["figures"]["completion"] == "52.5"
    company = api(org.director).get(f"/api/v1/targets/{q2['company'].pk}/", {"as_of": "2025-07-01"})
    assert company.json()["figures"]["actual"] == "920000.00"
    assert company.json()["figures"]["allocation_coverage"] == "90.0"
    assert company.json()["figures"]["unallocated"] == "200000.00"


def test_status_filter_uses_figures(api, org, q2):
    closed_q2 = {"as_of": "2025-07-01", "period": "2025Q2"}
    response = api(org.director).get("/api/v1/targets/", {"status": "green", **closed_q2})
    assert [t["id"] for t in response.json()["results"]] == [q2["bob"].pk]
    response = api(org.director).get("/api/v1/targets/", {"status": "red", **closed_q2})
    assert {t["id"] for t in response.json()["results"]} == {
        q2["company"].pk,
        q2["alice"].pk,
        q2["east"].pk,
        q2["north"].pk,
    }


def test_filters_by_period_owner_unit_and_owner_user(api, org, q2):
    services.target_create(period="2025Q3", owner_user=org.alice, base=D(1), stretch=D(2))
    by_period = api(org.director).get("/api/v1/targets/", {"period": "2025Q3"}).json()
    assert by_period["count"] == 1
    by_unit = api(org.director).get("/api/v1/targets/", {"owner_unit": org.east.pk}).json()
    assert [t["id"] for t in by_unit["results"]] == [q2["east"].pk]
    by_user = api(org.director).get("/api/v1/targets/", {"owner_user": org.alice.pk}).json()
    assert by_user["count"] == 2


def test_list_query_count_does_not_grow_with_page_size(api, org, q2, django_assert_max_num_queries):
    for i in range(30):
        rep = make_rep(f"extra{i:02d}", org.east2)
        services.target_create(period="2025Q2", owner_user=rep, base=D(1000), stretch=D(2000))
        DealFactory(owner=rep, amount=D(500), close_date=date(2025, 5, 1))
    client = api(org.director)
    with django_assert_max_num_queries(8):
        small = client.get("/api/v1/targets/", {"page_size": 5, "as_of": "2025-06-01"})
    with django_assert_max_num_queries(8):
        large = client.get("/api/v1/targets/", {"page_size": 100, "as_of": "2025-06-01"})
    assert len(small.json()["results"]) == 5
    assert len(large.json()["results"]) == 35


def test_revisions_keep_original_and_adjusted(api, org, q2):
    services.target_revise(
        target=q2["alice"],
        base=D(250000),
        stretch=D(400000),
        reason="客户采购周期延长",
        decided_by=org.director,
    )
    body = api(org.mgr_east).get(f"/api/v1/targets/{q2['alice'].pk}/").json()
    assert (body["original_base"], body["base"]) == ("300000.00", "250000.00")
    revisions = api(org.mgr_east).get(f"/api/v1/targets/{q2['alice'].pk}/revisions/").json()
    assert revisions["count"] == 1
    assert revisions["results"][0]["base_before"] == "300000.00"
    assert revisions["results"][0]["base_after"] == "250000.00"
    assert revisions["results"][0]["decided_by"] == org.director.pk
    assert revisions["results"][0]["proposal"] is None


def test_monthly_trend(api, org, q2):
    body = (
        api(org.alice)
        .get(f"/api/v1/targets/{q2['alice'].pk}/trend/", {"grain": "month", "as_of": "2025-05-15"})
        .json()
    )
    assert [p["period_label"] for p in body["points"]] == ["2025-04", "2025-05"]
    assert body["points"][0]["actual_cumulative"] == "150000.00"
    assert body["points"][0]["base_expected"] == "100000.00"
    # 450000 × (1/3 + 1/3 × 15/31)
    assert body["points"][1]["stretch_expected"] == "222580.65"


def test_dashboard_summary_lists_children_and_volatility(api, org, q2):
    body = (
        api(org.director)
        .get(
            "/api/v1/dashboard/summary/",
            {"unit": org.company.pk, "period": "2025Q2", "as_of": "2025-07-01"},
        )
        .json()
    )
    assert body["name"] == "ACME"
    assert body["figures"]["actual"] == "920000.00"
    children = {c["name"]: c for c in body["children"]}
    assert children["华东 East"]["figures"]["completion"] == "52.5"
    assert children["华北 North"]["figures"]["completion"] == "50.0"
    months = {v["month"]: v["value"] for v in body["volatility"]}
    # East: April 150000/266666.67 = 56.25 %, North 0 % → pstdev 28.125
    assert months["2025-04"] == "28.1"
    assert body["volatility_period"] is not None


def test_dashboard_defaults_to_the_users_scope(api, org, q2):
    east = api(org.mgr_east).get("/api/v1/dashboard/summary/", {"period": "2025Q2"}).json()
    assert east["unit"] == org.east.pk
    own = api(org.alice).get("/api/v1/dashboard/summary/", {"period": "2025Q2"}).json()
    assert own["user"] == org.alice.pk
    assert own["target"] == q2["alice"].pk
    assert own["children"] == []


def test_dashboard_query_count_does_not_grow_with_team_size(
    api, org, q2, django_assert_max_num_queries
):
    client = api(org.director)
    params = {"unit": org.east1.pk, "period": "2025Q2", "as_of": "2025-06-01"}
    with django_assert_max_num_queries(10):
        client.get("/api/v1/dashboard/summary/", params)
    for i in range(25):
        rep = make_rep(f"more{i:02d}", org.east1)
        services.target_create(period="2025Q2", owner_user=rep, base=D(1000), stretch=D(2000))
    with django_assert_max_num_queries(10):
        body = client.get("/api/v1/dashboard/summary/", params).json()
    assert len(body["children"]) == 27


def test_unknown_dashboard_unit_is_404(api, org):
    assert api(org.director).get("/api/v1/dashboard/summary/", {"unit": 999999}).status_code == 404


def test_default_as_of_is_today(api, org, q2):
    body = api(org.director).get(f"/api/v1/targets/{q2['alice'].pk}/").json()
    assert timezone.localdate() > date(2025, 6, 30)
    assert body["figures"]["actual"] == "150000.00"
    assert body["locked"] is True
