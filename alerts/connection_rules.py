"""Alerts about the connections actuals come from: a sync that failed, data gone stale.

Both are about a connection, not a target: the condition key names the connection, so a
connection has at most one unresolved alert of each kind. They resolve themselves when
the condition ends — a later successful run resolves `sync_failed`; a success within
the rule's hours resolves `data_stale` — and a condition that returns after that raises
a new alert. People may still acknowledge or resolve them by hand before.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from alerts.models import Alert, AlertKind, AlertState
from alerts.services import Condition, alert_rule_get, alerts_raise
from integrations.models import Connection, SyncRun


def _key(kind: str, connection_id: int) -> str:
    return f"{kind}:connection:{connection_id}"


def alerts_resolve_conditions(*, keys: list[str]) -> int:
    """The conditions ended: their unresolved alerts are resolved (by nobody: the system)."""
    return (
        Alert.objects.filter(dedupe_key__in=keys)
        .exclude(state=AlertState.RESOLVED)
        .update(state=AlertState.RESOLVED, resolved_at=timezone.now())
    )


def alerts_on_sync_finished(*, run: SyncRun) -> int:
    """A run of a connection ended: an error raises `sync_failed` (once until resolved);
    a success resolves the connection's `sync_failed` and `data_stale` alerts."""
    if run.connection_id is None:
        return 0
    if not run.error:
        return alerts_resolve_conditions(
            keys=[
                _key(AlertKind.SYNC_FAILED, run.connection_id),
                _key(AlertKind.DATA_STALE, run.connection_id),
            ]
        )
    condition = Condition(
        key=_key(AlertKind.SYNC_FAILED, run.connection_id),
        target_id=None,
        connection_id=run.connection_id,
        details={"run": run.pk, "error": run.error[:500]},
    )
    return alerts_raise(kind=AlertKind.SYNC_FAILED, conditions=[condition])


def alerts_evaluate_data_stale() -> int:
    """Every enabled connection without a success for the rule's hours (counted from its
    creation when it never succeeded) raises `data_stale`; one that is fresh again has its
    alert resolved. Two queries find both sides whatever the number of connections."""
    rule = alert_rule_get(kind=AlertKind.DATA_STALE)
    if not rule.enabled:
        return 0
    hours = rule.thresholds.get("hours", 24)
    since = timezone.now() - timedelta(hours=hours)
    stale_q = Q(last_success_at__lt=since) | Q(last_success_at__isnull=True, created_at__lt=since)
    stale = list(
        Connection.objects.filter(stale_q, enabled=True).values_list("pk", "last_success_at")
    )
    fresh_keys = [
        _key(AlertKind.DATA_STALE, pk)
        for pk in Connection.objects.exclude(stale_q & Q(enabled=True)).values_list("pk", flat=True)
    ]
    if fresh_keys:
        alerts_resolve_conditions(keys=fresh_keys)
    conditions = [
        Condition(
            key=_key(AlertKind.DATA_STALE, pk),
            target_id=None,
            connection_id=pk,
            details={
                "hours": hours,
                "last_success_at": None if last is None else last.isoformat(),
            },
        )
        for pk, last in stale
    ]
    return alerts_raise(kind=AlertKind.DATA_STALE, conditions=conditions, rule=rule)
