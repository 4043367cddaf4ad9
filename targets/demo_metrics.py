"""The demo company's process metrics (SPEC §1): key-account follow-up frequency, derived
from synced activities, and the opportunity conversion cycle, imported weekly — 13 weeks for
every demo rep, the same numbers on every run. A few reps fell behind on follow-ups last
week, so the key metric has open alerts. Running it again adds nothing new."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from targets.models import Metric, MetricValue, Role, User
from targets.periods import IsoWeek
from targets.services.metrics import (
    DERIVED_WEEKS,
    ActivityRecord,
    ValueRow,
    activities_bulk_upsert,
    metric_create,
    metric_values_bulk_upsert,
    metric_values_derive,
)

FOLLOW_UPS = "key_account_follow_ups"
CYCLE = "opportunity_cycle"
# Reps whose key-account follow-ups dropped last week (alert) or slipped (warning).
BEHIND = {"rep003": 1, "rep014": 2, "rep027": 3}
SLIPPING = {"rep041": 4}
SEED = 20250520

DEFINITIONS = {
    FOLLOW_UPS: {
        "code": FOLLOW_UPS,
        "name": "大客户跟进频次",
        "name_en": "Key-account follow-up frequency",
        "category": "customer",
        "unit": "count",
        "aggregation": "sum",
        "direction": "higher",
        "weekly_plan": Decimal(5),
        "key": True,
        "warn_at": Decimal(20),
        "alert_at": Decimal(40),
        "derivation": "count",
        "record_type": "activities",
        "filters": [
            {"field": "completed", "op": "eq", "value": True},
            {"field": "key_account", "op": "eq", "value": True},
        ],
    },
    CYCLE: {
        "code": CYCLE,
        "name": "商机转化周期",
        "name_en": "Opportunity conversion cycle",
        "category": "process",
        "unit": "days",
        "aggregation": "avg",
        "direction": "lower",
        "weekly_plan": Decimal(45),
        "key": False,
        "warn_at": Decimal(20),
        "alert_at": Decimal(40),
    },
}


@dataclass(frozen=True)
class DemoMetrics:
    metrics: int
    activities: int
    values: int


def _demo_reps() -> list[User]:
    return list(
        User.objects.filter(
            username__startswith="rep", role_assignments__role=Role.REP, is_active=True
        )
        .distinct()
        .order_by("username")
    )


@transaction.atomic
def demo_metrics_seed(*, today: date) -> DemoMetrics:
    metrics = {}
    for code, fields in DEFINITIONS.items():
        metrics[code] = Metric.objects.filter(code=code).first() or metric_create(fields=fields)
    reps = _demo_reps()
    rng = random.Random(SEED)
    last_week = IsoWeek.of(today).previous()
    weeks = [IsoWeek.of(last_week.start - timedelta(weeks=i)) for i in range(DERIVED_WEEKS - 1)]
    activities: list[ActivityRecord] = []
    cycle: list[ValueRow] = []
    for rep in reps:
        pace = rng.choice((5, 6, 6, 7, 8))
        for week in weeks:
            if week == last_week and rep.username in BEHIND:
                done = BEHIND[rep.username]
            elif week == last_week and rep.username in SLIPPING:
                done = SLIPPING[rep.username]
            else:
                done = max(5, pace + rng.randint(-2, 2))
            # Plus a few follow-ups that do not count: not completed, or not a key account.
            for n in range(done + 2):
                day = week.start + timedelta(days=rng.randint(0, 4))
                activities.append(
                    ActivityRecord(
                        external_id=f"DEMO-{rep.username}-{week.label}-{n}",
                        owner_id=rep.pk,
                        occurred_on=day,
                        kind=rng.choice(("visit", "call", "meeting")),
                        account=f"重点客户{rng.randint(1, 40):02d}",
                        completed=n != done,
                        key_account=n != done + 1,
                    )
                )
            days = Decimal(rng.randint(28, 58))
            cycle.append(ValueRow(metrics[CYCLE].pk, rep.pk, week, days))
    activities_bulk_upsert(source="salesforce", records=activities)
    metric_values_bulk_upsert(rows=cycle, source="import")
    metric_values_derive(metrics=[metrics[FOLLOW_UPS]], today=today)
    return DemoMetrics(
        metrics=len(metrics),
        activities=len(activities),
        values=MetricValue.objects.filter(metric__in=list(metrics.values())).count(),
    )
