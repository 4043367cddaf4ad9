"""Starting runs: the API trigger, the lease (409), the attempt cap, connection tests and the
per-connection schedules."""

from __future__ import annotations

import json

import pytest
from django.utils import translation
from django_celery_beat.models import PeriodicTask

from integrations.models import Connection, SyncRun, SyncState
from integrations.runs import run_claim, run_task
from integrations.services import connection_delete, connection_save
from targets.models import Deal
from tests.integrations.fake_salesforce import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Run logs are written in the worker's language; these tests read them in English."""
    with translation.override("en"):
        yield


URL = "/api/v1/sync-runs/"


def test_an_administrator_starts_a_run_which_a_worker_completes(
    api, org, salesforce, sf_connection, django_capture_on_commit_callbacks
):
    salesforce.add(stamp=at(0))
    with django_capture_on_commit_callbacks(execute=True):
        response = api(org.admin).post(URL, {"connection": sf_connection.pk}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["connection"], body["kind"], body["source"]) == (
        sf_connection.pk,
        "sync",
        "salesforce",
    )
    run = SyncRun.objects.get(pk=body["id"])
    assert run.started_by == org.admin
    assert (run.fetched, run.created, run.error) == (1, 1, "")
    assert run.finished_at is not None
    assert Deal.objects.count() == 1
    assert SyncState.objects.get(connection=sf_connection).lease_run is None


