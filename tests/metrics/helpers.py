from __future__ import annotations

from decimal import Decimal

from django.test import TestCase

from targets.models import Metric, User
from targets.periods import IsoWeek
from targets.services import metrics as services
from targets.services.metrics import ValueRow


def make_metric(code: str = "follow_ups", **fields) -> Metric:
    defaults = {
        "code": code,
        "name": "大客户跟进频次",
        "name_en": "Key-account follow-ups",
        "category": "customer",
        "unit": "count",
        "aggregation": "sum",
        "direction": "higher",
        "weekly_plan": Decimal(10),
        "key": True,
        "warn_at": Decimal(20),
        "alert_at": Decimal(40),
    }
    return services.metric_create(fields={**defaults, **fields})


def cycle_metric(**fields) -> Metric:
    return make_metric(
        **{
            "code": "cycle",
            "name": "商机转化周期",
            "name_en": "Opportunity conversion cycle",
            "category": "process",
            "unit": "days",
            "aggregation": "avg",
            "direction": "lower",
            "weekly_plan": Decimal(30),
            **fields,
        }
    )


def put_values(metric: Metric, user: User, values: dict[str, str]) -> None:
    """Imported values (they count at once), week label → value; what follows the commit
    (threshold alerts, the recompute) runs as it would after a real one."""
    with committed():
        services.metric_values_bulk_upsert(
            rows=[
                ValueRow(metric.pk, user.pk, IsoWeek.parse(week), Decimal(value))
                for week, value in values.items()
            ],
            source="import",
        )


def committed():
    """Run on-commit callbacks at the end of the block, as a real commit would."""
    return TestCase.captureOnCommitCallbacks(execute=True)
