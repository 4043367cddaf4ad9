"""Salesforce → deals against a fake org speaking Salesforce's REST format on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from integrations.models import SyncState
from integrations.salesforce.client import (
    ApiShareReached,
    SalesforceClient,
    Unavailable,
)
from integrations.services import connection_save
from targets.models import Credit, Deal, DealRemoval
from tests.integrations.conftest import sync
from tests.integrations.fake_salesforce import VERSION, Fault, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Run logs are written in the worker's language; these tests read them in English."""
    with translation.override("en"):
        yield


D = Decimal


def deals():
    return {d.external_id: d for d in Deal.objects.filter(source="salesforce")}


def test_a_first_sync_writes_won_and_open_opportunities_with_owners_by_email(
    salesforce, sf_connection, org
):
    won = salesforce.add(owner="alice", stamp=at(0), amount=5000.0)
    open_ = salesforce.add(
        owner="bob", stamp=at(1), amount=None, stage="Prospecting", won=False, closed=False
    )
    upper = salesforce.add(owner="carol", stamp=at(2), owner_email="Carol@Example.COM")
    run = sync(sf_connection)
    assert (run.fetched, run.created, run.updated, run.deleted, run.failed) == (3, 3, 0, 0, 0)
    assert run.error == "" and run.finished_at is not None
    got = deals()
    assert (got[won.id].owner, got[won.id].amount, got[won.id].won) == (org.alice, D("5000"), True)
    # An open opportunity without an Amount is a deal of 0 in the pipeline, counting nothing.
    assert (got[open_.id].amount, got[open_.id].won, got[open_.id].stage) == (
        D("0"),
        False,
        "Prospecting",
    )
    assert got[upper.id].owner == org.carol
    assert got[won.id].account == won.account
    assert Credit.objects.filter(deal__source="salesforce").count() == 3
    assert salesforce.tokens_issued == 1
    assert "FROM Opportunity ORDER BY SystemModstamp, Id" in salesforce.queries[0]
    state = SyncState.objects.get(connection=sf_connection)
    assert state.watermark == at(2) and state.lease_run is None


