"""Real Celery workers (separate processes, Redis broker, PostgreSQL) pulling from the fake
Salesforce: SIGKILLed mid-sync, and racing each other for one connection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db
from django.db.models import Sum
from django.utils import timezone

from config.celery import app as celery_app
from integrations.models import SyncRun, SyncState
from integrations.tasks import sync_connection
from targets.models import Credit, Deal, DealRemoval
from tests.integrations.fake_salesforce import at
from tests.services import redis_available, require_service

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2


@pytest.fixture
def workers(settings):
    """Starts worker processes on a queue of this test's own; kills what is left at the end."""
    require_service("PostgreSQL", db.vendor == "postgresql", hint="set DATABASE_URL")
    require_service("Redis", redis_available(settings.REDIS_URL), hint="set REDIS_URL")
    settings.SYNC_LEASE_SECONDS = LEASE_SECONDS
    queue = f"sync-test-{uuid.uuid4().hex[:8]}"
    name = db.settings_dict["NAME"]
    host, port = db.settings_dict["HOST"] or "127.0.0.1", db.settings_dict["PORT"] or "5432"
    user = db.settings_dict["USER"] or "postgres"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{name}",
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "SYNC_LEASE_SECONDS": str(LEASE_SECONDS),
        "SYNC_SLEEP_SCALE": "0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    if db.settings_dict["PASSWORD"]:
        env["PGPASSWORD"] = db.settings_dict["PASSWORD"]
    started: list[subprocess.Popen] = []

    def start(label: str) -> subprocess.Popen:
        node = f"{label}-{queue}@localhost"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                queue,
                "-n",
                node,
                "-l",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,  # its own process group: the kill takes all of it
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        process.node = node
        started.append(process)
        return process

    def kill(process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def kill_all() -> None:
        for process in started:
            kill(process)

    start.queue = queue
    start.kill = kill
    start.kill_all = kill_all
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # these tests send to the broker for real
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = eager
        kill_all()


def wait_until(condition, timeout: float = 30, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


def lease_lapsed(connection) -> bool:
    state = SyncState.objects.get(connection=connection)
    return state.lease_run_id is None or state.lease_until < timezone.now()


def dataset(salesforce, n: int) -> dict[str, Decimal]:
    amounts = {}
    for i in range(n):
        # Runs of 7 records share a second: kills land among boundary-stamp records.
        opportunity = salesforce.add(
            owner=("alice", "bob", "carol", "dave")[i % 4], stamp=at(i // 7)
        )
        amounts[opportunity.id] = Decimal(str(opportunity.amount))
    return amounts


def assert_every_row_exactly_once(amounts: dict[str, Decimal]) -> None:
    deals = dict(Deal.objects.filter(source="salesforce").values_list("external_id", "amount"))
    assert deals == amounts
    assert Credit.objects.filter(deal__source="salesforce").count() == len(amounts)
    total_cents = Credit.objects.aggregate(total=Sum("amount_cents"))["total"]
    assert total_cents == int(sum(amounts.values()) * 100)
    assert not DealRemoval.objects.exists()


def test_workers_killed_mid_sync_leave_every_row_exactly_once(salesforce, sf_connection, workers):
    salesforce.page_size = 500
    salesforce.page_delay = 0.05
    amounts = dataset(salesforce, 3000)  # six pages
    # Kill points: as page 1 arrives (nothing committed), while page 3 is written, and
    # after the last page was served (during the last commit, the sweep or the finish).
    # Each next worker starts while the current one runs: only one is ever consuming when
    # a task is sent, since the task is sent after the kill.
    worker = workers("first")
    for kill_after_pages, last, pause in ((1, False, 0.0), (3, False, 0.25), (1, True, 0.1)):
        served = salesforce.last_pages_served if last else salesforce.pages_served
        sync_connection.apply_async(kwargs={"connection_id": sf_connection.pk}, queue=workers.queue)
        assert salesforce.wait_for_pages(served + kill_after_pages, timeout=40, last=last)
        following = workers("next")
        time.sleep(pause)
        workers.kill(worker)
        worker = following
        wait_until(lambda: lease_lapsed(sf_connection), timeout=LEASE_SECONDS + 5)
    result = sync_connection.apply_async(
        kwargs={"connection_id": sf_connection.pk}, queue=workers.queue
    )
    outcome = result.get(timeout=60)
    assert outcome["status"] == "finished"
    final = SyncRun.objects.get(pk=outcome["run"])
    assert final.error == "" and final.finished_at is not None
    assert_every_row_exactly_once(amounts)
    runs = SyncRun.objects.filter(connection=sf_connection)
    # Every row was created exactly once across the runs: a killed page wrote nothing.
    assert sum(r.created for r in runs) == len(amounts)
    # The runs the kills interrupted were closed by the run that took over.
    assert all(r.finished_at is not None for r in runs)
    assert SyncState.objects.get(connection=sf_connection).watermark == at((3000 - 1) // 7)


def test_two_workers_racing_for_one_connection_never_both_process_it(
    salesforce, sf_connection, workers
):
    salesforce.page_size = 500
    salesforce.page_delay = 0.2  # a run long enough for the other worker to try meanwhile
    amounts = dataset(salesforce, 1500)
    nodes = [workers("one").node, workers("two").node]
    wait_until(
        lambda: len(celery_app.control.ping(destination=nodes, timeout=0.5)) == 2, timeout=40
    )
    results = [
        sync_connection.apply_async(kwargs={"connection_id": sf_connection.pk}, queue=workers.queue)
        for _ in range(2)
    ]
    statuses = sorted(r.get(timeout=60)["status"] for r in results)
    assert statuses == ["busy", "finished"]
    assert len(salesforce.queries) == 1
    assert SyncRun.objects.filter(connection=sf_connection).count() == 1
    assert_every_row_exactly_once(amounts)
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
