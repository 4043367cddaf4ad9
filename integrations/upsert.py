"""The one bulk write path for deals from syncs, webhooks and imports (SPEC §4, §8).

Rows go in batches of set-based statements, never one `deal_upsert` per row. A batch is
loaded into a temporary staging table (`COPY` on PostgreSQL, one multi-row insert
elsewhere), then one `INSERT … SELECT … ON CONFLICT (source, external_id) DO UPDATE` writes
the deals and returns their ids and which were there already. Everything after goes by those
ids, so its plans do not depend on the tables' statistics (stale right after a large first
sync): one read of the shared splits to keep, one `DELETE` of the old credits, and one
`INSERT … SELECT` of the sole-owner credits with each rep's team on the close date from the
one rule (`team_on`). Deals that carry their own splits, or keep a shared deal's splits, get
their credits from Python (they are few: a sync knows owners, not splits). The number of
statements does not grow with the rows of a batch. Manual deals keep their own path
(`deal_create_manual`): they are insert-only and need a confirmation."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import islice

from django.db import connection, transaction
from django.db.models import BigIntegerField, DateField, DecimalField, Exists, F, OuterRef, Value
from django.db.models.functions import Cast, Round, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.errors import field_error
from targets.models import Credit, Deal, DealSource, User
from targets.models.org import team_on
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


@dataclass(frozen=True)
class DealRecord:
    """A validated deal of a source: owner and split users are user ids."""

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
    deal_ids: list[int] = field(default_factory=list, repr=False)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _batches(records: Iterable[DealRecord], size: int) -> Iterator[list[DealRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def deals_bulk_upsert(
    *,
    source: str,
    records: Iterable[DealRecord],
    run: SyncRun | None = None,
    batch_size: int = BATCH_SIZE,
    keep_ids: bool = False,
) -> UpsertResult:
    """Create or update `records` of `source` by external id, with their credits.

    Idempotent: the same records again update the same deals and leave the same credits.
    `records` may be a generator: it is consumed one batch at a time, each batch committed
    in its own transaction, so a failure loses at most the batch in flight. `run`, when
    given, gets its created / updated counts as batches commit.
    """
    if source not in DealSource.values or source == DealSource.MANUAL:
        raise field_error("source", _("Unknown source '%(source)s'.") % {"source": source})
    result = UpsertResult()
    for batch in _batches(records, batch_size):
        created, updated, ids = _upsert_batch(source=source, batch=batch)
        result.created += created
        result.updated += updated
        result.batches += 1
        if keep_ids:
            result.deal_ids.extend(ids)
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
def _upsert_batch(*, source: str, batch: list[DealRecord]) -> tuple[int, int, list[int]]:
    # One statement cannot touch a row twice (ON CONFLICT refuses it): the last record of
    # an external id wins, as it would have had the records come one after another.
    records = list({record.external_id: record for record in batch}.values())
    now = timezone.now()
    with connection.cursor() as cursor:
        _stage_load(cursor, records)
        columns = [Deal._meta.get_field(name).column for name in UPDATED_FIELDS]
        updates = ", ".join(f"{column} = excluded.{column}" for column in columns)
        staged = ", ".join(STAGE_COLUMNS)
        cursor.execute(
            f"INSERT INTO {Deal._meta.db_table} (source, {staged}, created_at, updated_at) "
            f"SELECT %s, {staged}, %s, %s FROM {STAGE} WHERE true "
            "ON CONFLICT (source, external_id) DO UPDATE SET "
            f"{updates} RETURNING id, external_id, created_at = %s",
            [source, now, now, now],
        )
        written = cursor.fetchall()
    # `created_at` is not among the updated fields: a row that kept an older one was there.
    id_of = {external_id: pk for pk, external_id, _new in written}
    existing = [pk for pk, _external_id, new in written if not new]
    own_splits = {id_of[r.external_id] for r in records if r.splits is not None}
    kept = _shared_splits_to_keep([pk for pk in existing if pk not in own_splits])
    if existing:
        Credit.objects.filter(deal_id__in=existing).delete()
    sole_owner = [pk for pk in id_of.values() if pk not in own_splits and pk not in kept]
    if sole_owner:
        sql, params = _sole_owner_credits(sole_owner).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Credit._meta.db_table} (deal_id, user_id, team_id, percent, "
                f"amount_cents, close_date, close_month, counts) {sql}",
                params,
            )
    _credits_from_splits([*own_splits, *kept], records, kept)
    return len(written) - len(existing), len(existing), list(id_of.values())


def _stage_load(cursor, records: list[DealRecord]) -> None:
    """The batch into the session's staging table, emptied first."""
    postgres = connection.vendor == "postgresql"
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (external_id varchar(64) PRIMARY KEY, "
        "account varchar(200) NOT NULL, owner_id bigint NOT NULL, amount numeric(16, 2) NOT NULL, "
        "stage varchar(60) NOT NULL, won boolean NOT NULL, close_date date NOT NULL, "
        "source_created_at date, source_modified_at timestamp with time zone)"
        + (" ON COMMIT DELETE ROWS" if postgres else "")
    )
    cursor.execute(f"DELETE FROM {STAGE}")
    rows = (
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
    )
    columns = ", ".join(STAGE_COLUMNS)
    if postgres:
        # COPY: one round trip and no per-row parsing of SQL.
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for row in rows:
            writer.writerow(["\\N" if value is None else value for value in row])
        buffer.seek(0)
        cursor.cursor.copy_expert(
            f"COPY {STAGE} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
        )
    else:
        cursor.executemany(
            f"INSERT INTO {STAGE} ({columns}) VALUES ({', '.join(['%s'] * len(STAGE_COLUMNS))})",
            [(*row[:3], str(row[3]), *row[4:]) for row in rows],
        )


def _sole_owner_credits(deal_ids: list[int]):
    """One credit per deal: 100 % to the owner, counted when won, on the owner's team on the
    close date — as a SELECT to insert from."""
    return (
        Deal.objects.filter(pk__in=deal_ids)
        .order_by()
        .annotate(
            c_deal=F("pk"),
            c_user=F("owner_id"),
            c_team=team_on(user=OuterRef("owner_id"), day=OuterRef("close_date")),
            c_percent=Value(
                Decimal(100), output_field=DecimalField(max_digits=5, decimal_places=2)
            ),
            c_cents=Cast(Round(F("amount") * 100), BigIntegerField()),
            c_close=F("close_date"),
            c_month=TruncMonth("close_date", output_field=DateField()),
            # Only manual deals wait for a confirmation; a synced deal counts when won.
            c_counts=F("won"),
        )
        .values_list(
            "c_deal", "c_user", "c_team", "c_percent", "c_cents", "c_close", "c_month", "c_counts"
        )
    )


def _shared_splits_to_keep(deal_ids: list[int]) -> dict[int, list[tuple[int, Decimal]]]:
    """Splits of deals shared among several reps, for records that bring no splits.

    As `deal_upsert` does: a source that knows only the owner does not undo a split
    someone recorded; a sole owner's credit follows the owner.
    """
    if not deal_ids:
        return {}
    splits: dict[int, list[tuple[int, Decimal]]] = {}
    for deal_id, user_id, percent in (
        Credit.objects.filter(deal_id__in=deal_ids)
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