def test_pages_of_2000_are_followed_through_next_records_url(salesforce, sf_connection, org):
    for n in range(4500):
        salesforce.add(owner=("alice", "bob", "carol")[n % 3], stamp=at(n // 100))
    run = sync(sf_connection)
    assert salesforce.pages_served == 3
    assert (run.fetched, run.created, run.failed) == (4500, 4500, 0)
    assert Deal.objects.filter(source="salesforce").count() == 4500


def test_boundary_second_records_are_read_again_and_late_updates_arrive(
    salesforce, sf_connection, org
):
    first = salesforce.add(stamp=at(0))
    boundary = salesforce.add(stamp=at(10))
    assert sync(sf_connection).created == 2
    # Written in the watermark's own second after the run read it: `>=` still sees it.
    late = salesforce.add(stamp=at(10), owner="bob")
    salesforce.change(first.id, stamp=at(20), amount=9999.0)
    run = sync(sf_connection)
    assert "SystemModstamp >= " + at(10).strftime("%Y-%m-%dT%H:%M:%SZ") in salesforce.queries[-1]
    # boundary (re-read, unchanged: not rewritten), late (new), first (changed).
    assert (run.fetched, run.created, run.updated) == (3, 1, 1)
    got = deals()
    assert set(got) == {first.id, boundary.id, late.id}
    assert got[first.id].amount == D("9999")
    assert Credit.objects.filter(deal__source="salesforce").count() == 3
    again = sync(sf_connection)
    assert (again.fetched, again.created, again.updated) == (1, 0, 0)


def test_a_deletion_in_salesforce_removes_the_deal_and_logs_the_removal(
    salesforce, sf_connection, org
):
    keep = salesforce.add(stamp=at(0))
    gone = salesforce.add(stamp=at(1))
    sync(sf_connection)
    salesforce.delete(gone.id, stamp=at(5))
    run = sync(sf_connection)
    assert "/queryAll" not in salesforce.queries[-1]  # the SOQL; the endpoint is queryAll
    assert (run.deleted, run.created) == (1, 0)
    assert set(deals()) == {keep.id}
    removal = DealRemoval.objects.get()
    assert (removal.source, removal.external_id, removal.reason) == (
        "salesforce",
        gone.id,
        "Deleted in Salesforce",
    )
    assert sync(sf_connection).deleted == 0  # reported again while in the recycle bin


def test_a_watermark_older_than_the_recycle_bin_forces_a_full_resync(
    salesforce, sf_connection, org
):
    keep = salesforce.add(stamp=at(0))
    purged = salesforce.add(stamp=at(1))
    unmapped = salesforce.add(stamp=at(2), owner="alice")
    sync(sf_connection)
    # Later its owner leaves the mapping: the row fails but the deal is not "gone".
    salesforce.change(unmapped.id, stamp=at(3), owner_email="left@example.com", owner_id="005Z")
    salesforce.purge(purged.id)
    SyncState.objects.filter(connection=sf_connection).update(
        watermark=timezone.now() - timedelta(days=16)
    )
    run = sync(sf_connection)
    assert "WHERE" not in salesforce.queries[-1]
    assert (run.fetched, run.failed, run.deleted) == (2, 1, 1)
    assert set(deals()) == {keep.id, unmapped.id}
    assert DealRemoval.objects.get().external_id == purged.id
    state = SyncState.objects.get(connection=sf_connection)
    assert state.resync_since is None and state.watermark == at(3)


def test_unmapped_owners_are_reported_and_counted_never_dropped_silently(
    salesforce, sf_connection, org
):
    salesforce.add(stamp=at(0), owner="alice")
    stranger = salesforce.add(stamp=at(1), owner="stranger")
    mapped = salesforce.add(stamp=at(2), owner="zed", owner_email="zed@partner.example")
    connection_save(
        connection=sf_connection,
        kind="salesforce",
        name=sf_connection.name,
        settings={**sf_connection.settings, "owner_mapping": {mapped.owner_id: "dave"}},
    )
    run = sync(sf_connection)
    assert (run.fetched, run.created, run.failed) == (3, 2, 1)
    assert run.unmapped_owners == [f"{stranger.owner_id} <stranger@example.com>"]
    assert run.failures == [
        {
            "id": stranger.id,
            "field": "OwnerId",
            "message": f"No active rep for the owner {stranger.owner_id} <stranger@example.com>.",
        }
    ]
    assert deals()[mapped.id].owner == org.dave


def test_429_and_5xx_storms_are_retried_a_bounded_number_of_times_honouring_retry_after(
    salesforce, org, settings
):
    salesforce.add(stamp=at(0))
    salesforce.faults += [
        Fault(429, [{"message": "slow down", "errorCode": "REQUEST_LIMIT"}], {"Retry-After": "7"}),
        Fault(500, [{"message": "oops", "errorCode": "UNKNOWN_EXCEPTION"}]),
        Fault(503, None),
    ]
    client = SalesforceClient(
        login_url=salesforce.login_url, client_id="cid", client_secret="csecret"
    )
    pages = list(client.query_pages("SELECT Id FROM Opportunity", include_deleted=True))
    assert [len(p.records) for p in pages] == [1]
    assert len(client.backoff.waits) == 3
    assert client.backoff.waits[0] >= 7  # the server's Retry-After wins over a shorter backoff
    assert all(w <= settings.SYNC_BACKOFF_MAX_SECONDS for w in client.backoff.waits[1:])

    salesforce.faults += [Fault(500, None)] * (settings.SYNC_MAX_RETRIES + 1)
    with pytest.raises(Unavailable):
        list(client.query_pages("SELECT Id FROM Opportunity"))
    assert salesforce.faults == []  # exactly max retries + 1 tries, then it gave up


def test_a_failing_run_keeps_what_was_committed_and_records_the_error(
    salesforce, sf_connection, org, settings
):
    salesforce.page_size = 2
    for n in range(5):
        salesforce.add(stamp=at(n))
    original = salesforce._next

    def outage(locator):
        # This try and every retry get 502: more than the retries allow.
        salesforce.faults += [Fault(502, None)] * settings.SYNC_MAX_RETRIES
        salesforce._next = original
        return salesforce._rest(None, 502)

    run = sync(sf_connection)
    assert run.created == 5
    salesforce.add(stamp=at(10))
    salesforce.add(stamp=at(11))
    salesforce.add(stamp=at(12))
    salesforce._next = outage
    # The first page (2 rows from the watermark second on) commits, then the outage ends it.
    run = sync(sf_connection)
    assert "unavailable" in run.error.lower()
    sf_connection.refresh_from_db()
    assert sf_connection.last_error == run.error
    resumed = sync(sf_connection)
    assert resumed.error == ""
    assert Deal.objects.filter(source="salesforce").count() == 8


def test_an_expired_token_is_renewed_once(salesforce, sf_connection, org):
    salesforce.add(stamp=at(0))
    sync(sf_connection)
    salesforce.expire_tokens()
    salesforce.add(stamp=at(1))
    client = SalesforceClient.from_connection(sf_connection)
    # The expired token a long-lived worker would still hold.
    client.access_token, client.instance_url = "00DX!token-1", salesforce.login_url
    assert len(list(client.query_pages("SELECT Id FROM Opportunity"))) == 1
    assert salesforce.tokens_issued == 2


def test_a_refused_static_token_fails_without_a_retry_loop(salesforce, org):
    connection = connection_save(
        kind="salesforce",
        name="Static",
        settings={"instance_url": salesforce.login_url, "access_token": "revoked"},
    )
    run = sync(connection)
    assert "INVALID_SESSION_ID" in run.error
    assert salesforce.tokens_issued == 0 and salesforce.api_used == 0


def test_request_limit_exceeded_stops_at_once(salesforce, sf_connection, org):
    salesforce.add(stamp=at(0))
    salesforce.faults.append(
        Fault(
            403,
            [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
        )
    )
    run = sync(sf_connection)
    assert "daily API limit is used up" in run.error
    assert run.fetched == 0 and salesforce.api_used == 0  # no retry spent the next call


def test_the_run_stops_at_its_share_of_the_daily_limit_and_the_next_resumes(
    salesforce, sf_connection, org
):
    salesforce.page_size = 2
    salesforce.api_limit = 10
    for n in range(10):
        salesforce.add(stamp=at(n))
    connection_save(
        connection=sf_connection,
        kind="salesforce",
        name=sf_connection.name,
        settings={**sf_connection.settings, "daily_api_share": 0.3},
    )
    run = sync(sf_connection)
    # 3 calls of 10 is the share: three pages of two, committed, then a clean stop.
    assert run.fetched == 6 and "daily API calls" in run.error
    assert SyncState.objects.get(connection=sf_connection).watermark == at(5)
    salesforce.api_used = 0  # a new day
    salesforce.api_limit = 100
    resumed = sync(sf_connection)
    assert resumed.error == ""
    assert Deal.objects.filter(source="salesforce").count() == 10
    assert resumed.created == 4


def test_the_share_check_reads_sforce_limit_info():
    client = SalesforceClient(instance_url="http://x", access_token="t", daily_api_share=0.5)
    client.usage = (49, 100)
    client.check_share()
    client.usage = (50, 100)
    with pytest.raises(ApiShareReached):
        client.check_share()


def test_test_connection_reports_success_and_refusal(salesforce, sf_connection, org):
    from integrations.runs import connection_test

    ok, message = connection_test(connection=sf_connection)
    assert ok and "API calls used today" in message
    bad = connection_save(
        connection=sf_connection,
        kind="salesforce",
        name="Wrong secret",
        settings={**sf_connection.settings, "client_secret": "wrong"},
    )
    ok, message = connection_test(connection=bad)
    assert not ok and "invalid client credentials" in message
    assert VERSION in sf_connection.settings["api_version"]


def test_a_sync_that_changed_deals_recomputes_the_figures_and_one_that_did_not_does_not(
    salesforce, sf_connection, org, django_capture_on_commit_callbacks
):
    from targets.signals import figures_recomputed

    sent = []

    def listener(**kwargs):
        sent.append(kwargs["as_of"])

    figures_recomputed.connect(listener)
    try:
        salesforce.add(stamp=at(0))
        with django_capture_on_commit_callbacks(execute=True):
            sync(sf_connection)
        assert len(sent) == 1
        with django_capture_on_commit_callbacks(execute=True):
            quiet = sync(sf_connection)  # the boundary record again, unchanged
        assert (quiet.fetched, quiet.updated, len(sent)) == (1, 0, 1)
        salesforce.faults.append(Fault(400, [{"message": "bad", "errorCode": "MALFORMED_QUERY"}]))
        with django_capture_on_commit_callbacks(execute=True):
            failed = sync(sf_connection)
        assert "MALFORMED_QUERY" in failed.error
        assert len(sent) == 1
    finally:
        figures_recomputed.disconnect(listener)


def test_opportunities_that_cannot_be_deals_are_counted_as_failed(salesforce, sf_connection, org):
    credit_note = salesforce.add(stamp=at(0), amount=-10.0)  # a credit note is not a deal
    absurd = salesforce.add(stamp=at(1), amount=1e16)
    good = salesforce.add(stamp=at(2), account=None)  # no account at all: shown as a dash
    run = sync(sf_connection)
    assert (run.fetched, run.created, run.failed) == (3, 1, 2)
    assert deals()[good.id].account == "—"
    # The run log says which and why, in the worker's language.
    assert run.failures == [
        {"id": credit_note.id, "field": "Amount", "message": "The amount cannot be negative."},
        {
            "id": absurd.id,
            "field": "Amount",
            "message": "Amounts are limited to 9,999,999,999,999.99.",
        },
    ]
