from __future__ import annotations

from datetime import date

import pytest

from alerts import services
from alerts.models import Alert, AlertKind, AlertState, Notification
from targets.models import FigureSnapshot
from tests.alerts.helpers import recompute, rep_target, set_actual


@pytest.fixture
def target(org):
    return rep_target(org.alice)


def test_a_recompute_stores_every_targets_figures(org, target):
    set_actual(org.alice, "900000")
    recompute()
    stored = FigureSnapshot.objects.get(target=target)
    assert (stored.as_of, stored.status, str(stored.pace)) == (
        date(2025, 6, 30),
        "green",
        "90.0000",
    )
    assert str(stored.actual) == "900000.00"
    # Nothing to compare with yet: the previous status is the status itself.
    assert stored.previous_status == "green"


def test_the_first_recompute_raises_nothing_whatever_the_status(org, target):
    set_actual(org.alice, "100")
    recompute()
    assert not Alert.objects.exists()


@pytest.mark.parametrize(
    ("before", "after", "raised"),
    [
        ("900000", "800000.01", None),  # still above 80: green
        ("900000", "800000", "yellow"),  # exactly 80 is yellow
        ("900000", "599999.99", "red"),  # green straight to red
        ("700000", "600000", None),  # exactly 60 is still yellow
        ("700000", "599999.99", "red"),  # below 60: red
        ("599999.99", "900000", None),  # better raises nothing
    ],
)
def test_status_worsening_raises_at_the_threshold_boundaries(org, target, before, after, raised):
    set_actual(org.alice, before)
    recompute()
    set_actual(org.alice, after)
    recompute()
    alerts = list(Alert.objects.all())
    if raised is None:
        assert alerts == []
    else:
        [alert] = alerts
        assert (alert.kind, alert.target, alert.state) == (
            AlertKind.STATUS_WORSE,
            target,
            AlertState.OPEN,
        )
        assert alert.details["to"] == raised


def test_one_alert_stands_for_a_condition_across_many_recomputes(org, target):
    set_actual(org.alice, "900000")
    recompute()
    set_actual(org.alice, "100000")
    for _ in range(5):
        recompute()
    assert Alert.objects.count() == 1
    # The owner and the manager over the team are told, once each.
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "alice",
        "mgr_east",
    ]


def test_going_back_and_forth_while_open_raises_no_second_alert(org, target):
    for amount in ["900000", "100000", "900000", "100000", "900000", "100000"]:
        set_actual(org.alice, amount)
        recompute()
    assert Alert.objects.count() == 1


def test_a_resolved_condition_that_returns_raises_a_new_alert(org, target):
    set_actual(org.alice, "900000")
    recompute()
    set_actual(org.alice, "100000")
    recompute()
    first = Alert.objects.get()
    services.alert_resolve(alert=first, user=org.mgr_east)
    recompute()  # still red, but not worse than last time: nothing new
    assert Alert.objects.count() == 1
    set_actual(org.alice, "900000")
    recompute()
    set_actual(org.alice, "100000")
    recompute()
    assert Alert.objects.count() == 2
    assert Alert.objects.exclude(pk=first.pk).get().state == AlertState.OPEN


def test_raising_the_same_condition_twice_at_once_keeps_one(org, target):
    condition = services.Condition(key="status_worse:x:red", target_id=target.pk, details={})
    assert services.alerts_raise(kind=AlertKind.STATUS_WORSE, conditions=[condition]) == 1
    assert services.alerts_raise(kind=AlertKind.STATUS_WORSE, conditions=[condition] * 3) == 0
    assert Alert.objects.count() == 1


def test_a_disabled_rule_raises_nothing(org, target):
    rule = services.alert_rule_get(kind=AlertKind.STATUS_WORSE)
    services.alert_rule_update(
        rule=rule,
        enabled=False,
        thresholds={},
        to_owner=True,
        to_manager=True,
        to_hrbp=False,
        to_director=False,
    )
    set_actual(org.alice, "900000")
    recompute()
    set_actual(org.alice, "100000")
    recompute()
    assert not Alert.objects.exists()


def test_the_rule_decides_who_is_told(org, target):
    rule = services.alert_rule_get(kind=AlertKind.STATUS_WORSE)
    services.alert_rule_update(
        rule=rule,
        enabled=True,
        thresholds={},
        to_owner=False,
        to_manager=False,
        to_hrbp=True,
        to_director=True,
    )
    set_actual(org.alice, "900000")
    recompute()
    set_actual(org.alice, "100000")
    recompute()
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "director",
        "hrbp",
    ]


def test_a_rule_rejects_thresholds_that_are_not_numbers(org):
    from targets.errors import ValidationError

    rule = services.alert_rule_get(kind=AlertKind.DATA_STALE)
    with pytest.raises(ValidationError):
        services.alert_rule_update(
            rule=rule,
            enabled=True,
            thresholds={"hours": "soon"},
            to_owner=False,
            to_manager=False,
            to_hrbp=False,
            to_director=True,
        )


def test_acknowledging_twice_is_a_conflict(org, target):
    from targets.errors import StateConflict

    set_actual(org.alice, "900000")
    recompute()
    set_actual(org.alice, "100000")
    recompute()
    alert = Alert.objects.get()
    services.alert_acknowledge(alert=alert, user=org.mgr_east)
    with pytest.raises(StateConflict):
        services.alert_acknowledge(alert=alert, user=org.mgr_east)
    services.alert_resolve(alert=alert, user=org.mgr_east)
    with pytest.raises(StateConflict):
        services.alert_resolve(alert=alert, user=org.mgr_east)


def test_a_recompute_that_changes_nothing_writes_no_row_and_raises_no_alert_or_delivery(
    org, target, django_capture_on_commit_callbacks
):
    from alerts.models import DeliveryAttempt
    from targets.figures import figures_for
    from targets.models import Target
    from targets.recompute import figures_store
    from tests.alerts.helpers import LAST_DAY

    set_actual(org.alice, "900000")
    recompute()
    set_actual(org.alice, "100000")
    with django_capture_on_commit_callbacks(execute=True):
        recompute()
    assert Alert.objects.count() == 1
    attempts = DeliveryAttempt.objects.count()
    assert attempts == 2
    figures = figures_for(Target.objects.filter(period="2025Q2"), as_of=LAST_DAY)
    # The store after the change moves the status into previous_status once …
    assert figures_store(period="2025Q2", as_of=LAST_DAY, figures=figures) == 1
    # … and from then on nothing is written, raised, queued or delivered.
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True) as queued:
            assert figures_store(period="2025Q2", as_of=LAST_DAY, figures=figures) == 0
            assert services.alerts_evaluate_status(period="2025Q2") == 0
        assert queued == []
    assert (Alert.objects.count(), DeliveryAttempt.objects.count()) == (1, attempts)
    stored = FigureSnapshot.objects.get(target=target)
    assert stored.previous_status == stored.status == "red"
