"""ERP invoices → deals against a REST JSON server on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import translation
from werkzeug import Request, Response

from integrations.models import SyncState
from integrations.runs import connection_test
from integrations.services import connection_save
from targets.models import Deal
from tests.integrations.conftest import sync

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Run logs are written in the worker's language; these tests read them in English."""
    with translation.override("en"):
        yield


TOKEN = "Bearer erp-key"
FIELDS = {
    "external_id": "invoice_no",
    "account": "customer_name",
    "owner": "sales",
    "amount": "total",
    "close_date": "invoiced_on",
    "modified_at": "updated_at",
}


class FakeErp:
    """Pages of `{"data": {"items": [...]}}` by `?p=`, `size` rows each, behind a bearer key."""

    def __init__(self, httpserver, size: int = 2) -> None:
        self.invoices: list[dict] = []
        self.size = size
        self.requests: list[dict] = []
        self.failures: list[int] = []
        self.down_from_page: int | None = None  # this page and later answer 502
        httpserver.expect_request("/api/invoices").respond_with_handler(self.handle)
        self.url = httpserver.url_for("/api/invoices")

    def add(self, number: int, **changes) -> dict:
        invoice = {
            "invoice_no": f"INV-{number}",
            "customer_name": f"客户 {number}",
            "sales": "alice@example.com",
            "total": f"{1000 + number}.50",
            "invoiced_on": "2025-05-10",
            "updated_at": f"2025-05-10T08:00:{number:02d}+08:00",
            **changes,
        }
        self.invoices.append(invoice)
        return invoice

    def handle(self, request: Request) -> Response:
        self.requests.append(dict(request.args))
        if self.failures:
            return Response("busy", status=self.failures.pop(0))
        if request.headers.get("Authorization") != TOKEN:
            return Response(json.dumps({"error": "unauthorised"}), status=401)
        page = int(request.args.get("p", "1"))
        if self.down_from_page and page >= self.down_from_page:
            return Response("bad gateway", status=502)
        rows = self.invoices
        since = request.args.get("updated_since")
        if since:
            floor = datetime.fromisoformat(since)
            rows = [r for r in rows if datetime.fromisoformat(r["updated_at"]) > floor]
        chunk = rows[(page - 1) * self.size : page * self.size]
        return Response(json.dumps({"data": {"items": chunk}}), content_type="application/json")


@pytest.fixture
def erp(httpserver, quick_retries):
    return FakeErp(httpserver)


@pytest.fixture
def erp_connection(erp, org):
    return connection_save(
        kind="erp",
        name="ERP",
        settings={
            "url": erp.url,
            "auth_header": TOKEN,
            "page_param": "p",
            "results_key": "data.items",
            "fields": FIELDS,
        },
    )


def test_pages_are_read_until_an_empty_one_through_the_field_mapping(erp, erp_connection, org):
    for n in range(1, 6):
        erp.add(n, sales="bob" if n == 3 else "Alice@Example.com")
    run = sync(erp_connection)
    assert [r["p"] for r in erp.requests] == ["1", "2", "3", "4"]
    assert (run.fetched, run.created, run.failed, run.error) == (5, 5, 0, "")
    deal = Deal.objects.get(external_id="INV-3")
    assert (deal.source, deal.owner, deal.account, deal.amount) == (
        "erp",
        org.bob,
        "客户 3",
        Decimal("1003.50"),
    )
    assert (deal.won, deal.stage, str(deal.close_date)) == (True, "invoiced", "2025-05-10")
    assert sync(erp_connection).updated == 5  # idempotent: the same invoices update


def test_bad_rows_are_counted_and_unknown_owners_reported_good_rows_written(
    erp, erp_connection, org
):
    erp.add(1)
    erp.add(2, total="-5")
    erp.add(3, invoiced_on="10/05/2025x")
    erp.add(4, total="lots")
    erp.add(5, sales="nobody@example.com")
    erp.add(6, invoice_no="")
    run = sync(erp_connection)
    assert (run.fetched, run.created, run.failed) == (6, 1, 5)
    assert run.unmapped_owners == ["nobody@example.com"]
    assert list(Deal.objects.values_list("external_id", flat=True)) == ["INV-1"]


def test_a_busy_erp_is_retried_and_a_refusal_fails_the_run(erp, erp_connection, org):
    erp.add(1)
    erp.failures = [503, 429]
    assert sync(erp_connection).created == 1
    connection_save(
        connection=erp_connection,
        kind="erp",
        name="ERP",
        settings={**erp_connection.settings, "auth_header": "Bearer wrong"},
    )
    run = sync(erp_connection)
    assert "401" in run.error and run.fetched == 0


def test_runs_are_incremental_on_the_modified_at_watermark(erp, erp_connection, org):
    connection_save(
        connection=erp_connection,
        kind="erp",
        name="ERP",
        settings={**erp_connection.settings, "modified_since_param": "updated_since"},
    )
    erp.add(1)
    erp.add(2)
    sync(erp_connection)
    assert "updated_since" not in erp.requests[0]
    watermark = SyncState.objects.get(connection=erp_connection).watermark
    assert watermark.isoformat() == "2025-05-10T00:00:02+00:00"
    erp.add(3)
    run = sync(erp_connection)
    assert erp.requests[-1]["updated_since"] == watermark.isoformat()
    assert (run.fetched, run.created) == (1, 1)


def test_test_connection_reads_the_first_page(erp, erp_connection, org):
    erp.add(1)
    ok, message = connection_test(connection=erp_connection)
    assert ok and "1" in message
    erp.failures = [404]
    ok, message = connection_test(connection=erp_connection)
    assert not ok and "404" in message


def test_a_pass_broken_off_keeps_its_committed_pages_but_not_a_new_watermark(
    erp, erp_connection, org
):
    connection_save(
        connection=erp_connection,
        kind="erp",
        name="ERP",
        settings={**erp_connection.settings, "modified_since_param": "updated_since"},
    )
    for n in range(1, 6):
        erp.add(n)
    erp.down_from_page = 3
    run = sync(erp_connection)
    assert "unavailable" in run.error and (run.fetched, run.created) == (4, 4)
    assert SyncState.objects.get(connection=erp_connection).watermark is None
    erp.down_from_page = None
    resumed = sync(erp_connection)
    assert (resumed.fetched, resumed.created, resumed.error) == (5, 1, "")
    assert Deal.objects.count() == 5
