"""metric_threshold alerts (SPEC §7): boundaries both ways, one alert per condition until
resolved, a new one after, told to the rep and their manager."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alerts.metric_rules import alerts_evaluate_metrics
from alerts.models import Alert, AlertKind, AlertState, Notification
from alerts.services import alert_resolve
from targets.metric_figures import metric_level, metric_shortfall
from tests.metrics.helpers import cycle_metric, make_metric, put_values

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "level"),
    [("8.01", None), ("8", "warn"), ("6.01", "warn"), ("6", "alert"), ("0", "alert"), ("30", None)],
)
def test_a_higher_is_better_metric_flags_a_week_at_its_thresholds(value, level):
    metric = make_metric(weekly_plan=Decimal(10), warn_at=Decimal(20), alert_at=Decimal(40))
    assert metric_level(metric=metric, value=Decimal(value)) == level


@pytest.mark.parametrize(
    ("value", "level"),
    [("35.99", None), ("36", "warn"), ("41.99", "warn"), ("42", "alert"), ("10", None)],
)
def test_a_lower_is_better_metric_flags_a_week_above_plan(value, level):
    metric = cycle_metric(weekly_plan=Decimal(30), warn_at=Decimal(20), alert_at=Decimal(40))
    assert metric_level(metric=metric, value=Decimal(value)) == level


def test_no_plan_gives_no_shortfall():
    assert metric_shortfall(value=Decimal(3), plan=Decimal(0), direction="higher") is None


def test_a_metric_cannot_warn_above_its_alert_threshold(org):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        make_metric(warn_at=Decimal(40), alert_at=Decimal(40))
    assert "alert_at" in error.value.message_dict


def test_the_latest_week_raises_one_alert_for_the_rep_and_their_manager(org):
    metric = make_metric()
    put_values(metric, org.alice, {"2025-W19": "3", "2025-W20": "2"})
    put_values(metric, org.bob, {"2025-W20": "12"})
    alert = Alert.objects.get(kind=AlertKind.METRIC_THRESHOLD)
    assert (alert.metric, alert.user, alert.details["level"]) == (metric, org.alice, "alert")
    assert alert.details["week"] == "2025-W20"
    told = set(Notification.objects.filter(alert=alert).values_list("recipient", flat=True))
    assert told == {org.alice.pk, org.mgr_east.pk}


def test_the_same_condition_is_raised_once_across_evaluations(org):
    metric = make_metric()
    put_values(metric, org.alice, {"2025-W20": "2"})
    for _ in range(5):
        assert alerts_evaluate_metrics() == 0
    assert Alert.objects.filter(kind=AlertKind.METRIC_THRESHOLD).count() == 1
    assert Notification.objects.filter(alert__isnull=False).count() == 2


def test_a_resolved_condition_that_still_holds_raises_a_new_alert(org):
    metric = make_metric()
    put_values(metric, org.alice, {"2025-W20": "2"})
    first = Alert.objects.get()
    alert_resolve(alert=first, user=org.mgr_east)
    assert alerts_evaluate_metrics() == 1
    assert Alert.objects.filter(state=AlertState.OPEN).exclude(pk=first.pk).count() == 1


def test_a_week_back_on_plan_raises_nothing(org):
    metric = make_metric()
    put_values(metric, org.alice, {"2025-W19": "2", "2025-W20": "9"})
    assert not Alert.objects.exists()


def test_only_key_active_metrics_raise(org):
    quiet = make_metric(code="quiet", key=False)
    inactive = make_metric(code="off", active=False)
    put_values(quiet, org.alice, {"2025-W20": "0"})
    put_values(inactive, org.alice, {"2025-W20": "0"})
    assert not Alert.objects.exists()


def test_a_rep_sees_own_metric_alerts_only(org, api):
    metric = make_metric()
    put_values(metric, org.alice, {"2025-W20": "2"})
    put_values(metric, org.dave, {"2025-W20": "2"})
    mine = api(org.alice).get("/api/v1/alerts/").json()["results"]
    assert [(a["metric"], a["user"]) for a in mine] == [(metric.pk, org.alice.pk)]
    assert "Key-account follow-ups" in mine[0]["message"] or "大客户跟进频次" in mine[0]["message"]
    assert len(api(org.mgr_east).get("/api/v1/alerts/").json()["results"]) == 1
    assert len(api(org.director).get("/api/v1/alerts/").json()["results"]) == 2
    other = Alert.objects.get(user=org.dave)
    assert api(org.alice).post(f"/api/v1/alerts/{other.pk}/acknowledge/").status_code == 404
