"""Bad input answers 400 with field messages, never 500, and writes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from targets import services
from targets.models import Deal, Target
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

GOOD = {"period": "2099Q1", "base": "8000000.00", "stretch": "12000000.00"}


def post_target(api, org, **changes):
    body = {**GOOD, "owner_unit": org.east.pk, **changes}
    body = {k: v for k, v in body.items() if v is not ...}
    return api(org.director).post("/api/v1/targets/", body, format="json")


def test_a_valid_target_is_created_with_figures(api, org):
    response = post_target(api, org)
    assert response.status_code == 201
    body = response.json()
    assert body["base"] == "8000000.00"
    assert body["stretch"] == "12000000.00"
    assert body["locked"] is False
    assert body["figures"]["actual"] == "0.00"
    assert body["figures"]["status"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"stretch": "100.00", "base": "200.00"}, "stretch"),
        ({"base": "-1"}, "base"),
        ({"base": "abc"}, "base"),
        ({"stretch": "1e999"}, "stretch"),
        ({"base": ...}, "base"),
        ({"phasing": ["0.5", "0.3", "0.3"]}, "phasing"),
        ({"phasing": ["0.5", "0.5"]}, "phasing"),
        ({"phasing": ["-0.5", "1", "0.5"]}, "phasing"),
        ({"period": "2025Q5"}, "period"),
        ({"period": "Q2-2025"}, "period"),
        ({"period": ""}, "period"),
        ({"owner_unit": None}, "owner_unit"),
        ({"owner_user": "{alice}"}, "owner_unit"),
        ({"owner_unit": 999999}, "owner_unit"),
        ({"measure": "headcount"}, "measure"),
        ({"base_bonus": "-5"}, "base_bonus"),
    ],
)
def test_bad_target_input_is_a_400_naming_the_field(api, org, changes, field):
    changes = {k: (org.alice.pk if v == "{alice}" else v) for k, v in changes.items()}
    response = post_target(api, org, **changes)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Target.objects.count() == 0


def test_a_second_target_for_the_same_owner_and_period_is_refused(api, org):
    assert post_target(api, org).status_code == 201
    response = post_target(api, org)
    assert response.status_code == 400
    assert "period" in response.json()
    assert Target.objects.count() == 1


def test_custom_phasing_is_accepted_and_returned(api, org):
    response = post_target(api, org, phasing=["0.2", "0.3", "0.5"])
    assert response.status_code == 201
    assert response.json()["phasing"] == ["0.200000", "0.300000", "0.500000"]


@time_machine.travel(date(2025, 5, 10))
def test_amounts_are_locked_once_the_period_started(api, org):
    target = services.target_create(
        period="2025Q2", owner_unit=org.east, base=Decimal(800), stretch=Decimal(1200)
    )
    response = api(org.director).patch(
        f"/api/v1/targets/{target.pk}/", {"base": "900"}, format="json"
    )
    assert response.status_code == 400
    assert "base" in response.json()
    target.refresh_from_db()
    assert target.base == Decimal(800)
    assert api(org.director).get(f"/api/v1/targets/{target.pk}/").json()["locked"] is True


@time_machine.travel(date(2025, 5, 10))
def test_a_started_target_cannot_be_deleted(api, org):
    target = services.target_create(
        period="2025Q2", owner_unit=org.east, base=Decimal(800), stretch=Decimal(1200)
    )
    assert api(org.director).delete(f"/api/v1/targets/{target.pk}/").status_code == 409
    assert Target.objects.filter(pk=target.pk).exists()


def test_bonus_can_change_after_lock_only_before_start(api, org):
    target = services.target_create(
        period="2099Q1", owner_user=org.alice, base=Decimal(800), stretch=Decimal(1200)
    )
    response = api(org.director).patch(
        f"/api/v1/targets/{target.pk}/", {"base_bonus": "5000", "stretch": "1500"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["base_bonus"] == "5000.00"
    assert response.json()["original_stretch"] == "1500.00"


def test_changing_a_targets_owner_or_period_is_refused(api, org):
    target = services.target_create(
        period="2099Q1", owner_user=org.alice, base=Decimal(800), stretch=Decimal(1200)
    )
    response = api(org.director).patch(
        f"/api/v1/targets/{target.pk}/",
        {"period": "2099Q2", "owner_user": org.bob.pk},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"period", "owner_user"}


def test_patch_with_stretch_below_existing_base_is_refused(api, org):
    target = services.target_create(
        period="2099Q1", owner_user=org.alice, base=Decimal(800), stretch=Decimal(1200)
    )
    response = api(org.director).patch(
        f"/api/v1/targets/{target.pk}/", {"stretch": "700"}, format="json"
    )
    assert response.status_code == 400
    assert "stretch" in response.json()


@pytest.mark.parametrize("as_of", ["2025-13-01", "yesterday", "2025/05/01"])
def test_a_malformed_as_of_is_a_400(api, org, as_of):
    assert api(org.director).get("/api/v1/targets/", {"as_of": as_of}).status_code == 400
    response = api(org.director).get("/api/v1/dashboard/summary/", {"as_of": as_of})
    assert response.status_code == 400
    assert "as_of" in response.json()


def test_a_malformed_period_on_the_dashboard_is_a_400(api, org):
    response = api(org.director).get("/api/v1/dashboard/summary/", {"period": "2025-Q2"})
    assert response.status_code == 400
    assert "period" in response.json()


def test_a_bad_trend_grain_is_a_400(api, org):
    target = services.target_create(
        period="2099Q1", owner_user=org.alice, base=Decimal(800), stretch=Decimal(1200)
    )
    response = api(org.director).get(f"/api/v1/targets/{target.pk}/trend/", {"grain": "day"})
    assert response.status_code == 400
    assert "grain" in response.json()


def deal_body(org, **changes):
    body = {
        "account": "杭州云栖科技有限公司",
        "owner": org.alice.pk,
        "amount": "50000",
        "close_date": "2025-05-02",
    }
    body.update(changes)
    return body


@pytest.mark.usefixtures("in_may_2025")
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"close_date": "2025-02-30"}, "close_date"),
        ({"account": ""}, "account"),
        ({"owner": 999999}, "owner"),
        ({"source": "salesforce"}, "source"),
    ],
)
def test_bad_deal_input_is_a_400(api, org, changes, field):
    response = api(org.mgr_east).post("/api/v1/deals/", deal_body(org, **changes), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Deal.objects.count() == 0


@pytest.mark.usefixtures("in_may_2025")
@pytest.mark.parametrize(
    "splits",
    [
        [{"user": "alice", "percent": "60"}, {"user": "bob", "percent": "30"}],
        [{"user": "alice", "percent": "50"}, {"user": "alice", "percent": "50"}],
        [{"user": "alice", "percent": "120"}, {"user": "bob", "percent": "-20"}],
        [],
    ],
)
def test_splits_that_do_not_make_100_percent_write_nothing(api, org, splits):
    splits = [{"user": getattr(org, s["user"]).pk, "percent": s["percent"]} for s in splits]
    response = api(org.mgr_east).post(
        "/api/v1/deals/", deal_body(org, splits=splits), format="json"
    )
    assert response.status_code == 400
    assert "splits" in response.json()
    assert Deal.objects.count() == 0


@pytest.mark.usefixtures("in_may_2025")
def test_a_shared_manual_deal_lists_its_splits(api, org):
    splits = [{"user": org.alice.pk, "percent": "70"}, {"user": org.bob.pk, "percent": "30"}]
    response = api(org.mgr_east).post(
        "/api/v1/deals/", deal_body(org, splits=splits), format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["source"] == "manual"
    assert body["confirmed"] is False
    assert body["manual"] is True
    assert body["splits"] == [
        {"user": org.alice.pk, "percent": "70.00"},
        {"user": org.bob.pk, "percent": "30.00"},
    ]


def test_reimporting_the_same_record_updates_it(org):
    DealFactory(owner=org.alice, external_id="SF-1", source="salesforce", amount=Decimal(100))
    DealFactory(owner=org.alice, external_id="SF-1", source="salesforce", amount=Decimal(250))
    deal = Deal.objects.get()
    assert deal.amount == Decimal(250)
    assert deal.credits.get().amount_cents == 25000


def test_non_json_body_is_a_400(api, org):
    response = api(org.director).generic(
        "POST", "/api/v1/targets/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
