"""Connections and the run log through API v1 (SPEC §10 `connections/`, `sync-runs/`)."""

from __future__ import annotations

import json

import pytest

from integrations.models import Connection, RunKind
from integrations.services import run_start
from targets.models import DealSource

pytestmark = pytest.mark.django_db
URL = "/api/v1/connections/"


def create(client, **changes):
    body = {
        "kind": "salesforce",
        "name": "Salesforce",
        "settings": {
            "login_url": "https://login.example.com",
            "client_id": "abc",
            "client_secret": "TOP-SECRET",
        },
        **changes,
    }
    return client.post(URL, body, format="json")


def test_an_administrator_creates_a_connection_whose_secrets_are_never_returned(api, org):
    client = api(org.admin)
    response = create(client)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["settings"] == {"login_url": "https://login.example.com", "client_id": "abc"}
    assert body["secrets_set"] == ["client_secret"]
    assert (body["source"], body["schedule_minutes"], body["enabled"]) == ("salesforce", 15, True)
    assert Connection.objects.get().secrets == {"client_secret": "TOP-SECRET"}
    listed = client.get(URL).json()
    detail = client.get(f"{URL}{body['id']}/").json()
    assert "TOP-SECRET" not in json.dumps(listed) + json.dumps(detail)


def test_changing_settings_keeps_secrets_not_sent_again(api, org):
    client = api(org.admin)
    connection_id = create(client).json()["id"]
    response = client.patch(
        f"{URL}{connection_id}/",
        {"schedule_minutes": 60, "settings": {"client_id": "xyz"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    connection = Connection.objects.get()
    assert (connection.schedule_minutes, connection.settings) == (60, {"client_id": "xyz"})
    assert connection.secrets == {"client_secret": "TOP-SECRET"}


def test_bad_input_is_a_400_with_field_messages(api, org):
    client = api(org.admin)
    assert "kind" in create(client, kind="ftp").json()
    assert "schedule_minutes" in create(client, schedule_minutes=0).json()
    connection_id = create(client).json()["id"]
    response = client.patch(f"{URL}{connection_id}/", {"kind": "erp"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()


def test_an_administrator_deletes_a_connection(api, org):
    client = api(org.admin)
    connection_id = create(client).json()["id"]
    assert client.delete(f"{URL}{connection_id}/").status_code == 204
    assert not Connection.objects.exists()


def test_nobody_but_administrators_sees_or_changes_connections_and_runs(api, org):
    connection_id = create(api(org.admin)).json()["id"]
    for user in (org.director, org.hrbp, org.mgr_east, org.alice):
        client = api(user)
        assert client.get(URL).status_code == 403
        assert client.get(f"{URL}{connection_id}/").status_code == 403
        assert create(client).status_code == 403
        assert client.delete(f"{URL}{connection_id}/").status_code == 403
        assert client.get("/api/v1/sync-runs/").status_code == 403
    assert api(None).get(URL).status_code == 401
    assert Connection.objects.count() == 1


def test_an_administrator_reads_the_run_log(api, org):
    connection_id = create(api(org.admin)).json()["id"]
    run_start(
        kind=RunKind.SYNC,
        source=DealSource.SALESFORCE,
        connection=Connection.objects.get(pk=connection_id),
    )
    body = api(org.admin).get("/api/v1/sync-runs/").json()
    assert body["count"] == 1
    run = body["results"][0]
    assert (run["connection"], run["source"], run["kind"]) == (connection_id, "salesforce", "sync")
    assert {"fetched", "created", "updated", "deleted", "failed", "unmapped_owners"} <= set(run)


def test_the_run_log_is_read_only(api, org):
    assert api(org.admin).delete("/api/v1/sync-runs/1/").status_code == 405


def test_deleting_a_connection_keeps_its_run_log(api, org):
    client = api(org.admin)
    connection_id = create(client).json()["id"]
    run_start(
        kind=RunKind.SYNC,
        source=DealSource.SALESFORCE,
        connection=Connection.objects.get(pk=connection_id),
    )
    client.delete(f"{URL}{connection_id}/")
    assert client.get("/api/v1/sync-runs/").json()["results"][0]["connection"] is None


def test_a_second_salesforce_connection_on_the_same_source_is_refused(api, org):
    # A full resync removes the deals of its source it did not see: two orgs on one source
    # would remove each other's deals.
    client = api(org.admin)
    assert create(client).status_code == 201
    response = create(client, name="Another org")
    assert response.status_code == 400
    assert "全量重新同步" in response.json()["source"][0]  # the API speaks zh-hans by default
    assert Connection.objects.count() == 1
    other_source = create(client, name="Another org", source=DealSource.ERP)
    assert other_source.status_code == 201, other_source.json()


def test_the_database_refuses_a_second_salesforce_connection_on_one_source(org):
    from django.db import IntegrityError, transaction

    Connection.objects.create(kind="salesforce", name="One", source=DealSource.SALESFORCE)
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.create(kind="salesforce", name="Two", source=DealSource.SALESFORCE)
    Connection.objects.create(kind="erp", name="ERP", source=DealSource.ERP)
    Connection.objects.create(kind="erp", name="ERP 2", source=DealSource.ERP)
    assert Connection.objects.count() == 3
