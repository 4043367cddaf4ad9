"""Notices and alerts. Every notice is written to the in-app inbox; delivery channels
(e-mail now, DingTalk later) deliver from those rows after the transaction commits, each on
its own, so a failing channel never holds up the inbox or the recompute."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.delivery import deliveries_queue
from alerts.models import (
    RULE_DEFAULTS,
    Alert,
    AlertKind,
    AlertRule,
    AlertState,
    Notification,
    NotificationKind,
)
from targets.errors import StateConflict, field_error
from targets.figures import Status
from targets.models import FigureSnapshot, OrgUnitClosure, Role, Target, User


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    actor: User | None = None,
    target: Target | None = None,
    subject_id: int | None = None,
    note: str = "",
) -> list[Notification]:
    """Write one notice per distinct recipient (never to the actor themself)."""
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user.pk in seen or (actor is not None and user.pk == actor.pk):
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                recipient=user,
                kind=kind,
                actor=actor,
                target=target,
                subject_id=subject_id,
                note=note,
            )
        )
    with transaction.atomic():
        created = Notification.objects.bulk_create(rows)
        _deliver_after_commit(created)
    return created


def notify_each(
    *, kind: str, notices: Iterable[tuple[Iterable[User], Target | None, int | None]]
) -> list[Notification]:
    """`notify` for many subjects at once — (recipients, target, subject id) each — in one
    insert, so a run that opens thousands of cases costs a fixed number of statements."""
    rows = []
    for recipients, target, subject_id in notices:
        seen: set[int] = set()
        for user in recipients:
            if user.pk in seen:
                continue
            seen.add(user.pk)
            rows.append(
                Notification(recipient=user, kind=kind, target=target, subject_id=subject_id)
            )
    with transaction.atomic():
        created = Notification.objects.bulk_create(rows)
        _deliver_after_commit(created)
    return created


def _deliver_after_commit(notifications: Sequence[Notification]) -> None:
    """Queue each channel the recipients want, once the notices are committed."""
    deliveries_queue([n.pk for n in notifications if n.pk])


def notification_mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one notice (or all of the user's) read; returns how many changed."""
    notices = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        notices = notices.filter(pk=notification_id)
    return notices.update(read_at=timezone.now())


# Rules ---------------------------------------------------------------------------------


def alert_rule_get(*, kind: str) -> AlertRule:
    rule, _created = AlertRule.objects.get_or_create(kind=kind, defaults=RULE_DEFAULTS[kind])
    return rule


def alert_rule_update(
    *,
    rule: AlertRule,
    enabled: bool,
    thresholds: dict,
    to_owner: bool,
    to_manager: bool,
    to_hrbp: bool,
    to_director: bool,
) -> AlertRule:
    alert_rule_validate_thresholds(thresholds)
    rule.enabled = enabled
    rule.thresholds = thresholds
    rule.to_owner, rule.to_manager = to_owner, to_manager
    rule.to_hrbp, rule.to_director = to_hrbp, to_director
    rule.full_clean()
    rule.save()
    return rule


def alert_rule_validate_thresholds(thresholds) -> None:
    if not isinstance(thresholds, dict):
        raise field_error("thresholds", _("Thresholds are an object of names and numbers."))
    for name, value in thresholds.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise field_error(
                "thresholds", _("Threshold %(name)s must be a number ≥ 0.") % {"name": name}
            )


# Raising -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """One condition that holds now; `key` names it so it is raised once until resolved."""

    key: str
    target_id: int | None
    details: dict
    connection_id: int | None = None
    # A metric_threshold condition names the metric and the rep instead of a target.
    metric_id: int | None = None
    user_id: int | None = None


_RANK = {Status.GREEN: 0, Status.YELLOW: 1, Status.RED: 2}


def _rank(field: str) -> Case:
    return Case(
        *(When(**{field: status}, then=Value(rank)) for status, rank in _RANK.items()),
        default=Value(-1),
        output_field=IntegerField(),
    )


