"""The bulk write path every sync, push and import goes through (integrations/upsert.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import RunKind
from integrations.services import run_finish, run_start
from integrations.upsert import DealRecord, deals_bulk_upsert
from targets import services
from targets.errors import ValidationError
from targets.models import Credit, Deal, DealSource
from targets.signals import figures_recomputed

pytestmark = pytest.mark.django_db


def record(n: int, owner, **changes) -> DealRecord:
    fields = {
        "external_id": f"E-{n}",
        "account": f"客户{n}",
        "owner_id": owner.pk,
        "amount": Decimal("100.00"),
        "close_date": date(2025, 5, 10),
    }
    return DealRecord(**{**fields, **changes})


def test_it_creates_then_updates_the_same_deals_without_duplicates(org):
    first = deals_bulk_upsert(
        source=DealSource.ERP, records=[record(i, org.alice) for i in range(5)]
    )
    again = deals_bulk_upsert(
        source=DealSource.ERP,
        records=[record(i, org.bob, amount=Decimal("250.50")) for i in range(5)],
    )
    assert (first.created, first.updated) == (5, 0)
    assert (again.created, again.updated) == (0, 5)
    assert Deal.objects.count() == 5
    assert set(Deal.objects.values_list("owner", flat=True)) == {org.bob.pk}
    credits = Credit.objects.all()
    assert credits.count() == 5
    assert {(c.user_id, c.amount_cents, c.counts, c.team_id) for c in credits} == {
        (org.bob.pk, 25050, True, org.east1.pk)
    }


def test_split_cents_follow_the_manual_entry_rule(org):
    deals_bulk_upsert(
        source=DealSource.ERP,
        records=[
            record(
                1,
                org.alice,
                amount=Decimal("100.00"),
                splits=((org.alice.pk, Decimal("33.33")), (org.bob.pk, Decimal("66.67"))),
            )
        ],
    )
    cents = dict(Credit.objects.values_list("user_id", "amount_cents"))
    assert cents == {org.alice.pk: 3333, org.bob.pk: 6667}


def test_a_record_without_splits_keeps_a_shared_deals_splits(org):
    shared = ((org.alice.pk, Decimal(50)), (org.bob.pk, Decimal(50)))
    deals_bulk_upsert(source=DealSource.ERP, records=[record(1, org.alice, splits=shared)])
    deals_bulk_upsert(
        source=DealSource.ERP, records=[record(1, org.alice, amount=Decimal("300.00"))]
    )
    assert dict(Credit.objects.values_list("user_id", "amount_cents")) == {
        org.alice.pk: 15000,
        org.bob.pk: 15000,
    }


def test_lost_deals_do_not_count(org):
    deals_bulk_upsert(source=DealSource.ERP, records=[record(1, org.alice, won=False)])
    assert Credit.objects.get().counts is False


def test_manual_deals_are_refused(org):
    with pytest.raises(ValidationError):
        deals_bulk_upsert(source=DealSource.MANUAL, records=[record(1, org.alice)])
    assert not Deal.objects.exists()


def test_credits_carry_the_reps_team_on_the_close_date_for_a_moved_rep(in_may_2025, org):
    services.user_move_team(user=org.alice, team=org.east2, since=date(2025, 6, 1))
    deals_bulk_upsert(
        source=DealSource.SALESFORCE,
        records=[
            record(1, org.alice, close_date=date(2025, 5, 25)),
            record(2, org.alice, close_date=date(2025, 6, 10)),
        ],
    )
    teams = dict(Credit.objects.values_list("deal__external_id", "team"))
    assert teams == {"E-1": org.east1.pk, "E-2": org.east2.pk}


def test_the_last_record_of_an_external_id_in_a_batch_wins(org):
    result = deals_bulk_upsert(
        source=DealSource.ERP,
        records=[record(1, org.alice), record(1, org.alice, amount=Decimal("7.00"))],
    )
    assert result.created == 1
    assert Deal.objects.get().amount == Decimal("7.00")


def _queries_for(records, batch_size):
    with CaptureQueriesContext(connection) as queries:
        deals_bulk_upsert(source=DealSource.ERP, records=records, batch_size=batch_size)
    return len(queries)


def test_the_number_of_statements_is_fixed_per_batch(org):
    # Batches of 50 stay within SQLite's 999 parameters per statement (PostgreSQL has no
    # such split, so there a batch of 2,000 costs the same statements).
    one_batch_small = _queries_for([record(i, org.alice) for i in range(3)], 50)
    one_batch_large = _queries_for([record(i, org.alice) for i in range(100, 150)], 50)
    assert one_batch_small == one_batch_large
    # Updating adds a read (the credits of shared deals to keep) and the old credits' delete;
    # on PostgreSQL also the credits' insert, which for new deals is part of the deals' one.
    updating_small = _queries_for([record(i, org.bob) for i in range(3)], 50)
    updating_large = _queries_for([record(i, org.bob) for i in range(100, 150)], 50)
    extra = 3 if connection.vendor == "postgresql" else 2
    assert updating_small == updating_large == one_batch_small + extra
    two_batches = _queries_for([record(i, org.alice) for i in range(300, 400)], 50)
    assert two_batches == 2 * one_batch_small


def test_a_run_that_changed_deals_recomputes_the_figures_and_logs_its_counts(
    org, django_capture_on_commit_callbacks
):
    received = []

    def listener(**kwargs):
        received.append(kwargs["period"])

    figures_recomputed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = run_start(kind=RunKind.SYNC, source=DealSource.ERP)
            deals_bulk_upsert(
                source=DealSource.ERP, records=[record(i, org.alice) for i in range(4)], run=run
            )
            run_finish(run=run, fetched=4, failed=0)
            unchanged = run_start(kind=RunKind.SYNC, source=DealSource.ERP)
            run_finish(run=unchanged, fetched=0, failed=0)
    finally:
        figures_recomputed.disconnect(listener)
    run.refresh_from_db()
    assert (run.fetched, run.created, run.updated, run.failed) == (4, 4, 0, 0)
    assert run.finished_at is not None
    assert len(received) == 1
