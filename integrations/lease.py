"""A connection's lease: who may pull it now (see runs.py for how it is claimed).

Renewed inside every batch's transaction, it also fences the writes: a run whose lease
lapsed and was taken over rolls its batch back instead of writing beside the new run.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import SyncRun, SyncState


class LeaseLost(Exception):
    """Another run took the connection over (ours lapsed): write nothing more."""


def lease_until():
    return timezone.now() + timedelta(seconds=settings.SYNC_LEASE_SECONDS)


def lease_renew(*, run: SyncRun) -> bool:
    return bool(
        SyncState.objects.filter(connection_id=run.connection_id, lease_run=run).update(
            lease_until=lease_until()
        )
    )


def lease_keep(*, run: SyncRun) -> None:
    """Inside a batch's transaction: keep the lease, or roll the batch back if it is gone."""
    if not lease_renew(run=run):
        raise LeaseLost(_("Another run took this connection over; this one stopped."))


def lease_release(*, run: SyncRun) -> None:
    SyncState.objects.filter(connection_id=run.connection_id, lease_run=run).update(
        lease_run=None, lease_until=None
    )
