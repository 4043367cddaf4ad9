"""Deals per second through the bulk write path, against the per-record `deal_upsert`.

    python -m benchmarks.ingest [--records 100000] [--reps 1000]

Runs on its own PostgreSQL database (INGEST_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/targetpilot_ingest), emptied and migrated first, so it
never writes into a working database. Figures are not recomputed: this times the write stage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlparse

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/targetpilot_ingest"


def _setup(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = urlparse(url).path.lstrip("/")
    conn = psycopg2.connect(dbname="postgres", host="127.0.0.1", user="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _company(reps: int):
    from targets import services
    from targets.models import Role, RoleAssignment, TeamMembership, User

    company = services.org_unit_save(name="Bench", kind="company", parent=None)
    teams = [
        services.org_unit_save(name=f"Team {i}", kind="team", parent=company) for i in range(20)
    ]
    users = User.objects.bulk_create(
        User(username=f"rep{i:05d}", email=f"rep{i:05d}@example.com", team=teams[i % 20])
        for i in range(reps)
    )
    TeamMembership.objects.bulk_create(
        TeamMembership(user=u, team=u.team, valid_from=date(2024, 1, 1)) for u in users
    )
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=u, role=Role.REP, unit=u.team) for u in users
    )
    return users


def _records(users, count: int, *, start: int = 0, amount: str = "1234.56"):
    from integrations.upsert import DealRecord

    first = date(2025, 1, 1)
    for n in range(start, start + count):
        yield DealRecord(
            external_id=f"B-{n:08d}",
            account=f"客户{n % 5000}",
            owner_id=users[n % len(users)].pk,
            amount=Decimal(amount),
            close_date=first + timedelta(days=n % 300),
            won=n % 4 != 0,
            stage="Closed Won",
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=1_000)
    parser.add_argument("--per-record", type=int, default=2_000)
    args = parser.parse_args()
    url = os.environ.get("INGEST_DATABASE_URL", DEFAULT_URL)
    if urlparse(url).scheme not in {"postgres", "postgresql"}:
        sys.exit("The ingest benchmark runs on PostgreSQL.")
    _setup(url)
    from integrations.upsert import deals_bulk_upsert
    from targets.models import Credit, DealSource
    from targets.services import deal_upsert

    users = _company(args.reps)

    started = time.perf_counter()
    created = deals_bulk_upsert(source=DealSource.ERP, records=_records(users, args.records))
    insert_seconds = time.perf_counter() - started

    started = time.perf_counter()
    updated = deals_bulk_upsert(
        source=DealSource.ERP, records=_records(users, args.records, amount="99.99")
    )
    update_seconds = time.perf_counter() - started
    assert (created.created, updated.updated) == (args.records, args.records)
    assert Credit.objects.filter(team__isnull=True).count() == 0

    by_user = {u.pk: u for u in users}
    started = time.perf_counter()
    for record in _records(users, args.per_record, start=args.records):
        deal_upsert(
            source=DealSource.SALESFORCE,
            external_id=record.external_id,
            account=record.account,
            owner=by_user[record.owner_id],
            amount=record.amount,
            close_date=record.close_date,
            won=record.won,
            stage=record.stage,
        )
    per_record_seconds = time.perf_counter() - started

    print(f"reps: {args.reps:,}; batch size 2,000")
    print(
        f"bulk insert: {args.records:,} deals in {insert_seconds:.1f} s = "
        f"{args.records / insert_seconds:,.0f} deals/s"
    )
    print(
        f"bulk update: {args.records:,} deals in {update_seconds:.1f} s = "
        f"{args.records / update_seconds:,.0f} deals/s"
    )
    print(
        f"deal_upsert per record: {args.per_record:,} deals in {per_record_seconds:.1f} s = "
        f"{args.per_record / per_record_seconds:,.0f} deals/s"
    )


if __name__ == "__main__":
    main()
