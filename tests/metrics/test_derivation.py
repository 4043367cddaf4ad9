"""Derived metrics: count / duration / sum over synced records, grouped in SQL per metric."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from alerts.models import Alert
from targets.models import MetricValue
from targets.services.metrics import (
    ActivityRecord,
    activities_bulk_upsert,
    metric_values_derive,
)
from tests.factories import DealFactory
from tests.metrics.helpers import committed, make_metric

pytestmark = pytest.mark.django_db

TODAY = date(2025, 5, 21)  # a Wednesday of 2025-W21


def _follow_up_metric():
    return make_metric(
        derivation="count",
        record_type="activities",
        filters=[
            {"field": "completed", "op": "eq", "value": True},
            {"field": "key_account", "op": "eq", "value": "true"},
        ],
    )


def _activities(owner, day, n, **fields):
    return [
        ActivityRecord(
            external_id=f"{owner.username}-{day}-{i}-{fields}",
            owner_id=owner.pk,
            occurred_on=day,
            completed=fields.get("completed", True),
            key_account=fields.get("key_account", True),
        )
        for i in range(n)
    ]


def _values(metric):
    return {
        (v.user.username, v.week): v.value
        for v in MetricValue.objects.filter(metric=metric).select_related("user")
    }


def test_count_counts_matching_records_per_rep_and_week(org, django_assert_max_num_queries):
    metric = _follow_up_metric()
    activities_bulk_upsert(
        source="salesforce",
        records=[
            *_activities(org.alice, date(2025, 5, 19), 3),
            *_activities(org.alice, date(2025, 5, 12), 2),
            *_activities(org.alice, date(2025, 5, 20), 4, completed=False),
            *_activities(org.bob, date(2025, 5, 20), 1, key_account=False),
        ],
    )
    with django_assert_max_num_queries(8):
        metric_values_derive(metrics=[metric], today=TODAY)
    values = _values(metric)
    assert values[("alice", "2025-W21")] == 3
    assert values[("alice", "2025-W20")] == 2
    # No matching follow-up is a zero, not missing data, for every rep and week.
    assert values[("bob", "2025-W21")] == 0
    assert values[("dave", "2025-W09")] == 0
    assert MetricValue.objects.filter(metric=metric).count() == 4 * 13


def test_rederiving_follows_records_changed_at_the_source(org):
    metric = _follow_up_metric()
    first, *rest = _activities(org.alice, date(2025, 5, 19), 3)
    activities_bulk_upsert(source="sf", records=[first, *rest])
    metric_values_derive(metrics=[metric], today=TODAY)
    assert _values(metric)[("alice", "2025-W21")] == 3
    # The same activity synced again, no longer completed: it no longer counts.
    activities_bulk_upsert(
        source="sf",
        records=[
            ActivityRecord(
                external_id=first.external_id,
                owner_id=org.alice.pk,
                occurred_on=first.occurred_on,
                completed=False,
                key_account=True,
            )
        ],
    )
    metric_values_derive(metrics=[metric], today=TODAY)
    assert _values(metric)[("alice", "2025-W21")] == 2
    assert MetricValue.objects.filter(metric=metric).count() == 4 * 13


def test_duration_averages_days_from_created_to_close_over_won_deals(org):
    metric = make_metric(
        code="cycle",
        unit="days",
        aggregation="avg",
        direction="lower",
        weekly_plan=Decimal(30),
        derivation="duration",
        record_type="deals",
        field="source_created_at",
        field_to="close_date",
        filters=[{"field": "won", "op": "eq", "value": True}],
    )
    for n, (created, closed, won) in enumerate(
        [
            (date(2025, 4, 1), date(2025, 5, 19), True),  # 48 days
            (date(2025, 5, 1), date(2025, 5, 21), True),  # 20 days
            (date(2025, 1, 1), date(2025, 5, 20), False),  # lost: not counted
            (None, date(2025, 5, 20), True),  # no created date: not counted
        ]
    ):
        deal = DealFactory(owner=org.alice, external_id=f"C{n}", close_date=closed, won=won)
        deal.source_created_at = created
        deal.save(update_fields=["source_created_at"])
    metric_values_derive(metrics=[metric], today=TODAY)
    assert _values(metric) == {("alice", "2025-W21"): Decimal(34)}


def test_sum_adds_a_number_field(org):
    metric = make_metric(
        code="pipeline",
        unit="cny",
        derivation="sum",
        record_type="deals",
        field="amount",
        filters=[{"field": "amount", "op": "gte", "value": "100"}],
    )
    DealFactory(owner=org.bob, external_id="S1", amount=Decimal(150), close_date=date(2025, 5, 5))
    DealFactory(owner=org.bob, external_id="S2", amount=Decimal(250), close_date=date(2025, 5, 6))
    DealFactory(owner=org.bob, external_id="S3", amount=Decimal(50), close_date=date(2025, 5, 6))
    metric_values_derive(metrics=[metric], today=TODAY)
    assert _values(metric)[("bob", "2025-W19")] == Decimal(400)


def test_a_derivation_after_a_recompute_raises_threshold_alerts(org):
    from targets.recompute import figures_recompute

    _follow_up_metric()
    activities_bulk_upsert(source="sf", records=_activities(org.alice, date(2025, 5, 19), 9))
    with committed():
        figures_recompute(as_of=TODAY)
    # Everyone but alice followed up nobody this week: far below the plan of 10.
    assert set(Alert.objects.values_list("user__username", flat=True)) == {"bob", "carol", "dave"}


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"derivation": "count", "record_type": "meetings"}, "record_type"),
        ({"derivation": "sum", "record_type": "deals", "field": "margin"}, "field"),
        ({"derivation": "sum", "record_type": "deals", "field": "stage"}, "field"),
        (
            {
                "derivation": "duration",
                "record_type": "deals",
                "field": "close_date",
                "field_to": "shipped_on",
            },
            "field_to",
        ),
        (
            {
                "derivation": "count",
                "record_type": "activities",
                "filters": [{"field": "owner__password", "op": "eq", "value": "x"}],
            },
            "filters",
        ),
        (
            {
                "derivation": "count",
                "record_type": "activities",
                "filters": [{"field": "kind", "op": "gt", "value": "x"}],
            },
            "filters",
        ),
        (
            {
                "derivation": "count",
                "record_type": "deals",
                "filters": [{"field": "amount", "op": "eq", "value": "lots"}],
            },
            "filters",
        ),
    ],
)
def test_a_bad_derived_definition_is_a_clear_400(org, api, definition, field):
    body = {
        "code": "x",
        "name": "某指标",
        "category": "process",
        "unit": "count",
        "aggregation": "sum",
        "weekly_plan": "1",
        **definition,
    }
    response = api(org.admin).post("/api/v1/metrics/", body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
