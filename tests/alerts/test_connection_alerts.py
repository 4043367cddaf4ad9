"""sync_failed and data_stale: raised once per connection until resolved, resolved by the
next success, raised anew when the condition returns; told to admins and directors."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from alerts.connection_rules import alerts_evaluate_data_stale
from alerts.models import Alert, AlertKind, AlertState, Notification
from alerts.services import alert_resolve, alert_rule_get, alert_rule_update
from alerts.tasks import evaluate_data_stale
from integrations.models import ConnectionKind, RunKind
from integrations.services import connection_save, run_finish, run_start

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2025, 6, 10, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture
def erp(db):
    with time_machine.travel(NOON, tick=False):
        return connection_save(kind=ConnectionKind.ERP, name="ERP 华东", settings={})


def _run(connection, *, error: str = "", capture):
    with capture(execute=True):
        run = run_start(kind=RunKind.SYNC, source=connection.source, connection=connection)
        run_finish(run=run, fetched=0, failed=0, error=error)
    return run


def test_a_failed_sync_raises_one_alert_for_its_connection_until_resolved(
    org, erp, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    for _ in range(5):
        _run(erp, error="HTTP 503 from the ERP", capture=capture)
    alert = Alert.objects.get()
    assert (alert.kind, alert.connection_id, alert.target_id, alert.state) == (
        AlertKind.SYNC_FAILED,
        erp.pk,
        None,
        AlertState.OPEN,
    )
    assert "HTTP 503" in alert.details["error"]
    # Told to the admin (who configures connections) and the director (the rule's default).
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"admin", "director"}
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@example.com", "director@example.com"]
    alert_resolve(alert=alert, user=org.admin)
    _run(erp, error="HTTP 503 again", capture=capture)
    assert Alert.objects.filter(kind=AlertKind.SYNC_FAILED).count() == 2
    assert Alert.objects.exclude(state=AlertState.RESOLVED).count() == 1


def test_a_later_successful_sync_resolves_the_failure_by_itself(
    org, erp, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    _run(erp, error="timeout", capture=capture)
    _run(erp, capture=capture)
    alert = Alert.objects.get()
    assert alert.state == AlertState.RESOLVED and alert.resolved_by is None
    _run(erp, error="timeout", capture=capture)
    assert Alert.objects.exclude(state=AlertState.RESOLVED).count() == 1


def test_a_run_of_no_connection_raises_nothing(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = run_start(kind=RunKind.IMPORT, source="erp")
        run_finish(run=run, fetched=1, failed=1, error="bad file")
    assert not Alert.objects.exists()


def test_a_connection_without_success_for_the_rules_hours_is_stale_once(
    org, erp, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOON, tick=False):
        _run(erp, capture=django_capture_on_commit_callbacks)
    # 24 hours is the default: one minute short raises nothing, then it is stale.
    with time_machine.travel(NOON + timedelta(hours=23, minutes=59), tick=False):
        assert alerts_evaluate_data_stale() == 0
    later = NOON + timedelta(hours=24, minutes=1)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert evaluate_data_stale.apply().get() == 1
        for _ in range(5):
            assert alerts_evaluate_data_stale() == 0
    alert = Alert.objects.get()
    assert (alert.kind, alert.connection_id, alert.details["hours"]) == (
        AlertKind.DATA_STALE,
        erp.pk,
        24,
    )
    # A success resolves it; staleness returning raises a new one.
    with time_machine.travel(NOON + timedelta(hours=25), tick=False):
        _run(erp, capture=django_capture_on_commit_callbacks)
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    with time_machine.travel(NOON + timedelta(hours=50), tick=False):
        assert alerts_evaluate_data_stale() == 1
    assert Alert.objects.filter(kind=AlertKind.DATA_STALE).count() == 2


def test_the_hours_are_the_rules_and_a_never_successful_connection_counts_from_its_creation(
    org, erp
):
    rule = alert_rule_get(kind=AlertKind.DATA_STALE)
    alert_rule_update(
        rule=rule,
        enabled=True,
        thresholds={"hours": 2},
        to_owner=False,
        to_manager=False,
        to_hrbp=False,
        to_director=True,
    )
    with time_machine.travel(NOON + timedelta(hours=1), tick=False):
        assert alerts_evaluate_data_stale() == 0
    with time_machine.travel(NOON + timedelta(hours=3), tick=False):
        assert alerts_evaluate_data_stale() == 1


def test_a_disabled_connection_is_never_stale_and_its_alert_resolves(org, erp):
    with time_machine.travel(NOON + timedelta(days=3), tick=False):
        assert alerts_evaluate_data_stale() == 1
        connection_save(connection=erp, kind=erp.kind, name=erp.name, enabled=False)
        assert alerts_evaluate_data_stale() == 0
    assert Alert.objects.get().state == AlertState.RESOLVED


def test_connection_alerts_are_seen_by_the_people_told_and_admins_only(
    org, erp, api, django_capture_on_commit_callbacks
):
    _run(erp, error="boom", capture=django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    for user, seen in ((org.admin, True), (org.director, True), (org.alice, False)):
        listed = api(user).get("/api/v1/alerts/").json()["results"]
        assert [a["id"] for a in listed] == ([alert.pk] if seen else [])
        detail = api(user).get(f"/api/v1/alerts/{alert.pk}/")
        assert detail.status_code == (200 if seen else 404)
    body = api(org.director).get(f"/api/v1/alerts/{alert.pk}/").json()
    assert body["connection"] == erp.pk
    assert "ERP 华东" in body["message"]
    assert api(org.alice).post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 404
    assert api(org.director).post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 200
