"""Import kind `metric_values` (SPEC §10 `imports/`): CSV/XLSX, dry run, keep_good_rows."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from alerts.models import Alert
from targets.models import MetricValue
from tests.metrics.helpers import committed, cycle_metric, make_metric

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports/"

GOOD = "指标代码,用户名,周,数值\nfollow_ups,alice,2025-W19,12\nfollow_ups,bob,2025-W19,3\ncycle,alice,2025-W19,41.5\n"
BAD = (
    "metric,username,email,week,value\n"
    "follow_ups,alice,,2025-W19,12\n"
    "nope,alice,,2025-W19,1\n"
    "follow_ups,ghost,,2025-W19,1\n"
    "follow_ups,,carol@example.com,2025-W99,1\n"
    "follow_ups,bob,,2025-W19,abc\n"
    "cycle,bob,,2025-W19,-2\n"
    "follow_ups,alice,,2025-W19,13\n"
    "follow_ups,,dave@example.com,2999-W01,1\n"
)


def _upload(client, text: str, name="values.csv", encoding="utf-8", **options):
    file = SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")
    return client.post(URL, {"file": file, "kind": "metric_values", **options}, format="multipart")


@pytest.fixture
def metrics(org):
    return make_metric(), cycle_metric()


def test_a_gbk_file_of_weekly_values_is_imported_and_raises_alerts(api, org, metrics):
    with committed():
        response = _upload(api(org.admin), GOOD, encoding="gbk")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rows"], body["created"], body["updated"], body["failed"]) == (3, 3, 0, 0)
    values = {
        (v.metric.code, v.user.username): v
        for v in MetricValue.objects.select_related("metric", "user")
    }
    assert values[("cycle", "alice")].value == Decimal("41.5")
    assert values[("follow_ups", "bob")].source == "import"
    assert values[("follow_ups", "bob")].entered_by == org.admin
    # bob's 3 follow-ups are 70 % short of 10; alice's cycle 38 % over plan (warn at 20).
    assert {(a.user.username, a.details["level"]) for a in Alert.objects.all()} == {
        ("bob", "alert"),
        ("alice", "warn"),
    }


def test_reimporting_updates_the_same_weeks(api, org, metrics):
    _upload(api(org.admin), GOOD)
    again = _upload(api(org.admin), GOOD.replace(",12\n", ",14\n")).json()
    assert (again["created"], again["updated"]) == (0, 3)
    assert MetricValue.objects.count() == 3
    assert MetricValue.objects.get(user=org.alice, metric__code="follow_ups").value == 14


def test_bad_rows_are_listed_and_nothing_is_written(api, org, metrics):
    response = _upload(api(org.admin), BAD)
    assert response.status_code == 200
    body = response.json()
    assert body["failed"] == 7 and body["rows"] == 8
    fields = {(e["row"], e["field"]) for e in body["errors"]}
    assert fields == {
        (3, "metric"),
        (4, "username"),
        (5, "week"),
        (6, "value"),
        (7, "value"),
        (8, "week"),
        (9, "week"),
    }
    assert not MetricValue.objects.exists()


def test_keep_good_rows_writes_the_good_ones(api, org, metrics):
    body = _upload(api(org.admin), BAD, keep_good_rows="true").json()
    assert body["written"] and body["created"] == 1
    assert MetricValue.objects.get().value == 12


def test_a_dry_run_writes_nothing(api, org, metrics):
    body = _upload(api(org.admin), GOOD, dry_run="true").json()
    assert (body["created"], body["written"]) == (3, False)
    assert not MetricValue.objects.exists()


def test_an_xlsx_file_is_read(api, org, metrics):
    book = Workbook()
    sheet = book.active
    sheet.append(["metric", "email", "week", "value"])
    sheet.append(["follow_ups", "alice@example.com", "2025-W18", 9])
    buffer = io.BytesIO()
    book.save(buffer)
    file = SimpleUploadedFile("v.xlsx", buffer.getvalue())
    response = api(org.admin).post(URL, {"file": file, "kind": "metric_values"}, format="multipart")
    assert response.status_code == 201, response.json()
    assert MetricValue.objects.get().week == "2025-W18"


def test_a_file_without_the_columns_is_refused(api, org, metrics):
    response = _upload(api(org.admin), "a,b\n1,2\n")
    assert response.status_code == 400 and "file" in response.json()


def test_only_administrators_import_values(api, org, metrics):
    assert _upload(api(org.mgr_east), GOOD).status_code == 403


def test_a_deal_file_may_carry_the_created_date_the_conversion_cycle_starts_from(api, org):
    from datetime import date

    from targets.models import Deal

    text = (
        "external_id,account,owner_email,amount,won,close_date,created_date\n"
        "C-1,华为,alice@example.com,100,true,2025-05-10,2025-03-01\n"
        "C-2,腾讯,alice@example.com,100,true,2025-05-10,\n"
    )
    file = SimpleUploadedFile("deals.csv", text.encode(), content_type="text/csv")
    response = api(org.admin).post(URL, {"file": file, "kind": "deals"}, format="multipart")
    assert response.status_code == 201, response.json()
    created = dict(Deal.objects.values_list("external_id", "source_created_at"))
    assert created == {"C-1": date(2025, 3, 1), "C-2": None}
    bad = SimpleUploadedFile(
        "bad.csv", text.replace("2025-03-01", "yesterday").encode(), content_type="text/csv"
    )
    response = api(org.admin).post(URL, {"file": bad, "kind": "deals"}, format="multipart")
    assert {e["field"] for e in response.json()["errors"]} == {"created_date"}


def test_metric_values_are_an_import_kind_of_the_api_and_the_page(api, org):
    """The import registry offers them: the API takes the kind, the page lists it with a template."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    file = SimpleUploadedFile("m.csv", b"metric,username,week,value\nnope,alice,2025-W20,3\n")
    response = api(org.admin).post(
        "/api/v1/imports/", {"file": file, "kind": "metric_values", "dry_run": "true"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["failed"] == 1
    client = Client()
    client.force_login(org.admin)
    template = client.get(reverse("import-template", args=["metric_values"]))
    assert template.status_code == 200
    assert template["Content-Disposition"].endswith('metric-values-template.xlsx"')
