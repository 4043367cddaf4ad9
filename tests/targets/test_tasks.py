from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.management import call_command

from config.celery import app as celery_app
from targets import services
from targets.recompute import figures_recompute
from targets.tasks import recompute_figures
from tests.factories import DealFactory
from tests.services import redis_available, require_service

D = Decimal
AS_OF = date(2025, 5, 15)  # 46/93 of an equally phased quarter is expected by then


def one_target_per_status(org) -> None:
    def target(owner, base, period="2025Q2"):
        services.target_create(period=period, owner_user=owner, base=D(base), stretch=D(base))

    target(org.alice, "300000")  # expected 148,387: 150,000 won → pace 101 % → green
    DealFactory(owner=org.alice, amount=D("150000"), close_date=date(2025, 4, 10))
    target(org.bob, "300000")  # 100,000 won → pace 67 % → yellow
    DealFactory(owner=org.bob, amount=D("100000"), close_date=date(2025, 5, 2))
    target(org.carol, "300000")  # nothing won → red
    target(org.dave, "0")  # Base 0: no rate, no status
    target(org.dave, "500000", period="2025Q1")  # another quarter: not counted


EXPECTED = {
    "as_of": "2025-05-15",
    "period": "2025Q2",
    "targets": 4,
    "red": 1,
    "yellow": 1,
    "green": 1,
    "none": 1,
}


@pytest.mark.django_db
def test_recompute_counts_the_current_quarters_targets_by_status(org):
    one_target_per_status(org)
    assert figures_recompute(as_of=AS_OF) == EXPECTED


@pytest.mark.django_db
def test_recompute_defaults_to_today_in_the_company_time_zone(org, time_machine):
    one_target_per_status(org)
    # 20:00 UTC on the 14th is already the 15th in Shanghai.
    time_machine.move_to(datetime(2025, 5, 14, 20, 0, tzinfo=UTC), tick=False)
    assert figures_recompute() == EXPECTED


@pytest.mark.django_db
def test_the_task_returns_the_summary_for_the_given_day(org):
    one_target_per_status(org)
    result = recompute_figures.apply(kwargs={"as_of": "2025-05-15"})
    assert result.get() == EXPECTED


@pytest.mark.django_db
def test_the_recompute_command_prints_the_counts(org):
    one_target_per_status(org)
    out = StringIO()
    call_command("recompute", "--as-of", "2025-05-15", stdout=out)
    assert "2025Q2" in out.getvalue()
    assert "2025-05-15" in out.getvalue()


@pytest.fixture
def celery_worker():
    """A real worker, in a thread of this process, consuming from the Redis broker."""
    require_service(
        "Redis (broker for a real Celery worker)",
        redis_available(settings.REDIS_URL),
        hint="set REDIS_URL",
    )
    import celery.contrib.testing.tasks  # noqa: F401  (registers the ping task start_worker uses)

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=True, shutdown_timeout=30):
            yield
    finally:
        celery_app.conf.task_always_eager = eager


# transaction=True: the worker reads the test database over its own connection, so the
# rows must be committed, not held in this test's rolled-back transaction.
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_recomputes_against_the_same_database(org, celery_worker):
    one_target_per_status(org)
    assert recompute_figures.delay(as_of="2025-05-15").get(timeout=30) == EXPECTED
