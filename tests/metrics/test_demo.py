"""The demo's process metrics: both SPEC §1 examples, 13 weeks, an open alert, idempotent."""

from __future__ import annotations

from datetime import date

import pytest

from alerts.models import Alert, AlertState
from targets.demo_metrics import CYCLE, FOLLOW_UPS, demo_metrics_seed
from targets.models import Activity, Metric, MetricValue
from tests.factories import make_rep
from tests.metrics.helpers import committed

pytestmark = pytest.mark.django_db
TODAY = date(2025, 5, 21)


def test_the_demo_metrics_have_thirteen_weeks_and_a_key_metric_alert(org, time_machine):
    time_machine.move_to(TODAY)
    for n in (1, 2, 3):
        make_rep(f"rep00{n}", org.east1)
    with committed():
        first = demo_metrics_seed(today=TODAY)
    assert set(Metric.objects.values_list("code", flat=True)) == {FOLLOW_UPS, CYCLE}
    follow_ups = MetricValue.objects.filter(metric__code=FOLLOW_UPS, user__username="rep001")
    assert follow_ups.count() == 13
    # (The personas alice … dave have no demo activities: zero follow-ups, alerts too.)
    alert = Alert.objects.get(kind="metric_threshold", user__username__startswith="rep")
    assert (alert.metric.code, alert.user.username, alert.state) == (
        FOLLOW_UPS,
        "rep003",
        AlertState.OPEN,
    )
    raised = Alert.objects.count()
    with committed():
        again = demo_metrics_seed(today=TODAY)
    assert again == first
    assert Activity.objects.count() == first.activities
    assert Alert.objects.count() == raised
