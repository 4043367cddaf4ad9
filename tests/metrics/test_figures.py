"""Targets on a process metric (SPEC §3 measure `metric:<code>`): completion, pace, status
and trend from weekly values; revenue figures unchanged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from targets import services
from targets.figures import figures_for, trend
from tests.metrics.helpers import cycle_metric, make_metric, put_values

pytestmark = pytest.mark.django_db


def _target(owner=None, unit=None, measure="metric:follow_ups", base="100", stretch=None):
    return services.target_create(
        period="2025Q2",
        measure=measure,
        base=Decimal(base),
        stretch=Decimal(stretch or base),
        owner_user=owner,
        owner_unit=unit,
    )


def test_a_summed_metric_adds_its_weeks_and_is_phased_like_revenue(org):
    metric = make_metric()
    target = _target(org.alice, base="130", stretch="195")
    # W14 (Thu 3 April) opens Q2; W13's Thursday is 27 March: Q1, not counted.
    put_values(metric, org.alice, {"2025-W13": "50", "2025-W14": "10", "2025-W19": "30"})
    figures = figures_for([target], as_of=date(2025, 6, 30))[target.pk]
    assert figures.actual == Decimal(40)
    assert figures.completion == Decimal(40) / Decimal(130) * 100
    assert figures.pace == figures.completion  # the whole Base is expected on the last day
    assert figures.status == "red"
    assert [m.actual for m in figures.monthly] == [Decimal(10), Decimal(30), Decimal(0)]
    assert figures.stretch_progress == Decimal(0)


def test_a_unit_target_counts_its_reps_values(org):
    metric = make_metric()
    target = _target(unit=org.east, base="50")
    put_values(metric, org.alice, {"2025-W15": "10"})
    put_values(metric, org.carol, {"2025-W15": "20"})
    put_values(metric, org.dave, {"2025-W15": "99"})
    assert figures_for([target], as_of=date(2025, 6, 30))[target.pk].actual == Decimal(30)


def test_a_lower_is_better_metric_completes_as_plan_over_actual(org):
    metric = cycle_metric()
    target = _target(org.alice, measure="metric:cycle", base="30")
    put_values(metric, org.alice, {"2025-W15": "20", "2025-W16": "40"})
    figures = figures_for([target], as_of=date(2025, 5, 15))[target.pk]
    # An average is a level: actual = mean 30, expected in full from day one.
    assert figures.actual == Decimal(30)
    assert figures.expected_base == Decimal(30)
    assert figures.completion == Decimal(100)
    assert figures.pace == Decimal(100)
    assert figures.stretch_progress is None
    put_values(metric, org.alice, {"2025-W17": "90"})
    slower = figures_for([target], as_of=date(2025, 5, 15))[target.pk]
    assert slower.actual == Decimal(50)
    assert slower.completion == Decimal(60)  # 30 ÷ 50
    assert slower.status == "yellow"


def test_a_faster_cycle_than_plan_is_above_one_hundred_percent(org):
    metric = cycle_metric()
    target = _target(org.alice, measure="metric:cycle", base="30")
    put_values(metric, org.alice, {"2025-W15": "15"})
    figures = figures_for([target], as_of=date(2025, 5, 15))[target.pk]
    assert figures.completion == Decimal(200)
    assert figures.status == "green"


def test_a_rep_own_unconfirmed_entry_does_not_count(org, in_may_2025):
    metric = make_metric()
    target = _target(org.alice, base="10")
    value = services_enter(metric, org.alice, org.alice, "2025-W20", "7")
    assert figures_for([target], as_of=date(2025, 5, 20))[target.pk].actual == Decimal(0)
    from targets.services.metrics import metric_value_confirm

    metric_value_confirm(value=value, confirmed_by=org.mgr_east)
    assert figures_for([target], as_of=date(2025, 5, 20))[target.pk].actual == Decimal(7)


def services_enter(metric, author, rep, week, value):
    from targets.services.metrics import metric_value_enter

    return metric_value_enter(entered_by=author, metric=metric, rep=rep, week=week, value=value)


def test_revenue_and_metric_targets_of_one_owner_keep_their_own_actuals(org):
    from tests.factories import DealFactory

    metric = make_metric()
    revenue = _target(org.alice, measure="revenue", base="1000")
    on_metric = _target(org.alice, base="100")
    DealFactory(owner=org.alice, amount=Decimal(500), close_date=date(2025, 5, 1))
    put_values(metric, org.alice, {"2025-W18": "25"})
    figures = figures_for([revenue, on_metric], as_of=date(2025, 6, 30))
    assert figures[revenue.pk].actual == Decimal(500)
    assert figures[on_metric.pk].actual == Decimal(25)


def test_the_target_api_accepts_a_metric_measure_and_refuses_an_unknown_one(org, api):
    make_metric()
    client = api(org.director)
    body = {"period": "2025Q3", "owner_user": org.alice.pk, "base": "100", "stretch": "120"}
    created = client.post(
        "/api/v1/targets/", {**body, "measure": "metric:follow_ups"}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["measure"] == "metric:follow_ups"
    unknown = client.post("/api/v1/targets/", {**body, "measure": "metric:nope"}, format="json")
    assert unknown.status_code == 400 and "measure" in unknown.json()
    bad = client.post("/api/v1/targets/", {**body, "measure": "profit"}, format="json")
    assert bad.status_code == 400 and "measure" in bad.json()


def test_trend_of_a_metric_target_follows_its_weeks(org):
    metric = make_metric()
    target = _target(org.alice, base="130")
    put_values(metric, org.alice, {"2025-W14": "10", "2025-W15": "5"})
    points = {
        p.period_label: p.actual_cumulative
        for p in trend(target, grain="week", as_of=date(2025, 4, 20))
    }
    assert points["2025-W14"] == Decimal(10)
    assert points["2025-W15"] == Decimal(15)


def test_the_target_page_and_api_of_a_metric_target_work(org, api):
    from django.test import Client

    metric = make_metric()
    target = _target(org.alice, base="130")
    put_values(metric, org.alice, {"2025-W15": "10"})
    client = Client()
    client.force_login(org.alice)
    assert client.get(f"/targets/{target.pk}/").status_code == 200
    body = api(org.alice).get(f"/api/v1/targets/{target.pk}/", {"as_of": "2025-06-30"}).json()
    assert body["measure"] == "metric:follow_ups"
    assert body["figures"]["actual"] == "10.00"
    trend_body = (
        api(org.alice)
        .get(f"/api/v1/targets/{target.pk}/trend/", {"grain": "week", "as_of": "2025-04-20"})
        .json()
    )
    assert trend_body["points"][1]["actual_cumulative"] == "10.00"
