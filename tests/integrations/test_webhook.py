"""Signed webhook pushes (SPEC §10): verified, replay-proof, good rows written, bad ones named."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from integrations.models import ConnectionKind, SyncRun
from integrations.services import connection_save
from integrations.webhook import webhook_sign
from targets.models import Credit, Deal, DealSource

pytestmark = pytest.mark.django_db
SECRET = "s3cret-for-tests"


@pytest.fixture
def hook(org):
    return connection_save(
        kind=ConnectionKind.WEBHOOK,
        name="ERP push",
        source=DealSource.ERP,
        settings={"secret": SECRET},
    )


def push(client, hook, records, *, timestamp=None, secret=SECRET, signature=None):
    body = json.dumps({"records": records}).encode()
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = signature or "sha256=" + webhook_sign(secret=secret, timestamp=timestamp, body=body)
    return client.post(
        f"/api/v1/integrations/webhook/{hook.pk}/",
        data=body,
        content_type="application/json",
        HTTP_X_TARGETPILOT_TIMESTAMP=timestamp,
        HTTP_X_TARGETPILOT_SIGNATURE=signature,
    )


def deal(n, rep, **changes):
    return {
        "external_id": f"W-{n}",
        "account": f"客户{n}",
        "owner": rep.pk if rep else None,
        "amount": "1000.00",
        "stage": "Closed Won",
        "won": True,
        "close_date": "2025-05-10",
        **changes,
    }


def test_a_well_signed_push_writes_its_deals_and_logs_a_run(client, hook, org):
    response = push(client, hook, [deal(1, org.alice), deal(2, org.bob)])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["rows"], body["created"], body["updated"], body["failed"]) == (2, 2, 0, 0)
    assert set(Deal.objects.values_list("source", flat=True)) == {DealSource.ERP}
    run = SyncRun.objects.get()
    assert (run.connection, run.created, run.fetched) == (hook, 2, 2)
    hook.refresh_from_db()
    assert hook.last_success_at is not None


def test_an_owner_may_be_named_by_email(client, hook, org):
    response = push(client, hook, [deal(1, None, owner=None, owner_email="ALICE@example.com")])
    assert response.json()["created"] == 1
    assert Deal.objects.get().owner == org.alice


def test_a_bad_signature_is_refused_and_writes_nothing(client, hook, org):
    response = push(client, hook, [deal(1, org.alice)], secret="wrong")
    assert response.status_code == 401
    assert not Deal.objects.exists()
    assert not SyncRun.objects.exists()


def test_a_missing_signature_is_refused(client, hook, org):
    response = push(client, hook, [deal(1, org.alice)], signature="md5=abc")
    assert response.status_code == 401


def test_a_push_older_than_five_minutes_is_refused(client, hook, org):
    response = push(client, hook, [deal(1, org.alice)], timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert not Deal.objects.exists()


def test_a_replayed_push_is_refused(client, hook, org):
    timestamp = int(time.time())
    assert push(client, hook, [deal(1, org.alice)], timestamp=timestamp).status_code == 200
    replay = push(client, hook, [deal(1, org.alice, amount="9.00")], timestamp=timestamp)
    # A different body under the same timestamp is a different signature: accepted.
    assert replay.status_code == 200
    again = push(client, hook, [deal(1, org.alice, amount="9.00")], timestamp=timestamp)
    assert again.status_code == 401
    assert Deal.objects.get().amount == Decimal("9.00")
    assert SyncRun.objects.count() == 2


def test_an_unknown_or_non_webhook_connection_is_refused(client, hook, org):
    erp = connection_save(kind=ConnectionKind.ERP, name="ERP", settings={"secret": SECRET})
    body = json.dumps({"records": []}).encode()
    timestamp = str(int(time.time()))
    signature = "sha256=" + webhook_sign(secret=SECRET, timestamp=timestamp, body=body)
    for connection_id in (erp.pk, 999999, 2**64):
        response = client.post(
            f"/api/v1/integrations/webhook/{connection_id}/",
            data=body,
            content_type="application/json",
            HTTP_X_TARGETPILOT_TIMESTAMP=timestamp,
            HTTP_X_TARGETPILOT_SIGNATURE=signature,
        )
        assert response.status_code == 401


def test_bad_rows_are_reported_per_row_and_the_good_ones_written(client, hook, org):
    records = [
        deal(1, org.alice),
        deal(2, org.alice, amount="-5"),
        deal(3, org.alice, close_date="10/05/2025"),
        deal(4, None, owner_email="nobody@example.com"),
        "not an object",
        deal(1, org.bob),
    ]
    response = push(client, hook, records)
    assert response.status_code == 200
    body = response.json()
    assert (body["rows"], body["created"], body["failed"]) == (6, 1, 5)
    assert {(e["row"], e["field"]) for e in body["errors"]} == {
        (2, "amount"),
        (3, "close_date"),
        (4, "owner"),
        (5, "records"),
        (6, "external_id"),
    }
    assert list(Deal.objects.values_list("external_id", flat=True)) == ["W-1"]
    assert SyncRun.objects.get().unmapped_owners == ["nobody@example.com"]


def test_splits_in_a_push_split_the_credit(client, hook, org):
    splits = [{"user": org.alice.pk, "percent": "60"}, {"user": org.carol.pk, "percent": "40"}]
    push(client, hook, [deal(1, org.alice, splits=splits)])
    assert dict(Credit.objects.values_list("user", "team")) == {
        org.alice.pk: org.east1.pk,
        org.carol.pk: org.east2.pk,
    }


def test_a_well_signed_body_that_is_not_records_is_a_400(client, hook, org):
    response = push(client, hook, {"not": "a list"})
    assert response.status_code == 400
    assert "records" in response.json()


def test_the_webhook_answers_only_post(client, hook):
    assert client.get(f"/api/v1/integrations/webhook/{hook.pk}/").status_code == 405
