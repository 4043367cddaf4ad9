"""The one bulk write path for deals from syncs, webhooks and imports (SPEC §4, §8).

Rows go in batches of set-based statements, never one `deal_upsert` per row. A batch is
loaded into a temporary staging table (`COPY` on PostgreSQL, one multi-row insert
elsewhere). On PostgreSQL one statement then writes the deals (`INSERT … SELECT … ON
CONFLICT (source, external_id) DO UPDATE`) and, in the same statement, the credits of the new
deals: 100 % to the owner, on the owner's team on the close date by the one rule
(`team_on_sql`). Only the deals that were there already, or bring their own splits, come back
to Python: their old credits are deleted (keeping a shared deal's splits, which a source
that knows only the owner does not undo) and written again by id. Deals with splits get
their credits from Python (they are few: a sync knows owners, not splits). The number of
statements does not grow with the rows of a batch. Manual deals keep their own path
(`deal_create_manual`): they are insert-only and need a confirmation."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.errors import field_error
from targets.models import Credit, Deal, DealSource, User
from targets.models.org import team_on_sql
from targets.money import CENT
from targets.services import Split, credits_assign_teams, share_cents

from .models import SyncRun

BATCH_SIZE = 2000

# Everything a sync may change; `created_at` and the manual-confirmation fields stay.
UPDATED_FIELDS = [
    "account",
    "owner",
    "amount",
    "stage",
    "won",
    "close_date",
    "source_created_at",
    "source_modified_at",
    "updated_at",
]


class DealRecord(NamedTuple):
    """A validated deal of a source: owner and split users are user ids. A named tuple: a
    sync makes a million of them, and a tuple is built several times faster than a frozen
    dataclass."""

    external_id: str
    account: str
    owner_id: int
    amount: Decimal
    close_date: date
    won: bool = True
    stage: str = ""
    source_modified_at: datetime | None = None
    # When the source created the opportunity (Salesforce CreatedDate), when it says so.
    source_created_at: date | None = None
    # (user id, percent); None keeps a shared deal's splits, else 100 % to the owner.
    splits: tuple[tuple[int, Decimal], ...] | None = None


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    batches: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _batches(records: Iterable[DealRecord], size: int) -> Iterator[list[DealRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


class Batch:
    """Records ready to write: the last record of each external id (one statement cannot
    touch a row twice; the last wins, as it would have had the records come one after
    another) and their rows as `COPY` text. Made without the database, so a thread reading
    ahead can make the next batch while this one is written."""

    __slots__ = ("copy_text", "records")

    def __init__(self, records: Iterable[DealRecord]) -> None:
        self.records = list({record.external_id: record for record in records}.values())
        self.copy_text = _copy_text(self.records)


def deals_bulk_upsert(
    *,
    source: str,
    records: Iterable[DealRecord] = (),
    batches: Iterable[Batch] | None = None,
    run: SyncRun | None = None,
    batch_size: int = BATCH_SIZE,
) -> UpsertResult:
    """Create or update `records` (or the records of `batches`) of `source` by external id,
    with their credits.

    Idempotent: the same records again update the same deals and leave the same credits.
    `records` may be a generator: it is consumed one batch at a time, each batch committed
    in its own transaction, so a failure loses at most the batch in flight. `run`, when
    given, gets its created / updated counts as batches commit.
    """
    if source not in DealSource.values or source == DealSource.MANUAL:
        raise field_error("source", _("Unknown source '%(source)s'.") % {"source": source})
    if batches is None:
        batches = (Batch(chunk) for chunk in _batches(records, batch_size))
    result = UpsertResult()
    for batch in batches:
        if not batch.records:
            continue
        created, updated = _upsert_batch(source=source, batch=batch)
        result.created += created
        result.updated += updated
        result.batches += 1
        if run is not None:
            run.created += created
            run.updated += updated
            SyncRun.objects.filter(pk=run.pk).update(created=run.created, updated=run.updated)
    return result


STAGE = "integrations_deal_stage"
# Named as the deal's columns: the staged rows are inserted column for column.
STAGE_COLUMNS = (
    "external_id",
    "account",
    "owner_id",
    "amount",
    "stage",
    "won",
    "close_date",
    "source_created_at",
    "source_modified_at",
)


@transaction.atomic
def _upsert_batch(*, source: str, batch: Batch) -> tuple[int, int]:
    records = batch.records
    with_splits = [r.external_id for r in records if r.splits is not None]
    with connection.cursor() as cursor:
        _stage_load(cursor, batch)
        returned = _write_deals(cursor, source=source, with_splits=with_splits)
    existing = [pk for pk, new in returned if not new]
    own_splits = {pk for pk, _new in returned} if with_splits else set()
    kept = _shared_splits_to_keep([pk for pk in existing if pk not in own_splits])
    if existing:
        Credit.objects.filter(_among("deal_id", existing)).delete()
        sole_owner = [pk for pk in existing if pk not in own_splits and pk not in kept]
        with connection.cursor() as cursor:
            _credit_sole_owners(cursor, sole_owner)
    own = [pk for pk, _new in returned if pk in own_splits]
    _credits_from_splits([*own, *kept], records, kept)
    return len(records) - len(existing), len(existing)


def _write_deals(cursor, *, source: str, with_splits: list[str]) -> list[tuple[int, bool]]:
    """The staged deals written, with the credits of the new ones that bring no splits (a
    first sync's every row). Returns (id, new) of the deals that were there already and of
    those with their own splits: what the caller still has to credit.

    `created_at` is not among the updated fields, so a row that kept an older one was there.
    """
    now = timezone.now()
    deals, credits = Deal._meta.db_table, Credit._meta.db_table
    updates = ", ".join(f"{column} = excluded.{column}" for column in _UPDATED_COLUMNS)
    staged = ", ".join(STAGE_COLUMNS)
    upsert = (
        f"INSERT INTO {deals} (source, {staged}, created_at, updated_at) "
        f"SELECT %s, {staged}, %s, %s FROM {STAGE} WHERE true "
        f"ON CONFLICT (source, external_id) DO UPDATE SET {updates} "
    )
    if connection.vendor == "postgresql":
        # One statement, and only the few rows the caller needs come back.
        cursor.execute(
            f"WITH written AS ({upsert} RETURNING id, external_id, owner_id, amount, "
            "close_date, won, created_at = %s AS new), "
            f"fresh AS (INSERT INTO {credits} ({_CREDIT_COLUMNS}) "
            f"SELECT {_sole_owner_credit('written')} FROM written "
            "WHERE written.new AND NOT written.external_id = ANY(%s)) "
            "SELECT id, new FROM written WHERE NOT new OR external_id = ANY(%s)",
            [source, now, now, now, with_splits, with_splits],
        )
        return cursor.fetchall()
    # Elsewhere (SQLite) a statement cannot write two tables: the same in two.
    cursor.execute(f"{upsert} RETURNING id, external_id, created_at = %s", [source, now, now, now])
    written = cursor.fetchall()
    splits = set(with_splits)
    _credit_sole_owners(
        cursor, [pk for pk, external_id, new in written if new and external_id not in splits]
    )
    return [(pk, bool(new)) for pk, external_id, new in written if not new or external_id in splits]


def _credit_sole_owners(cursor, deal_ids: list[int]) -> None:
    """The one credit of each of these deals (which have none), read from the deals."""
    if not deal_ids:
        return
    deals = Deal._meta.db_table
    condition, params = _id_among(f"{deals}.id", deal_ids)
    cursor.execute(
        f"INSERT INTO {Credit._meta.db_table} ({_CREDIT_COLUMNS}) "
        f"SELECT {_sole_owner_credit(deals)} FROM {deals} WHERE {condition}",
        params,
    )


def _id_among(column: str, ids: list[int]) -> tuple[str, list]:
    """SQL for `column` is one of `ids`: one array parameter on PostgreSQL."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


_UPDATED_COLUMNS = [Deal._meta.get_field(name).column for name in UPDATED_FIELDS]
_CREDIT_COLUMNS = (
    "deal_id, user_id, team_id, percent, amount_cents, close_date, close_month, counts"
)


def _sole_owner_credit(deals: str) -> str:
    """The select list of a deal's one credit, `deals` naming rows with the deal's columns:
    100 % to the owner, on the owner's team on the close date, counted when won (only
    manual deals wait for a confirmation)."""
    team = team_on_sql(user=f"{deals}.owner_id", day=f"{deals}.close_date")
    return (
        f"{deals}.id, {deals}.owner_id, {team}, 100, "
        f"CAST(ROUND({deals}.amount * 100) AS bigint), {deals}.close_date, "
        f"{_month_start(f'{deals}.close_date')}, {deals}.won"
    )


def _month_start(day: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {day}) AS date)"
    return f"date({day}, 'start of month')"


