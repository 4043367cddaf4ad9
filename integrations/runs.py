"""Sync runs: one per connection at a time, resumable, with an attempt cap.

A run holds its connection's lease (`SyncState.lease_run` / `lease_until`), claimed with a
conditional UPDATE, so two workers (or a worker and the API) racing for one connection
cannot both start: the loser gets StateConflict (409 from the API, a logged no-op in a
worker). The lease is renewed in every page's transaction and fences the writes: a run that
lost it rolls its page back. A worker killed mid-run stops renewing; after
`SYNC_LEASE_SECONDS` the next run takes over at the committed watermark and closes the dead
run's log as interrupted.

Celery delivers at least once (`acks_late`): a message redelivered after its worker died
finds its run again by task id, and each delivery counts an attempt; past
`SYNC_MAX_ATTEMPTS` the run is given up, so a message that kills its worker cannot loop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.errors import StateConflict, ValidationError, field_error
from targets.models import User

from .erp.client import ErpClient, ErpError
from .erp.sync import erp_sync
from .lease import LeaseLost, lease_release, lease_until
from .models import Connection, ConnectionKind, RunKind, SyncRun, SyncState
from .salesforce.client import SalesforceClient, SalesforceError
from .salesforce.sync import salesforce_sync
from .services import run_finish

logger = logging.getLogger(__name__)

PULLED_KINDS = (ConnectionKind.SALESFORCE, ConnectionKind.ERP)


def _free_or_lapsed() -> Q:
    return Q(lease_run__isnull=True) | Q(lease_until__lt=timezone.now())


def _busy() -> StateConflict:
    return StateConflict(_("A sync of this connection is running; try again when it ends."))


def connection_for_sync(*, connection_id: int) -> Connection:
    """The connection a run may start for, or a 400 naming why not."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        raise field_error("connection", _("No such connection."))
    if connection.kind not in PULLED_KINDS:
        raise field_error("connection", _("Only Salesforce and ERP connections are pulled."))
    if not connection.enabled:
        raise field_error("connection", _("The connection is disabled."))
    return connection


@transaction.atomic
def run_claim(
    *, connection: Connection, started_by: User | None = None, task_id: str = ""
) -> SyncRun:
    """Start a run holding the connection's lease, or raise StateConflict if one runs."""
    SyncState.objects.get_or_create(connection=connection)
    run = SyncRun.objects.create(
        kind=RunKind.SYNC,
        source=connection.source,
        connection=connection,
        started_by=started_by,
        task_id=task_id,
    )
    if not _take_lease(connection=connection, run=run):
        raise _busy()  # the atomic block takes the run back out
    return run


def _take_lease(*, connection: Connection, run: SyncRun) -> bool:
    state = SyncState.objects.select_for_update().get(connection=connection)
    previous = state.lease_run_id
    taken = (
        SyncState.objects.filter(connection=connection)
        .filter(_free_or_lapsed() | Q(lease_run=run))
        .update(lease_run=run, lease_until=lease_until())
    )
    if taken and previous not in (None, run.pk):
        # Its worker died (or hung) holding the lease: close its log for the reader.
        SyncRun.objects.filter(pk=previous, finished_at__isnull=True).update(
            finished_at=timezone.now(),
            error=_("Interrupted (the worker stopped); the next run resumed."),
        )
    return bool(taken)


@dataclass(frozen=True)
class TaskOutcome:
    status: str  # "finished", "busy", "gave_up", "gone"
    run_id: int | None = None

    def as_dict(self) -> dict:
        return {"status": self.status, "run": self.run_id}


