"""ERP invoices → deals (won, stage "invoiced"), page by page through the bulk upsert.

The connection's `fields` setting maps our names to the ERP's: `external_id`, `account`,
`owner` (an e-mail or a username), `amount`, `close_date` (the invoice date) and optionally
`modified_at`. Rows are checked like an import's (records.check_rows): a bad row is counted
as failed, an unknown owner is reported, neither stops the good rows.

With `modified_at` mapped and the ERP told how to filter (`modified_since_param`), runs are
incremental. An ERP promises no order, so the watermark (the latest `modified_at` seen)
moves only when a pass completes: a run stopped half-way is read again from the old
watermark, which the idempotent upsert makes harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime

from integrations.lease import lease_keep
from integrations.models import Connection, SyncRun, SyncState
from integrations.records import check_rows
from integrations.services import failures_kept
from integrations.upsert import deals_bulk_upsert
from targets.models import User

from .client import ErpClient

logger = logging.getLogger(__name__)

DEFAULT_FIELDS = {
    "external_id": "id",
    "account": "account",
    "owner": "owner",
    "amount": "amount",
    "close_date": "invoice_date",
}
STAGE = "invoiced"


def erp_sync(*, connection: Connection, run: SyncRun, client: ErpClient) -> None:
    state = SyncState.objects.get(connection=connection)
    fields = {**DEFAULT_FIELDS, **(connection.settings.get("fields") or {})}
    since = state.watermark.isoformat() if state.watermark else None
    newest = state.watermark
    row_number = 0
    for page in client.pages(modified_since=since):
        raw_rows = [_map(row, fields) for row in page]
        usernames = _usernames(raw_rows)
        numbered = []
        for raw in raw_rows:
            row_number += 1
            owner = raw.get("owner")
            if isinstance(owner, str) and owner.strip() in usernames:
                raw["owner"] = usernames[owner.strip()]
            numbered.append((row_number, raw))
            stamp = _stamp(raw.pop("modified_at", None))
            if stamp and (newest is None or stamp > newest):
                newest = stamp
        checked = list(check_rows(numbered))
        records = [c.record for c in checked if c.record is not None]
        bad = [c for c in checked if c.record is None]
        for c in bad[:20]:
            logger.warning("ERP row %s refused: %s", c.row, "; ".join(e.message for e in c.errors))
        with transaction.atomic():
            lease_keep(run=run)
            deals_bulk_upsert(source=connection.source, records=records, run=run)
            run.fetched += len(page)
            run.failed += len(bad)
            run.unmapped_owners = sorted(
                set(run.unmapped_owners) | {c.unmapped_owner for c in bad if c.unmapped_owner}
            )
            run.failures = failures_kept(run.failures, (e.as_dict() for c in bad for e in c.errors))
            SyncRun.objects.filter(pk=run.pk).update(
                fetched=run.fetched,
                failed=run.failed,
                unmapped_owners=run.unmapped_owners,
                failures=run.failures,
            )
    # The pass is complete (an empty page came): only now is everything up to `newest` in.
    if newest != state.watermark:
        with transaction.atomic():
            lease_keep(run=run)
            state.watermark = newest
            state.save(update_fields=["watermark"])


def _map(row: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    raw = {ours: row.get(theirs) for ours, theirs in fields.items() if theirs}
    raw["won"] = True  # an invoice is revenue already won
    raw["stage"] = STAGE
    return raw


def _usernames(rows: list[dict[str, Any]]) -> dict[str, int]:
    names = {
        r["owner"].strip()
        for r in rows
        if isinstance(r.get("owner"), str) and "@" not in r["owner"] and not r["owner"].isdigit()
    }
    if not names:
        return {}
    return dict(User.objects.filter(username__in=names).values_list("username", "pk"))


def _stamp(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(str(value))
    return parsed if parsed and parsed.tzinfo else None
