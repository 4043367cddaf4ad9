"""The demo company's alerts: one in every state, so the inbox and the same-day share
(当日处理) have real content. Raised and handled through the same services as real ones,
on the reps whose status is worst today; idempotent (demo alerts are marked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from alerts.models import Alert, AlertKind, Notification
from alerts.services import Condition, alert_acknowledge, alert_resolve, alerts_raise
from targets.demo import COMPANY_NAME
from targets.figures import Status, figures_for
from targets.models import OrgUnit, Target, User
from targets.periods import Quarter

# (days before today it was raised, hour; what happened to it: None = still open,
#  ("ack", days later, hour), ("resolve", days later, hour) — acknowledged first, same day)
PLAN = (
    (0, 9, None),
    (1, 15, None),
    (2, 10, ("ack", 0, 14)),
    (3, 16, ("ack", 1, 10)),
    (6, 11, ("resolve", 2, 17)),
)


_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class AlertsDemo:
    created: int
    alerts: int


def _at(day: date, hour: int) -> datetime:
    # Never in the future: seeding early in the morning puts today's alert just before now.
    return min(
        timezone.make_aware(datetime.combine(day, time(hour))),
        timezone.now() - timedelta(minutes=30),
    )


@transaction.atomic
def demo_alerts_seed(*, today: date) -> AlertsDemo:
    company = OrgUnit.objects.filter(name=COMPANY_NAME, parent__isnull=True).first()
    if company is None:
        return AlertsDemo(0, 0)
    demo = Alert.objects.filter(target__company=company, details__demo=True)
    if demo.exists():
        return AlertsDemo(0, demo.count())
    reps = list(
        Target.objects.filter(
            company=company, period=Quarter.of(today).label, owner_user__isnull=False
        ).select_related("owner_user")
    )
    figures = figures_for(reps, as_of=today)
    worst = sorted(
        (t for t in reps if figures[t.pk].status in (Status.RED, Status.YELLOW)),
        # rep001 (the demo rep login) first when behind, then the furthest behind.
        key=lambda t: (t.owner_user.username != "rep001", figures[t.pk].pace or 0),
    )[: len(PLAN)]
    created = 0
    for target, (days_ago, hour, outcome) in zip(worst, PLAN, strict=False):
        f = figures[target.pk]
        raised_at = _at(today - timedelta(days=days_ago), hour)
        before = Status.YELLOW if f.status == Status.RED else Status.GREEN
        created += alerts_raise(
            kind=AlertKind.STATUS_WORSE,
            at=raised_at,
            conditions=[
                Condition(
                    key=f"status_worse:{target.pk}:{f.status}",
                    target_id=target.pk,
                    details={
                        "from": before,
                        "to": f.status,
                        "pace": None if f.pace is None else str(f.pace.quantize(_PLACES)),
                        "completion": None
                        if f.completion is None
                        else str(f.completion.quantize(_PLACES)),
                        "as_of": today.isoformat(),
                        "demo": True,
                    },
                )
            ],
        )
        if outcome is None:
            continue
        alert = Alert.objects.get(dedupe_key=f"status_worse:{target.pk}:{f.status}", state="open")
        handler = _handler(alert)
        verb, days_later, at_hour = outcome
        handled_at = _at(raised_at.date() + timedelta(days=days_later), at_hour)
        if verb == "ack":
            alert_acknowledge(alert=alert, user=handler, at=handled_at)
        else:
            alert_acknowledge(alert=alert, user=handler, at=raised_at + timedelta(hours=2))
            alert_resolve(alert=alert, user=handler, at=handled_at)
    return AlertsDemo(created=created, alerts=demo.count())


def _handler(alert: Alert) -> User:
    """The manager told about it (someone other than the owner), else the owner."""
    told = (
        Notification.objects.filter(alert=alert)
        .exclude(recipient_id=alert.target.owner_user_id)
        .select_related("recipient")
        .order_by("pk")
        .first()
    )
    return told.recipient if told else alert.target.owner_user