def _stage_load(cursor, batch: Batch) -> None:
    """The batch into the session's staging table, emptied first.

    No key on it: the batch's external ids are distinct already. Emptied by TRUNCATE on
    PostgreSQL, not DELETE: an import is one transaction, and the dead rows DELETE leaves
    there (autovacuum never sees a temporary table) would make every later batch scan all
    earlier ones."""
    postgres = connection.vendor == "postgresql"
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (external_id varchar(64) NOT NULL, "
        "account varchar(200) NOT NULL, owner_id bigint NOT NULL, amount numeric(16, 2) NOT NULL, "
        "stage varchar(60) NOT NULL, won boolean NOT NULL, close_date date NOT NULL, "
        "source_created_at date, source_modified_at timestamp with time zone)"
        + (" ON COMMIT DELETE ROWS" if postgres else "")
    )
    cursor.execute(f"{'TRUNCATE' if postgres else 'DELETE FROM'} {STAGE}")
    columns = ", ".join(STAGE_COLUMNS)
    if postgres:
        # COPY: one round trip and no per-row parsing of SQL. The csv module writes None as
        # an empty field, which COPY reads as NULL except in the FORCE_NOT_NULL columns.
        cursor.cursor.copy_expert(
            f"COPY {STAGE} ({columns}) FROM STDIN WITH (FORMAT csv, "
            "FORCE_NOT_NULL (external_id, account, stage))",
            io.StringIO(batch.copy_text),
        )
    else:
        cursor.executemany(
            f"INSERT INTO {STAGE} ({columns}) VALUES ({', '.join(['%s'] * len(STAGE_COLUMNS))})",
            [(*row[:3], str(row[3]), *row[4:]) for row in _stage_rows(batch.records)],
        )