def alerts_evaluate_status(*, period: str) -> int:
    """Raise `status_worse` for every stored target of `period` whose status got worse
    than at the previous recompute (green → yellow, green/yellow → red). One query finds
    them; no previous status (a new target, a new quarter) raises nothing."""
    rule = alert_rule_get(kind=AlertKind.STATUS_WORSE)
    if not rule.enabled:
        return 0
    worse = (
        FigureSnapshot.objects.filter(period=period)
        .exclude(previous_status="")
        .exclude(status="")
        .alias(now_rank=_rank("status"), before_rank=_rank("previous_status"))
        .filter(now_rank__gt=F("before_rank"), before_rank__gte=0)
        .values_list("target_id", "previous_status", "status", "pace", "completion", "as_of")
    )
    conditions = [
        Condition(
            key=f"status_worse:{target_id}:{now}",
            target_id=target_id,
            details={
                "from": before,
                "to": now,
                "pace": None if pace is None else str(pace),
                "completion": None if completion is None else str(completion),
                "as_of": as_of.isoformat(),
            },
        )
        for target_id, before, now, pace, completion, as_of in worse
    ]
    return alerts_raise(kind=AlertKind.STATUS_WORSE, conditions=conditions, rule=rule)


def alerts_raise_for_cases(*, cases: Sequence) -> int:
    """An adjustment case opened (SPEC §6/§7): one alert per case."""
    return alerts_raise(
        kind=AlertKind.CASE_OPENED,
        conditions=[
            Condition(
                key=f"case_opened:{case.pk}",
                target_id=case.target_id,
                details={"case": case.pk, "indicator": case.indicator},
            )
            for case in cases
        ],
    )


def alerts_raise(
    *,
    kind: str,
    conditions: Sequence[Condition],
    rule: AlertRule | None = None,
    at: datetime | None = None,
) -> int:
    """Raise an alert for each condition not already unresolved; returns how many are new.

    The insert skips conditions whose alert is still open or acknowledged (the partial
    unique constraint on the key), so repeats and concurrent evaluations raise nothing;
    the notices are then claimed by `notified_at` under a row lock, exactly once.
    """
    rule = rule or alert_rule_get(kind=kind)
    if not rule.enabled or not conditions:
        return 0
    now = at or timezone.now()
    with transaction.atomic():
        # No batch_size here nor for the notices: one insert on PostgreSQL however many
        # (Django still splits where a backend needs it, e.g. SQLite's parameter limit).
        Alert.objects.bulk_create(
            [
                Alert(
                    kind=kind,
                    target_id=c.target_id,
                    connection_id=c.connection_id,
                    metric_id=c.metric_id,
                    user_id=c.user_id,
                    dedupe_key=c.key,
                    details=c.details,
                    created_at=now,
                )
                for c in conditions
            ],
            ignore_conflicts=True,
        )
        fresh = list(
            Alert.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(kind=kind, notified_at__isnull=True)
            .exclude(state=AlertState.RESOLVED)
            .select_related("target", "target__owner_user", "user")
        )
        if not fresh:
            return 0
        Alert.objects.filter(pk__in=[a.pk for a in fresh]).update(notified_at=now)
        _notify_alerts(fresh, rule)
    return len(fresh)


def _notify_alerts(alerts: Sequence[Alert], rule: AlertRule) -> None:
    recipients = _recipients([a.target for a in alerts if a.target is not None], rule)
    rep_recipients = _rep_recipients([a.user for a in alerts if a.user is not None], rule)
    about_nothing = (
        _recipients_for_connections(rule)
        if any(a.target_id is None and a.user_id is None for a in alerts)
        else set()
    )

    def told(alert: Alert) -> Iterable[int]:
        if alert.target_id is not None:
            return sorted(recipients.get(alert.target_id, ()))
        if alert.user_id is not None:
            return sorted(rep_recipients.get(alert.user_id, ()))
        return sorted(about_nothing)

    rows = [
        Notification(
            recipient_id=user_id,
            kind=NotificationKind.ALERT,
            target_id=alert.target_id,
            subject_id=alert.pk,
            alert=alert,
        )
        for alert in alerts
        for user_id in told(alert)
    ]
    _deliver_after_commit(Notification.objects.bulk_create(rows))


