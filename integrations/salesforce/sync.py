"""Salesforce Opportunities → deals, incrementally on a `SystemModstamp` watermark (SPEC §8).

One queryAll pass `WHERE SystemModstamp >= :watermark ORDER BY SystemModstamp, Id` brings
changed and deleted records alike (a deletion stamps the record too). `>=` re-reads the
records of the boundary second (SOQL literals have whole seconds; the watermark is floored
to the second): several records can share a stamp and a run may have stopped among them.
The upsert is idempotent, so a re-read changes nothing and delivery is at-least-once
without duplicates.

Each page is one transaction: its deals written, its deletions removed, the watermark moved
to its last stamp and the lease renewed, all or nothing, so a run killed anywhere resumes
at the last committed page. A watermark older than the recycle bin's 15 days cannot see
every deletion any more: then the whole object is read again and deals not seen are
removed at the end (a full resync, which itself may span several runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.lease import lease_keep
from integrations.models import Connection, SyncRun, SyncState
from integrations.records import ids_by_email
from integrations.services import failures_kept
from integrations.upsert import Batch, DealRecord, deals_bulk_upsert
from targets.models import Deal, Role, User
from targets.money import MAX_AMOUNT
from targets.services import deals_remove

from ..read_ahead import read_ahead
from .client import SalesforceClient

RECYCLE_BIN = timedelta(days=15)
FIELDS = (
    "Id",
    "OwnerId",
    "Owner.Email",
    "AccountId",
    "Account.Name",
    "Amount",
    "StageName",
    "Probability",
    "ForecastCategoryName",
    "IsWon",
    "IsClosed",
    "CloseDate",
    "SystemModstamp",
    "IsDeleted",
)
REMOVED_REASON = "Deleted in Salesforce"
GONE_REASON = "Not in Salesforce any more (full resync)"


def soql(watermark: datetime | None) -> str:
    where = f" WHERE SystemModstamp >= {soql_datetime(watermark)}" if watermark else ""
    return f"SELECT {', '.join(FIELDS)} FROM Opportunity{where} ORDER BY SystemModstamp, Id"


def soql_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: str) -> datetime:
    """Salesforce writes `2025-05-01T10:00:00.000+0000`."""
    return datetime.fromisoformat(value)


@dataclass
class PageOutcome:
    fetched: int
    last_stamp: datetime
    records: list[DealRecord] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unmapped: set[str] = field(default_factory=set)
    # {"id", "field", "message"} of each failed row, for the run log.
    failures: list[dict[str, str]] = field(default_factory=list)
    # The records made ready to write (made with the page, ahead of its writing).
    batch: Batch | None = None

    @property
    def failed_ids(self) -> list[str]:
        return [failure["id"] for failure in self.failures]


def salesforce_sync(*, connection: Connection, run: SyncRun, client: SalesforceClient) -> None:
    """Pull what changed since the watermark; `run` gets its counts as pages commit."""
    state = SyncState.objects.get(connection=connection)
    now = timezone.now()
    if state.resync_since is None and (
        state.watermark is None or state.watermark < now - RECYCLE_BIN
    ):
        state.resync_since = now
        state.watermark = None
        state.resync_kept = []
        state.save(update_fields=["resync_since", "watermark", "resync_kept"])
    watermark = state.watermark.replace(microsecond=0) if state.watermark else None
    owners = _Owners(connection.settings.get("owner_mapping") or {})
    # The next page is fetched and mapped while this one is written (read_ahead.py).
    mapped = (
        map_page(page.records, owners)
        for page in client.query_pages(soql(watermark), include_deleted=True)
        if page.records
    )
    with read_ahead(mapped) as outcomes:
        for outcome in outcomes:
            _write_page(connection=connection, run=run, state=state, outcome=outcome)
    if state.resync_since is not None:
        _sweep(connection=connection, run=run, state=state)


def _write_page(
    *, connection: Connection, run: SyncRun, state: SyncState, outcome: PageOutcome
) -> None:
    """One page, one transaction: deals, deletions, counts, watermark and lease."""
    batch = outcome.batch
    if state.resync_since is None:
        changed = _changed(connection.source, outcome.records)
        if len(changed) < len(outcome.records):
            batch = Batch(changed)
    with transaction.atomic():
        lease_keep(run=run)
        deals_bulk_upsert(source=connection.source, batches=[batch], run=run)
        removed = deals_remove(
            source=connection.source, external_ids=outcome.deleted, reason=REMOVED_REASON
        )
        run.fetched += outcome.fetched
        run.failed += len(outcome.failed_ids)
        run.deleted += removed
        run.unmapped_owners = sorted(set(run.unmapped_owners) | outcome.unmapped)
        run.failures = failures_kept(run.failures, outcome.failures)
        SyncRun.objects.filter(pk=run.pk).update(
            fetched=run.fetched,
            failed=run.failed,
            deleted=run.deleted,
            unmapped_owners=run.unmapped_owners,
            failures=run.failures,
        )
        state.watermark = outcome.last_stamp
        fields = ["watermark"]
        if state.resync_since is not None and outcome.failed_ids:
            state.resync_kept = [*state.resync_kept, *outcome.failed_ids]
            fields.append("resync_kept")
        state.save(update_fields=fields)


def _sweep(*, connection: Connection, run: SyncRun, state: SyncState) -> None:
    """The full pass is complete: what it neither wrote nor failed on is gone at the source."""
    with transaction.atomic():
        lease_keep(run=run)
        gone = (
            Deal.objects.filter(source=connection.source, updated_at__lt=state.resync_since)
            .exclude(external_id__in=state.resync_kept)
            .values_list("external_id", flat=True)
        )
        removed = deals_remove(
            source=connection.source, external_ids=list(gone), reason=GONE_REASON
        )
        run.deleted += removed
        SyncRun.objects.filter(pk=run.pk).update(deleted=run.deleted)
        state.resync_since = None
        state.resync_kept = []
        state.save(update_fields=["resync_since", "resync_kept"])


def _changed(source: str, records: list[DealRecord]) -> list[DealRecord]:
    """Leave out records we already hold at the same `SystemModstamp` (the re-read boundary
    second): rewriting them would change nothing, yet count as updates and recompute the
    figures after every quiet run. A full resync writes all, as the sweep needs."""
    held = dict(
        Deal.objects.filter(
            source=source, external_id__in=[r.external_id for r in records]
        ).values_list("external_id", "source_modified_at")
    )
    return [r for r in records if held.get(r.external_id) != r.source_modified_at]


class _Owners:
    """Salesforce owners → active reps: the connection's `owner_mapping` (Salesforce user id
    or e-mail → username) first, then the owner's e-mail, case-insensitively.

    Every rep is read once, when the run starts (two queries): pages are then mapped without
    the database, a page ahead of the one being written."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = {str(k).strip().lower(): str(v).strip() for k, v in mapping.items()}
        reps = User.objects.filter(
            is_active=True, team__isnull=False, role_assignments__role=Role.REP
        )
        self.by_username = dict(
            reps.filter(username__in=set(self.mapping.values()))
            .values_list("username", "pk")
            .distinct()
        )
        self.by_email = ids_by_email(
            reps.annotate(email_lower=Lower("email"))
            .exclude(email="")
            .values_list("pk", "email_lower")
            .distinct()
        )

    def rep_for(self, owner_id: str, email: str) -> int | None:
        username = self.mapping.get(owner_id.lower()) or self.mapping.get(email)
        return self.by_username.get(username) if username else self.by_email.get(email)


