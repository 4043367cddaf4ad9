"""Key metrics join the deviation trigger (SPEC §6): plan = weekly plan, actual = the week's
value, direction respected, no value = no data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reviews.deviations import deviations_evaluate
from reviews.models import AdjustmentCase, IndicatorState
from targets import services
from targets.periods import IsoWeek
from tests.factories import DealFactory
from tests.metrics.helpers import cycle_metric, make_metric, put_values

pytestmark = pytest.mark.django_db

W15, W16, W17 = (IsoWeek(2025, w) for w in (15, 16, 17))


def _state(target, indicator):
    return IndicatorState.objects.get(target=target, indicator=indicator)


def test_a_key_metric_off_plan_two_weeks_running_opens_a_case(org):
    metric = make_metric(weekly_plan=Decimal(10))
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(0), stretch=Decimal(0)
    )  # Base 0: revenue pace has no data, only the metric speaks
    put_values(metric, org.alice, {"2025-W15": "8", "2025-W16": "5"})
    deviations_evaluate(week=W15)
    assert _state(target, "metric:follow_ups").state == "pending"  # −20 %: first week off
    deviations_evaluate(week=W16)
    case = AdjustmentCase.objects.get()
    assert case.indicator == "metric:follow_ups"
    assert [w["deviation"] for w in case.weeks] == ["-20.00", "-50.00"]


def test_a_lower_is_better_metric_over_plan_is_a_negative_deviation(org):
    metric = cycle_metric(weekly_plan=Decimal(30), key=True)
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(0), stretch=Decimal(0)
    )
    put_values(metric, org.alice, {"2025-W15": "39"})
    deviations_evaluate(week=W15)
    week = _state(target, "metric:cycle").weeks[-1]
    assert (week["plan"], week["actual"], week["deviation"]) == ("30.00", "39.00", "-30.00")


def test_a_week_without_a_value_is_no_data(org):
    make_metric()
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(0), stretch=Decimal(0)
    )
    deviations_evaluate(week=W15)
    state = _state(target, "metric:follow_ups")
    assert state.weeks[-1]["deviation"] is None and state.state == "normal"


def test_a_unit_target_compares_its_reps_sum_with_their_plans(org):
    metric = make_metric(weekly_plan=Decimal(10))
    target = services.target_create(
        period="2025Q2", owner_unit=org.east, base=Decimal(0), stretch=Decimal(0)
    )
    put_values(metric, org.alice, {"2025-W15": "10"})
    put_values(metric, org.carol, {"2025-W15": "6"})
    put_values(metric, org.dave, {"2025-W15": "0"})
    deviations_evaluate(week=W15)
    week = _state(target, "metric:follow_ups").weeks[-1]
    assert (week["plan"], week["actual"], week["deviation"]) == ("20.00", "16.00", "-20.00")


def test_non_key_metrics_are_no_indicators(org):
    make_metric(key=False)
    DealFactory(owner=org.alice)
    services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(0), stretch=Decimal(0)
    )
    deviations_evaluate(week=W15)
    assert not IndicatorState.objects.filter(indicator__startswith="metric:").exists()
