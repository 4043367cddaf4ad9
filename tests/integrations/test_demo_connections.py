"""The demo company's connections give the dashboards a data-freshness line from the start."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.demo import demo_connections_seed
from integrations.models import Connection, SyncRun

pytestmark = pytest.mark.django_db


def test_salesforce_fresh_and_erp_failed_each_with_a_run_once(org, client):
    now = timezone.now()
    assert demo_connections_seed(now=now).created == 2
    assert demo_connections_seed(now=now).created == 0
    salesforce, erp = Connection.objects.get(name="Salesforce"), Connection.objects.get(name="ERP")
    assert salesforce.last_success_at == now - timedelta(minutes=3) and not salesforce.last_error
    assert erp.last_success_at is None and erp.last_error
    assert SyncRun.objects.count() == 2
    client.force_login(org.director)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Salesforce" in page and "ERP" in page
