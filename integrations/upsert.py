"""The one bulk write path for deals from syncs, webhooks and imports (SPEC §4, §8).

Rows go in batches of set-based statements, never one `deal_upsert` per row: per batch one
read of the keys already there, one multi-row `INSERT … ON CONFLICT (source, external_id)
DO UPDATE`, one read of the shared splits to keep, one `DELETE` and one multi-row `INSERT`
of credits, and one `UPDATE` tagging each credit with its rep's team on the close date. The
number of statements does not grow with the rows of a batch. Manual deals keep their own
path (`deal_create_manual`): they are insert-only and need a confirmation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import islice

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.errors import field_error
from targets.models import Credit, Deal, DealSource, User
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


@transaction.atomic
def _upsert_batch(*, source: str, batch: list[DealRecord]) -> tuple[int, int, list[int]]:
    # One statement cannot touch a row twice (ON CONFLICT refuses it): the last record of
    # an external id wins, as it would have had the records come one after another.
    by_id = {record.external_id: record for record in batch}
    records = list(by_id.values())
    existing = dict(
        Deal.objects.filter(source=source, external_id__in=by_id).values_list("external_id", "pk")
    )
    now = timezone.now()
    deals = [
        Deal(
            source=source,
            external_id=r.external_id,
            account=r.account,
            owner_id=r.owner_id,
            amount=r.amount.quantize(CENT),
            stage=r.stage,
            won=r.won,
            close_date=r.close_date,
            source_modified_at=r.source_modified_at,
            source_created_at=r.source_created_at,
            created_at=now,
            updated_at=now,
        )
        for r in records
    ]
    Deal.objects.bulk_create(
        deals,
        update_conflicts=True,
        unique_fields=["source", "external_id"],
        update_fields=UPDATED_FIELDS,
    )
    # PostgreSQL and SQLite ≥ 3.35 return the key of inserted and updated rows alike.
    ids = [deal.pk for deal in deals]
    kept = _shared_splits_to_keep(
        [existing[r.external_id] for r in records if r.splits is None and r.external_id in existing]
    )
    Credit.objects.filter(deal_id__in=ids).delete()
    Credit.objects.bulk_create(
        credit
        for deal, record in zip(deals, records, strict=True)
        for credit in _credits(deal, record, kept.get(deal.pk))
    )
    credits_assign_teams(Credit.objects.filter(deal_id__in=ids))
    updated = len(existing)
    return len(records) - updated, updated, ids


def _shared_splits_to_keep(deal_ids: list[int]) -> dict[int, list[tuple[int, Decimal]]]:
    """Splits of deals shared among several reps, for records that bring no splits.

    As `deal_upsert` does: a source that knows only the owner does not undo a split
    someone recorded; a sole owner's credit follows the owner.
    """
    if not deal_ids:
        return {}
    splits: dict[int, list[tuple[int, Decimal]]] = {}
    for deal_id, user_id, percent in Credit.objects.filter(deal_id__in=deal_ids).values_list(
        "deal_id", "user_id", "percent"
    ):
        splits.setdefault(deal_id, []).append((user_id, percent))
    return {deal_id: rows for deal_id, rows in splits.items() if len(rows) > 1}


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