def _recipients_for_connections(rule: AlertRule) -> set[int]:
    """A connection belongs to no unit: its alerts go to the admins, who configure it, and
    to every holder of the roles the rule names."""
    roles = [Role.ADMIN]
    roles += [Role.SALES_DIRECTOR] if rule.to_director else []
    roles += [Role.HRBP] if rule.to_hrbp else []
    roles += [Role.SALES_MANAGER] if rule.to_manager else []
    return set(
        User.objects.filter(is_active=True, role_assignments__role__in=roles)
        .values_list("pk", flat=True)
        .distinct()
    )


def _rep_recipients(reps: Sequence[User], rule: AlertRule) -> dict[int, set[int]]:
    """{rep id: user ids} for alerts about a rep rather than a target (a metric's week):
    the rep as owner, and the rule's roles over the rep's team."""
    return _recipients_by_owner({rep.pk: (rep.pk, rep.team_id) for rep in reps}, rule)


def _recipients(targets: Sequence[Target], rule: AlertRule) -> dict[int, set[int]]:
    """{target id: user ids} per the rule's flags: the owner (a rep), and the managers,
    HRBPs and sales directors over the owner's unit (for a rep, their team)."""
    return _recipients_by_owner(
        {
            target.pk: (
                target.owner_user_id,
                target.owner_unit_id
                or (target.owner_user.team_id if target.owner_user_id else None),
            )
            for target in targets
        },
        rule,
    )


def _recipients_by_owner(
    owners: dict[int, tuple[int | None, int | None]], rule: AlertRule
) -> dict[int, set[int]]:
    """{key: user ids} for subjects given as key → (owner rep or None, their unit)."""
    result: dict[int, set[int]] = defaultdict(set)
    roles = [
        role
        for role, wanted in (
            (Role.SALES_MANAGER, rule.to_manager),
            (Role.HRBP, rule.to_hrbp),
            (Role.SALES_DIRECTOR, rule.to_director),
        )
        if wanted
    ]
    unit_of: dict[int, int | None] = {}
    for key, (owner_id, unit_id) in owners.items():
        if rule.to_owner and owner_id:
            result[key].add(owner_id)
        unit_of[key] = unit_id
    if not roles:
        return result
    units = {u for u in unit_of.values() if u is not None}
    above: dict[int, set[int]] = defaultdict(set)
    for ancestor, descendant in OrgUnitClosure.objects.filter(descendant__in=units).values_list(
        "ancestor", "descendant"
    ):
        above[descendant].add(ancestor)
    holders: dict[int, set[int]] = defaultdict(set)
    for user_id, unit_id in (
        User.objects.filter(
            is_active=True,
            role_assignments__role__in=roles,
            role_assignments__unit__in={a for s in above.values() for a in s},
        )
        .values_list("pk", "role_assignments__unit")
        .distinct()
    ):
        holders[unit_id].add(user_id)
    for target_id, unit in unit_of.items():
        for ancestor in above.get(unit, ()):
            result[target_id] |= holders.get(ancestor, set())
    return result


# Handling ------------------------------------------------------------------------------


def alert_acknowledge(*, alert: Alert, user: User, at: datetime | None = None) -> Alert:
    """open → acknowledged, claimed once (a second click is told so: 409)."""
    claimed = Alert.objects.filter(pk=alert.pk, state=AlertState.OPEN).update(
        state=AlertState.ACKNOWLEDGED, acknowledged_at=at or timezone.now(), acknowledged_by=user
    )
    if not claimed:
        raise StateConflict(_("This alert is not open: it was acknowledged or resolved already."))
    alert.refresh_from_db()
    return alert


def alert_resolve(*, alert: Alert, user: User, at: datetime | None = None) -> Alert:
    """open or acknowledged → resolved; the same condition may then raise a new alert.
    Resolving an open alert counts as acknowledging it at the same moment."""
    now = at or timezone.now()
    with transaction.atomic():
        claimed = (
            Alert.objects.filter(pk=alert.pk)
            .exclude(state=AlertState.RESOLVED)
            .update(state=AlertState.RESOLVED, resolved_at=now, resolved_by=user)
        )
        if not claimed:
            raise StateConflict(_("This alert is resolved already."))
        Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now, acknowledged_by=user
        )
    alert.refresh_from_db()
    return alert