def test_a_second_start_while_a_run_holds_the_connection_is_a_409(api, org, sf_connection):
    running = run_claim(connection=sf_connection)
    response = api(org.admin).post(
        URL, {"connection": sf_connection.pk}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 409
    assert "running" in response.json()["detail"]
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [running.pk]
    # A scheduled delivery meanwhile is a logged no-op: no run, nothing fetched.
    assert run_task(connection_id=sf_connection.pk, run_id=None, task_id="beat-1").status == "busy"
    assert SyncRun.objects.count() == 1


@pytest.mark.parametrize("case", ["unknown", "disabled", "webhook", "text"])
def test_starting_a_run_of_a_connection_that_cannot_run_is_a_400(api, org, sf_connection, case):
    if case == "disabled":
        connection_save(connection=sf_connection, kind="salesforce", name="x", enabled=False)
        target = sf_connection.pk
    elif case == "webhook":
        target = connection_save(kind="webhook", name="Push", settings={"secret": "s"}).pk
    else:
        target = {"unknown": 999_999, "text": "abc"}[case]
    response = api(org.admin).post(URL, {"connection": target}, format="json")
    assert response.status_code == 400
    assert "connection" in response.json()
    assert not SyncRun.objects.exists()


def test_only_administrators_start_runs_or_test_connections(api, org, sf_connection):
    test_url = f"/api/v1/connections/{sf_connection.pk}/test/"
    for user in (org.director, org.hrbp, org.finance, org.mgr_east, org.alice):
        assert (
            api(user).post(URL, {"connection": sf_connection.pk}, format="json").status_code == 403
        )
        assert api(user).post(test_url).status_code == 403
    assert api(None).post(URL, {"connection": sf_connection.pk}, format="json").status_code == 401
    assert api(None).post(test_url).status_code == 401
    assert not SyncRun.objects.exists()


def test_the_test_button_of_the_api_answers_ok_and_a_message(api, org, salesforce, sf_connection):
    body = api(org.admin).post(f"/api/v1/connections/{sf_connection.pk}/test/").json()
    assert body["ok"] is True and body["message"]
    webhook = connection_save(kind="webhook", name="Push", settings={"secret": "s"})
    body = api(org.admin).post(f"/api/v1/connections/{webhook.pk}/test/").json()
    assert body["ok"] is False
    assert api(org.admin).post("/api/v1/connections/999999/test/").status_code == 404


def test_a_redelivered_message_resumes_its_run_and_is_given_up_after_the_attempt_cap(
    org, salesforce, sf_connection, settings
):
    settings.SYNC_MAX_ATTEMPTS = 2
    # A delivery whose worker died: its run is open and still holds the lease.
    run = run_claim(connection=sf_connection, task_id="task-1")
    SyncRun.objects.filter(pk=run.pk).update(attempts=1)
    salesforce.add(stamp=at(0))
    outcome = run_task(connection_id=sf_connection.pk, run_id=None, task_id="task-1")
    assert (outcome.status, outcome.run_id) == ("finished", run.pk)
    run.refresh_from_db()
    assert (run.attempts, run.created, run.error) == (2, 1, "")
    # A delivery after completion does nothing again.
    assert run_task(connection_id=sf_connection.pk, run_id=None, task_id="task-1").status == (
        "finished"
    )
    assert SyncRun.objects.get(pk=run.pk).attempts == 2

    looping = run_claim(connection=sf_connection, task_id="task-2")
    SyncRun.objects.filter(pk=looping.pk).update(attempts=2)
    outcome = run_task(connection_id=sf_connection.pk, run_id=None, task_id="task-2")
    assert outcome.status == "gave_up"
    looping.refresh_from_db()
    assert "Given up after 2 attempts" in looping.error and looping.fetched == 0
    assert SyncState.objects.get(connection=sf_connection).lease_run is None


def test_a_run_whose_worker_died_is_closed_by_the_run_that_takes_over(
    org, salesforce, sf_connection, settings
):
    dead = run_claim(connection=sf_connection, task_id="dead")
    SyncState.objects.filter(connection=sf_connection).update(lease_until=at(0))  # lapsed
    salesforce.add(stamp=at(0))
    outcome = run_task(connection_id=sf_connection.pk, run_id=None, task_id="next")
    assert outcome.status == "finished" and outcome.run_id != dead.pk
    dead.refresh_from_db()
    assert dead.finished_at is not None and "Interrupted" in dead.error


def periodic(connection: Connection) -> PeriodicTask | None:
    return PeriodicTask.objects.filter(name=f"sync-connection-{connection.pk}").first()


def test_each_pulled_connection_keeps_one_schedule_in_step(org, sf_connection):
    task = periodic(sf_connection)
    assert task.task == "integrations.tasks.sync_connection"
    assert json.loads(task.kwargs) == {"connection_id": sf_connection.pk}
    assert (task.interval.every, task.interval.period, task.enabled) == (15, "minutes", True)
    connection_save(connection=sf_connection, kind="salesforce", name="SF", schedule_minutes=60)
    connection_save(
        connection=sf_connection, kind="salesforce", name="SF", schedule_minutes=60, enabled=False
    )
    assert PeriodicTask.objects.filter(task="integrations.tasks.sync_connection").count() == 1
    task = periodic(sf_connection)
    assert (task.interval.every, task.enabled) == (60, False)
    connection_delete(connection=sf_connection)
    assert not PeriodicTask.objects.filter(task="integrations.tasks.sync_connection").exists()


def test_a_pushed_connection_has_no_schedule(org):
    webhook = connection_save(kind="webhook", name="Push", settings={"secret": "s"})
    assert periodic(webhook) is None


def test_the_api_keeps_the_schedule_in_step(api, org):
    response = api(org.admin).post(
        "/api/v1/connections/",
        {"kind": "erp", "name": "ERP", "schedule_minutes": 30, "settings": {"url": "http://x"}},
        format="json",
    )
    connection = Connection.objects.get(pk=response.json()["id"])
    assert periodic(connection).interval.every == 30
    api(org.admin).delete(f"/api/v1/connections/{connection.pk}/")
    assert periodic(connection) is None


def test_a_queued_run_of_a_connection_disabled_meanwhile_is_closed_and_frees_it(org, sf_connection):
    run = run_claim(connection=sf_connection)
    connection_save(connection=sf_connection, kind="salesforce", name="SF", enabled=False)
    outcome = run_task(connection_id=sf_connection.pk, run_id=run.pk, task_id="t")
    assert outcome.status == "gone"
    run.refresh_from_db()
    assert run.finished_at is not None and "disabled" in run.error
    assert SyncState.objects.get(connection=sf_connection).lease_run is None


def test_a_run_that_lost_its_lease_writes_nothing_more(org, salesforce, sf_connection):
    from integrations.runs import run_execute

    stalled = run_claim(connection=sf_connection, task_id="stalled")
    SyncState.objects.filter(connection=sf_connection).update(lease_until=at(0))
    taker = run_claim(connection=sf_connection, task_id="taker")
    salesforce.add(stamp=at(0))
    # The stalled run wakes up and reaches its first page: the lease is the taker's.
    stalled = run_execute(connection=sf_connection, run=stalled)
    assert "took this connection over" in stalled.error
    assert not Deal.objects.exists()
    assert SyncState.objects.get(connection=sf_connection).lease_run_id == taker.pk


def test_retry_after_is_read_as_seconds_or_an_http_date():
    from datetime import UTC, datetime

    from integrations.retry import retry_after_seconds

    now = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now=now) == 120
    assert retry_after_seconds("Thu, 01 May 2025 08:00:30 GMT", now=now) == 30
    assert retry_after_seconds("Thu, 01 May 2025 07:00:00 GMT", now=now) == 0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None) is None