def _stage_rows(records: list[DealRecord]) -> list[tuple]:
    """The records as the staging table's rows (STAGE_COLUMNS), amounts in whole cents."""
    return [
        (
            r.external_id,
            r.account,
            r.owner_id,
            r.amount.quantize(CENT),
            r.stage,
            r.won,
            r.close_date,
            r.source_created_at,
            r.source_modified_at,
        )
        for r in records
    ]


def _copy_text(records: list[DealRecord]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(_stage_rows(records))
    return buffer.getvalue()


def _among(field: str, ids: list[int]) -> Q:
    """`field` is one of `ids`. On PostgreSQL the ids go as one array parameter: Django
    prepares an `IN` list's values one by one, which for a batch costs more than the
    statement."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", [ids])})
    return Q(**{f"{field}__in": ids})


def _shared_splits_to_keep(deal_ids: list[int]) -> dict[int, list[tuple[int, Decimal]]]:
    """Splits of deals shared among several reps, for records that bring no splits.

    As `deal_upsert` does: a source that knows only the owner does not undo a split
    someone recorded; a sole owner's credit follows the owner.
    """
    if not deal_ids:
        return {}
    splits: dict[int, list[tuple[int, Decimal]]] = {}
    for deal_id, user_id, percent in (
        Credit.objects.filter(_among("deal_id", deal_ids))
        .filter(Exists(Credit.objects.filter(deal=OuterRef("deal")).exclude(user=OuterRef("user"))))
        .values_list("deal_id", "user_id", "percent")
    ):
        splits.setdefault(deal_id, []).append((user_id, percent))
    return splits


def _credits_from_splits(
    deal_ids: list[int], records: list[DealRecord], kept: dict[int, list[tuple[int, Decimal]]]
) -> None:
    """Credits of the deals that carry splits, or keep a shared deal's, shared in cents."""
    if not deal_ids:
        return
    by_external_id = {r.external_id: r for r in records}
    deals = list(Deal.objects.filter(pk__in=deal_ids))
    Credit.objects.bulk_create(
        credit
        for deal in deals
        for credit in _credits(deal, by_external_id[deal.external_id], kept.get(deal.pk))
    )
    credits_assign_teams(Credit.objects.filter(deal__in=deal_ids))


def _credits(
    deal: Deal, record: DealRecord, kept: list[tuple[int, Decimal]] | None
) -> Iterator[Credit]:
    pairs = record.splits or kept or [(record.owner_id, Decimal(100))]
    splits = [Split(User(pk=user_id), percent) for user_id, percent in pairs]
    total_cents = int((deal.amount * 100).to_integral_value())
    close_month = deal.close_date.replace(day=1)
    for split, cents in zip(splits, share_cents(total_cents, splits), strict=True):
        yield Credit(
            deal_id=deal.pk,
            user_id=split.user.pk,
            percent=split.percent,
            amount_cents=cents,
            close_date=deal.close_date,
            close_month=close_month,
            # Only manual deals wait for a confirmation; a synced deal counts when won.
            counts=deal.won,
        )
