"""Writes of the integrations app: connections and the runs that bring deals in."""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import islice
from typing import Any

from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from targets.errors import ValidationError
from targets.models import User
from targets.tasks import recompute_figures

from .crypto import rotate
from .models import (
    FAILURES_KEPT,
    SALESFORCE_SOURCE_TAKEN,
    SECRET_SETTINGS,
    Connection,
    ConnectionKind,
    RunKind,
    SyncRun,
)
from .signals import sync_finished


def connection_split_settings(*, kind: str, settings: dict[str, Any]) -> tuple[dict, dict]:
    """The plain settings and the secrets among them, by the kind's list of secret names."""
    secret_names = SECRET_SETTINGS.get(kind, ())
    plain = {k: v for k, v in settings.items() if k not in secret_names}
    secrets = {k: v for k, v in settings.items() if k in secret_names}
    return plain, secrets


@transaction.atomic
def connection_save(
    *,
    connection: Connection | None = None,
    kind: str,
    name: str,
    source: str | None = None,
    enabled: bool = True,
    schedule_minutes: int = 15,
    settings: dict[str, Any] | None = None,
) -> Connection:
    """Create or change a connection. Secrets given in `settings` replace the stored ones
    (an empty value removes one); secrets not given are kept."""
    errors: dict[str, list[str]] = {}
    if kind not in ConnectionKind.values:
        errors["kind"] = [_("Unknown kind '%(kind)s'.") % {"kind": kind}]
    if not name.strip():
        errors["name"] = [_("Name the connection.")]
    if schedule_minutes < 1:
        errors["schedule_minutes"] = [_("Run at least once every so many minutes (1 or more).")]
    if connection is not None and connection.kind != kind:
        errors["kind"] = [_("The kind of a connection cannot change; create another one.")]
    if errors:
        raise ValidationError(errors)
    connection = connection or Connection(kind=kind)
    plain, secrets = connection_split_settings(kind=kind, settings=settings or {})
    if settings is not None:
        connection.settings = plain
    merged = {**connection.secrets, **secrets}
    connection.secrets = {k: v for k, v in merged.items() if v not in ("", None)}
    connection.name = name.strip()
    connection.source = source or _default_source(kind, connection)
    connection.enabled = enabled
    connection.schedule_minutes = schedule_minutes
    if kind == ConnectionKind.SALESFORCE and _salesforce_shares_source(connection):
        raise ValidationError({"source": [str(SALESFORCE_SOURCE_TAKEN)]})
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError:
        # Two admins adding one at the same moment: the database's constraint decides.
        raise ValidationError({"source": [str(SALESFORCE_SOURCE_TAKEN)]}) from None
    _schedule(connection)
    return connection


def _salesforce_shares_source(connection: Connection) -> bool:
    return (
        Connection.objects.filter(kind=ConnectionKind.SALESFORCE, source=connection.source)
        .exclude(pk=connection.pk)
        .exists()
    )


SYNC_TASK = "integrations.tasks.sync_connection"


def _schedule_name(connection_id: int) -> str:
    return f"sync-connection-{connection_id}"


def _schedule(connection: Connection) -> None:
    """Keep the connection's one periodic pull (django-celery-beat) in step with it."""
    if connection.kind not in (ConnectionKind.SALESFORCE, ConnectionKind.ERP):
        PeriodicTask.objects.filter(name=_schedule_name(connection.pk)).delete()
        return
    interval, _created = IntervalSchedule.objects.get_or_create(
        every=connection.schedule_minutes, period=IntervalSchedule.MINUTES
    )
    PeriodicTask.objects.update_or_create(
        name=_schedule_name(connection.pk),
        defaults={
            "task": SYNC_TASK,
            "interval": interval,
            "kwargs": json.dumps({"connection_id": connection.pk}),
            "enabled": connection.enabled,
        },
    )


def _default_source(kind: str, connection: Connection) -> str:
    if kind in (ConnectionKind.SALESFORCE, ConnectionKind.ERP):
        return kind
    return connection.source


@transaction.atomic
def connection_delete(*, connection: Connection) -> None:
    PeriodicTask.objects.filter(name=_schedule_name(connection.pk)).delete()
    connection.delete()


@transaction.atomic
def connection_secrets_rotate() -> int:
    """Re-encrypt every connection's stored secrets with the first configured key, without
    decrypting them into objects (rows locked, so a concurrent save is not lost)."""
    count = 0
    rows = Connection.objects.select_for_update().values_list("pk", flat=True)
    table = Connection._meta.db_table
    with db_connection.cursor() as cursor:
        for pk in rows:
            cursor.execute(f"SELECT secrets FROM {table} WHERE id = %s", [pk])
            (token,) = cursor.fetchone()
            if not token:
                continue
            cursor.execute(f"UPDATE {table} SET secrets = %s WHERE id = %s", [rotate(token), pk])
            count += 1
    return count


def run_start(
    *,
    kind: str,
    source: str,
    connection: Connection | None = None,
    started_by: User | None = None,
) -> SyncRun:
    if kind not in RunKind.values:
        raise ValueError(kind)
    return SyncRun.objects.create(
        kind=kind, source=source, connection=connection, started_by=started_by
    )


def run_finish(
    *,
    run: SyncRun,
    fetched: int,
    failed: int,
    unmapped_owners: list[str] | None = None,
    failures: list[dict[str, Any]] | None = None,
    error: str = "",
) -> SyncRun:
    """Close the run's log; when it wrote anything, recompute the figures (which announces
    `figures_recomputed`, where alerts listen) on a worker once the writes are committed, so
    a push or an upload does not wait for a whole quarter's figures. A connection remembers
    its last outcome."""
    run.fetched = fetched
    run.failed = failed
    run.unmapped_owners = sorted(set(unmapped_owners or []))
    if failures is not None:
        run.failures = failures[:FAILURES_KEPT]
    run.error = error
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "fetched",
            "failed",
            "unmapped_owners",
            "failures",
            "error",
            "finished_at",
            "created",
            "updated",
            "deleted",
        ]
    )
    if run.connection_id is not None:
        if error:
            Connection.objects.filter(pk=run.connection_id).update(last_error=error)
        else:
            Connection.objects.filter(pk=run.connection_id).update(
                last_success_at=run.finished_at, last_error=""
            )
    if run.created or run.updated or run.deleted:
        recompute_figures.delay_on_commit()
    # After commit: a receiver's failure (alerts) must not undo the run's log.
    transaction.on_commit(lambda: sync_finished.send_robust(sender=SyncRun, run=run))
    return run


def failures_kept(kept: list[dict[str, Any]], more: Iterable[dict[str, Any]]) -> list[dict]:
    """A run's failed rows so far and more of them: the first FAILURES_KEPT, so a run of a
    million bad rows keeps a readable log (its `failed` count has them all)."""
    return kept + list(islice(more, max(FAILURES_KEPT - len(kept), 0)))
