"""Signed inbound pushes of deals (SPEC §10): verify, refuse replays, write the good rows.

The signature is HMAC-SHA256(connection secret, timestamp + "." + raw body), sent as
`X-TargetPilot-Signature: sha256=<hex>` with `X-TargetPilot-Timestamp` (Unix seconds). A
push older than five minutes (or as far in the future), one whose signature was seen within
that window, or a bad signature is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.errors import field_error

from .models import FAILURES_KEPT, Connection, ConnectionKind, RunKind, SyncRun, WebhookSignature
from .records import RowError, check_rows
from .services import run_finish, run_start
from .upsert import deals_bulk_upsert

WINDOW = timedelta(minutes=5)
MAX_RECORDS = 10_000


class WebhookRefused(Exception):
    """Any failure to authenticate a push: the caller answers 401 and writes nothing."""


@dataclass
class PushResult:
    run: SyncRun
    rows: int
    created: int
    updated: int
    failed: int
    errors: list[dict[str, Any]] = field(default_factory=list)


def webhook_sign(*, secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_verify(
    *,
    connection: Connection,
    timestamp: str,
    signature: str,
    body: bytes,
    now: datetime | None = None,
) -> None:
    """Raise WebhookRefused unless the push is fresh, well signed and seen for the first time.

    The signature is claimed with an INSERT under a unique constraint, so two deliveries of
    one push racing each other cannot both pass.
    """
    now = now or timezone.now()
    secret = connection.secrets.get("secret")
    if connection.kind != ConnectionKind.WEBHOOK or not connection.enabled or not secret:
        raise WebhookRefused("connection")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise WebhookRefused("timestamp")
    sent = datetime.fromtimestamp(int(timestamp), tz=now.tzinfo)
    if abs(now - sent) > WINDOW:
        raise WebhookRefused("stale")
    given = signature.removeprefix("sha256=") if signature.startswith("sha256=") else ""
    expected = webhook_sign(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(given.lower(), expected):
        raise WebhookRefused("signature")
    WebhookSignature.objects.filter(connection=connection, received_at__lt=now - WINDOW).delete()
    try:
        with transaction.atomic():
            WebhookSignature.objects.create(connection=connection, signature=expected)
    except IntegrityError:
        raise WebhookRefused("replay") from None


def webhook_parse(body: bytes) -> list[Any]:
    """The records of a verified push, or a 400-shaped error."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise field_error("records", _("The body is not JSON.")) from None
    records = document.get("records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise field_error("records", _('Send {"records": [...]}.'))
    if len(records) > MAX_RECORDS:
        raise field_error(
            "records", _("At most %(n)s records per push.") % {"n": f"{MAX_RECORDS:,}"}
        )
    return records


def webhook_receive(*, connection: Connection, records: list[Any]) -> PushResult:
    """Write the good records of a verified push; report the bad ones per row (1-based).

    Pushes are at-least-once, so a bad row does not hold back the good ones: the sender
    fixes and pushes the bad ones again.
    """
    run = run_start(kind=RunKind.WEBHOOK, source=connection.source, connection=connection)
    errors: list[RowError] = []
    unmapped: list[str] = []
    not_objects = [
        RowError(i, "records", _("Each record must be an object."))
        for i, raw in enumerate(records, start=1)
        if not isinstance(raw, dict)
    ]
    rows = ((i, raw) for i, raw in enumerate(records, start=1) if isinstance(raw, dict))

    def good():
        for checked in check_rows(rows):
            if checked.record is None:
                errors.extend(checked.errors)
                if checked.unmapped_owner:
                    unmapped.append(checked.unmapped_owner)
            else:
                yield checked.record

    try:
        result = deals_bulk_upsert(source=connection.source, records=good(), run=run)
    except Exception as error:
        run_finish(run=run, fetched=len(records), failed=len(records), error=str(error))
        raise
    errors = sorted(not_objects + errors, key=lambda e: e.row)
    failed = len({e.row for e in errors})
    run_finish(
        run=run,
        fetched=len(records),
        failed=failed,
        unmapped_owners=unmapped,
        failures=[e.as_dict() for e in errors[:FAILURES_KEPT]],
    )
    return PushResult(
        run=run,
        rows=len(records),
        created=result.created,
        updated=result.updated,
        failed=failed,
        errors=[e.as_dict() for e in errors],
    )