def run_task(*, connection_id: int, run_id: int | None, task_id: str) -> TaskOutcome:
    """What a worker does with one delivery of `sync_connection`."""
    try:
        connection = connection_for_sync(connection_id=connection_id)
    except ValidationError as refusal:
        # Disabled or deleted since the run was queued: close its log, free the connection.
        queued = SyncRun.objects.filter(pk=run_id, finished_at__isnull=True).first()
        if queued is not None:
            _finish(queued, error=" ".join(refusal.messages))
        return TaskOutcome("gone", run_id)
    run = None
    if run_id is not None:
        run = SyncRun.objects.filter(pk=run_id, connection=connection).first()
    elif task_id:
        run = SyncRun.objects.filter(task_id=task_id, connection=connection).first()
    if run is not None:
        if run.finished_at is not None:
            return TaskOutcome("finished", run.pk)  # a redelivery of a run that completed
        with transaction.atomic():
            if not _take_lease(connection=connection, run=run):
                logger.info(
                    "Sync of connection %s is running; run %s waits.", connection.pk, run.pk
                )
                return TaskOutcome("busy", run.pk)
    else:
        try:
            run = run_claim(connection=connection, task_id=task_id)
        except StateConflict:
            logger.info("Sync of connection %s is running; this delivery ends.", connection.pk)
            return TaskOutcome("busy")
    SyncRun.objects.filter(pk=run.pk).update(attempts=F("attempts") + 1)
    run.refresh_from_db()
    if run.attempts > settings.SYNC_MAX_ATTEMPTS:
        _finish(
            run,
            error=_("Given up after %(n)s attempts (each one stopped its worker).")
            % {"n": run.attempts - 1},
        )
        return TaskOutcome("gave_up", run.pk)
    run_execute(connection=connection, run=run)
    return TaskOutcome("finished", run.pk)


def run_execute(*, connection: Connection, run: SyncRun) -> SyncRun:
    """Pull, log the outcome, let go of the lease. A failure keeps what was committed."""
    error = ""
    try:
        if connection.kind == ConnectionKind.SALESFORCE:
            salesforce_sync(
                connection=connection, run=run, client=SalesforceClient.from_connection(connection)
            )
        else:
            erp_sync(connection=connection, run=run, client=ErpClient.from_connection(connection))
    except (SalesforceError, ErpError, LeaseLost) as failure:
        error = str(failure)
    except SoftTimeLimitExceeded:
        error = _("Stopped at the time limit; the next run resumes from what was committed.")
    except Exception as failure:  # the run log must say it failed, whatever the cause
        logger.exception("Sync of connection %s failed", connection.pk)
        error = f"{type(failure).__name__}: {failure}"
    return _finish(run, error=error)


def _finish(run: SyncRun, *, error: str) -> SyncRun:
    run.refresh_from_db()
    run = run_finish(
        run=run,
        fetched=run.fetched,
        failed=run.failed,
        unmapped_owners=run.unmapped_owners,
        error=error,
    )
    lease_release(run=run)
    return run


def _impatient(client):
    # Someone is waiting at a button: one try, a short timeout, no backoff.
    client.backoff.max_retries = 0
    client.timeout = min(client.timeout, TEST_TIMEOUT_SECONDS)
    return client


TEST_TIMEOUT_SECONDS = 10


def connection_test(*, connection: Connection) -> tuple[bool, str]:
    """The cheapest call that proves the settings work; nothing is written."""
    try:
        if connection.kind == ConnectionKind.SALESFORCE:
            usage = _impatient(SalesforceClient.from_connection(connection)).check()
            if usage:
                return True, _("Connected. API calls used today: %(usage)s.") % {"usage": usage}
            return True, _("Connected.")
        if connection.kind == ConnectionKind.ERP:
            rows = _impatient(ErpClient.from_connection(connection)).check()
            return True, _("Connected. The first page has %(n)s rows.") % {"n": rows}
    except (SalesforceError, ErpError) as failure:
        return False, str(failure)
    except Exception as failure:  # a bad URL or setting: say so, never a 500
        return False, f"{type(failure).__name__}: {failure}"
    return False, _("Only Salesforce and ERP connections can be tested.")


def run_request(*, connection_id: int, started_by: User | None) -> SyncRun:
    """Claim a run now (409 if one is running) and hand it to a worker once committed."""
    connection = connection_for_sync(connection_id=connection_id)
    run = run_claim(connection=connection, started_by=started_by)
    transaction.on_commit(lambda: _send(run))
    return run


def _send(run: SyncRun) -> None:
    from .tasks import sync_connection

    try:
        sync_connection.apply_async(kwargs={"connection_id": run.connection_id, "run_id": run.pk})
    except Exception as failure:  # the broker is down: the run must not hold the lease
        logger.exception("Could not queue run %s", run.pk)
        _finish(run, error=_("Could not queue the run: %(error)s") % {"error": failure})