def _owner_email(row: dict[str, Any]) -> str:
    owner = row.get("Owner") or {}
    return str(owner.get("Email") or "").strip().lower()


def map_page(rows: list[dict[str, Any]], owners: _Owners) -> PageOutcome:
    """Records to write, ids to remove, and the rows that fail (never silently dropped).
    Makes no query."""
    outcome = PageOutcome(fetched=len(rows), last_stamp=parse_datetime(rows[-1]["SystemModstamp"]))
    live = []
    for row in rows:
        if row.get("IsDeleted"):
            outcome.deleted.append(row["Id"])
        else:
            live.append(row)
    for row in live:
        owner_id = owners.rep_for(row.get("OwnerId") or "", _owner_email(row))
        if owner_id is None:
            label = _owner_label(row)
            outcome.unmapped.add(label)
            outcome.failures.append(
                {
                    "id": row["Id"],
                    "field": "OwnerId",
                    "message": _("No active rep for the owner %(owner)s.") % {"owner": label},
                }
            )
            continue
        record = to_record(row, owner_id)
        if isinstance(record, DealRecord):
            outcome.records.append(record)
            continue
        field_name, message = record
        outcome.failures.append({"id": row["Id"], "field": field_name, "message": message})
    outcome.batch = Batch(outcome.records)
    return outcome


def _owner_label(row: dict[str, Any]) -> str:
    email = _owner_email(row)
    return f"{row.get('OwnerId') or '?'} <{email}>" if email else str(row.get("OwnerId") or "?")


def to_record(row: dict[str, Any], owner_id: int) -> DealRecord | tuple[str, str]:
    """An Opportunity as a deal, or (field, why) when it cannot be one (no close date, a
    negative or absurd amount). An open opportunity without an Amount is a deal of 0: it is
    in the pipeline and counts nothing until someone prices it."""
    try:
        amount = Decimal(str(row["Amount"])) if row.get("Amount") is not None else Decimal(0)
    except (InvalidOperation, TypeError, ValueError):
        return "Amount", _("The amount %(amount)s is not a number.") % {"amount": row["Amount"]}
    if amount < 0:
        return "Amount", _("The amount cannot be negative.")
    if amount > MAX_AMOUNT:
        return "Amount", _("Amounts are limited to 9,999,999,999,999.99.")
    try:
        close_date = date.fromisoformat(row["CloseDate"])
    except (KeyError, TypeError, ValueError):
        return "CloseDate", _("The opportunity has no close date (YYYY-MM-DD).")
    account = ((row.get("Account") or {}).get("Name") or row.get("AccountId") or "—")[:200]
    return DealRecord(
        external_id=row["Id"],
        account=account,
        owner_id=owner_id,
        amount=amount,
        close_date=close_date,
        won=bool(row.get("IsWon")),
        stage=str(row.get("StageName") or "")[:60],
        source_modified_at=parse_datetime(row["SystemModstamp"]),
    )
