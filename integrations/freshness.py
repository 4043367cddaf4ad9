"""Data freshness (issue 7 §1): how old the actuals of each enabled connection are, for the
header of every dashboard — "Salesforce: 3 分钟前 · ERP: 2 小时前失败".

Offered to templates by a context processor, lazily and once per request: a page that does
not show it costs nothing, one that does costs one statement. The core's templates read the
optional `data_freshness` variable; the core imports nothing from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Connection, ConnectionKind, SyncRun

STALE_AFTER = timedelta(hours=24)
# The kinds that bring actuals; DingTalk carries approvals and notices, not data.
DATA_KINDS = (ConnectionKind.SALESFORCE, ConnectionKind.ERP, ConnectionKind.WEBHOOK)


def ago(moment: datetime, now: datetime) -> str:
    """'3 min ago' / '3 分钟前': minutes under an hour, hours under two days, then days."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return _("just now")
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("%(n)s min ago", "%(n)s min ago", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(n)s h ago", "%(n)s h ago", hours) % {"n": hours}
    days = hours // 24
    return ngettext("%(n)s day ago", "%(n)s days ago", days) % {"n": days}


@dataclass(frozen=True)
class Freshness:
    connection_id: int
    name: str
    text: str  # "3 min ago", "failed 2 h ago", "never synced"
    failed: bool
    stale: bool
    last_success_at: datetime | None
    last_error: str

    @property
    def alarming(self) -> bool:
        return self.failed or self.stale


def data_freshness(*, now: datetime | None = None) -> list[Freshness]:
    """Every enabled data connection with its last success or failure, in one statement."""
    now = now or timezone.now()
    failed_at = Subquery(
        SyncRun.objects.filter(connection=OuterRef("pk"))
        .exclude(error="")
        .order_by("-started_at", "-pk")
        .values("finished_at")[:1]
    )
    rows = (
        Connection.objects.filter(enabled=True, kind__in=DATA_KINDS)
        .annotate(failed_at=failed_at)
        .order_by("name", "pk")
        .values_list("pk", "name", "last_success_at", "last_error", "failed_at")
    )
    result = []
    for pk, name, success_at, error, failed_at_value in rows:
        failed = bool(error)
        stale = success_at is None or now - success_at > STALE_AFTER
        if failed:
            text = (
                _("failed %(when)s") % {"when": ago(failed_at_value, now)}
                if failed_at_value
                else _("failed")
            )
        elif success_at is None:
            text = _("no data yet")
        else:
            text = ago(success_at, now)
        result.append(Freshness(pk, name, text, failed, stale, success_at, error))
    return result


def freshness_context(request) -> dict:
    """Context processor: `data_freshness`, evaluated only when a template reads it."""

    def load() -> list[Freshness]:
        cached = getattr(request, "_data_freshness", None)
        if cached is None:
            user = getattr(request, "user", None)
            cached = data_freshness() if user is not None and user.is_authenticated else []
            request._data_freshness = cached
        return cached

    return {"data_freshness": SimpleLazyObject(load)}
