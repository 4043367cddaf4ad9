"""The demo company's connections: where its Salesforce and ERP deals say they came from, with
a run log each, so the dashboards show data freshness ("Salesforce: 3 min ago · ERP: failed
2 h ago") and the admin has a connection to open, test and edit. Their settings point at no
real system: a scheduled run fails until an admin enters real ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from targets.models import Deal

from .models import Connection, ConnectionKind, RunKind, SyncRun
from .services import connection_save, run_finish, run_start

DEMO_NAMES = ("Salesforce", "ERP")


@dataclass
class DemoConnections:
    created: int


@transaction.atomic
def demo_connections_seed(*, now: datetime) -> DemoConnections:
    if Connection.objects.filter(name__in=DEMO_NAMES).exists():
        return DemoConnections(created=0)
    salesforce = connection_save(
        kind=ConnectionKind.SALESFORCE,
        name="Salesforce",
        settings={"login_url": "https://login.salesforce.com", "api_version": "62.0"},
    )
    erp = connection_save(
        kind=ConnectionKind.ERP,
        name="ERP",
        settings={"url": "https://erp.example.invalid/api/invoices", "page_param": "page"},
    )
    _logged_run(salesforce, finished=now - timedelta(minutes=3), error="")
    _logged_run(
        erp,
        finished=now - timedelta(hours=2),
        error=_("Could not reach the ERP: connection refused."),
    )
    return DemoConnections(created=2)


def _logged_run(connection: Connection, *, finished: datetime, error: str) -> None:
    failures = [] if error else _demo_failures()
    fetched = Deal.objects.filter(source=connection.source).count() + len(failures)
    run = run_start(kind=RunKind.SYNC, source=connection.source, connection=connection)
    run_finish(
        run=run,
        fetched=0 if error else fetched,
        failed=len(failures),
        unmapped_owners=["005DEMO0000000001 <former.rep@example.com>"] if failures else [],
        failures=failures,
        error=error,
    )
    # The demo's history: as if the run had finished then, not now.
    SyncRun.objects.filter(pk=run.pk).update(
        started_at=finished - timedelta(seconds=40), finished_at=finished
    )
    if not error:  # run_finish recorded the error; the success time follows the run's
        Connection.objects.filter(pk=connection.pk).update(last_success_at=finished)


def _demo_failures() -> list[dict[str, str]]:
    """What a real org sends now and then: an owner who left, a credit note."""
    owner = "005DEMO0000000001 <former.rep@example.com>"
    return [
        {
            "id": "006DEMO0000000101",
            "field": "OwnerId",
            "message": _("No active rep for the owner %(owner)s.") % {"owner": owner},
        },
        {
            "id": "006DEMO0000000102",
            "field": "Amount",
            "message": _("The amount cannot be negative."),
        },
    ]
