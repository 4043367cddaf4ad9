"""Metrics in the Django admin: listed and viewable, never written around the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.metrics.helpers import make_metric

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["metric", "metricvalue", "activity"])
def test_the_admin_lists_metrics_but_adds_nothing(client, org, model):
    metric = make_metric()
    client.force_login(org.admin)
    assert client.get(reverse("admin:targets_metric_change", args=[metric.pk])).status_code == 200
    assert client.get(reverse(f"admin:targets_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:targets_{model}_add")).status_code == 403
