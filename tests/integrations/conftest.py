from __future__ import annotations

import uuid

import pytest

from integrations.models import SyncRun
from integrations.runs import run_task
from integrations.services import connection_save
from tests.integrations.fake_salesforce import FakeSalesforce


@pytest.fixture
def quick_retries(settings):
    """Retries still wait (the waits asked for are logged) but sleep next to nothing."""
    settings.SYNC_SLEEP_SCALE = 0.0
    settings.SYNC_MAX_RETRIES = 4


@pytest.fixture
def salesforce(httpserver, quick_retries):
    return FakeSalesforce(httpserver)


@pytest.fixture
def sf_connection(salesforce, org):
    return connection_save(
        kind="salesforce",
        name="Salesforce",
        settings={
            "login_url": salesforce.login_url,
            "client_id": salesforce.client_id,
            "client_secret": salesforce.client_secret,
            "api_version": "62.0",
            "daily_api_share": 0.9,
        },
    )


def sync(connection) -> SyncRun:
    """One delivery of the sync task, run here (the orchestration the worker runs)."""
    outcome = run_task(connection_id=connection.pk, run_id=None, task_id=str(uuid.uuid4()))
    assert outcome.status == "finished", outcome
    return SyncRun.objects.get(pk=outcome.run_id)
