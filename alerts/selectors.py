"""Reads for the inbox and the alert summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from alerts.models import Alert, AlertState, Notification
from targets.models import User
from targets.periods import Quarter


@dataclass(frozen=True)
class AlertSummary:
    period: str
    open: int
    acknowledged: int
    resolved: int
    same_day_share: Decimal | None


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def alert_summary(*, alerts: QuerySet[Alert], quarter: Quarter) -> AlertSummary:
    """Alerts raised in the quarter (company time) by state, and the share acknowledged on
    the day they were raised ("当日处理"), over all raised; None when none were raised."""
    tz = timezone.get_current_timezone()
    raised = alerts.filter(
        created_at__gte=_day_start(quarter.start),
        created_at__lt=_day_start(quarter.end) + timedelta(days=1),
    )
    counts = raised.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(state=AlertState.OPEN)),
        acknowledged=Count("pk", filter=Q(state=AlertState.ACKNOWLEDGED)),
        resolved=Count("pk", filter=Q(state=AlertState.RESOLVED)),
    )
    same_day = (
        raised.filter(acknowledged_at__isnull=False)
        .annotate(
            raised_on=TruncDate("created_at", tzinfo=tz),
            acknowledged_on=TruncDate("acknowledged_at", tzinfo=tz),
        )
        .filter(raised_on=F("acknowledged_on"))
        .count()
    )
    total = counts["total"]
    share = (
        None if not total else (Decimal(same_day * 100) / Decimal(total)).quantize(Decimal("0.1"))
    )
    return AlertSummary(
        period=quarter.label,
        open=counts["open"],
        acknowledged=counts["acknowledged"],
        resolved=counts["resolved"],
        same_day_share=share,
    )


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def inbox_for(user: User, *, limit: int = 100) -> list[Notification]:
    return list(
        Notification.objects.filter(recipient=user)
        .select_related(
            "actor",
            "target",
            "target__owner_user",
            "target__owner_unit",
            "alert",
            "alert__connection",
            "alert__metric",
            "alert__user",
        )
        .order_by("-created_at", "-pk")[:limit]
    )
