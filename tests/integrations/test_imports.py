"""Deal imports from CSV (UTF-8 / GBK, detected) and XLSX (SPEC §8, §10 `imports/`)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from integrations.models import SyncRun
from targets.models import Deal, DealSource

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports/"
HEADER = "external_id,account,owner_email,amount,stage,won,close_date\n"


def csv_file(text: str, encoding: str = "utf-8", name: str = "deals.csv"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def upload(client, file, **options):
    return client.post(URL, {"file": file, "kind": "deals", **options}, format="multipart")


GOOD = (
    HEADER
    + "C-1,华为技术有限公司,alice@example.com,120000.50,赢单,是,2025-05-10\n"
    + "C-2,北京字节跳动科技,bob@example.com,80000,Closed Won,true,2025/04/03\n"
)
BAD = (
    HEADER
    + "C-1,华为技术有限公司,alice@example.com,120000.50,,true,2025-05-10\n"
    + "C-2,腾讯科技,bob@example.com,-5,,true,2025-05-10\n"
    + "C-3,阿里巴巴,bob@example.com,abc,,true,2025-05-10\n"
    + "C-4,小米,bob@example.com,10,,true,31/12/2025\n"
    + "C-5,美团,ghost@example.com,10,,true,2025-05-10\n"
    + "C-1,华为技术有限公司,alice@example.com,1,,true,2025-05-10\n"
    + "C-6,京东,carol@example.com,10,,maybe,2025-05-10\n"
)
# (row, field) of each bad row of BAD, in file order.
BAD_ROWS = [
    (3, "amount"),
    (4, "amount"),
    (5, "close_date"),
    (6, "owner"),
    (7, "external_id"),
    (8, "won"),
]


def test_a_gbk_file_with_chinese_accounts_is_detected_and_imported(api, org):
    response = upload(api(org.admin), csv_file(GOOD, "gbk"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rows"], body["created"], body["updated"], body["failed"]) == (2, 2, 0, 0)
    deal = Deal.objects.get(external_id="C-1")
    assert (deal.source, deal.account, deal.owner) == (
        DealSource.CSV,
        "华为技术有限公司",
        org.alice,
    )
    assert deal.amount == Decimal("120000.50")
    assert Deal.objects.get(external_id="C-2").close_date == date(2025, 4, 3)
    run = SyncRun.objects.get()
    assert (run.kind, run.created, run.started_by) == ("import", 2, org.admin)


def test_a_utf8_file_with_a_bom_and_chinese_headers_is_imported(api, org):
    text = "外部编号,客户,负责人邮箱,金额,成交日期\nC-9,宁德时代,dave@example.com,5000,2025-05-01\n"
    response = upload(api(org.admin), csv_file("\ufeff" + text))
    assert response.json()["created"] == 1
    assert Deal.objects.get().account == "宁德时代"


def test_re_importing_a_file_updates_the_same_deals(api, org):
    client = api(org.admin)
    upload(client, csv_file(GOOD))
    changed = GOOD.replace("120000.50", "130000.00")
    response = upload(client, csv_file(changed, "gb18030"))
    body = response.json()
    assert (body["created"], body["updated"]) == (0, 2)
    assert Deal.objects.count() == 2
    assert Deal.objects.get(external_id="C-1").amount == Decimal("130000.00")


def test_every_bad_row_is_reported_and_a_bad_file_writes_nothing(api, org):
    response = upload(api(org.admin), csv_file(BAD, "gbk"))
    assert response.status_code == 200
    body = response.json()
    assert (body["rows"], body["failed"], body["written"]) == (7, 6, False)
    assert [(e["row"], e["field"]) for e in body["errors"]] == BAD_ROWS
    assert all(e["message"] for e in body["errors"])
    assert not Deal.objects.exists()
    assert not SyncRun.objects.exists()


def test_keep_good_rows_writes_the_good_rows_of_a_bad_file(api, org):
    response = upload(api(org.admin), csv_file(BAD), keep_good_rows="true")
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["failed"], body["written"]) == (1, 6, True)
    assert list(Deal.objects.values_list("external_id", flat=True)) == ["C-1"]
    run = SyncRun.objects.get()
    assert (run.failed, run.unmapped_owners) == (6, ["ghost@example.com"])
    # The run log keeps each failed row and why, as the response gave them.
    assert run.failures == body["errors"]
    assert [(f["row"], f["field"]) for f in run.failures] == BAD_ROWS
    logged = api(org.admin).get(f"/api/v1/sync-runs/{run.pk}/").json()
    assert logged["failures"] == body["errors"]


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(api, org):
    client = api(org.admin)
    upload(client, csv_file(HEADER + "C-1,甲,alice@example.com,1,,true,2025-05-10\n"))
    response = upload(client, csv_file(GOOD), dry_run="true")
    body = response.json()
    assert response.status_code == 200
    assert (body["rows"], body["created"], body["updated"], body["written"]) == (2, 1, 1, False)
    assert Deal.objects.get().amount == Decimal("1.00")
    assert SyncRun.objects.count() == 1


def test_an_xlsx_file_is_imported(api, org):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["external_id", "account", "owner", "amount", "won", "close_date"])
    sheet.append(["X-1", "比亚迪", org.carol.pk, 3000.5, True, date(2025, 5, 2)])
    sheet.append([None, None, None, None, None, None])
    sheet.append([12345, "格力", org.dave.pk, 10, "否", "2025-05-03"])
    data = io.BytesIO()
    workbook.save(data)
    file = SimpleUploadedFile("deals.xlsx", data.getvalue())
    response = upload(api(org.admin), file)
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 2
    assert Deal.objects.get(external_id="X-1").amount == Decimal("3000.50")
    assert Deal.objects.get(external_id="12345").won is False


def test_a_file_without_the_needed_columns_is_refused_whole(api, org):
    response = upload(api(org.admin), csv_file("name,value\na,1\n"))
    assert response.status_code == 400
    assert "external_id" in response.json()["file"][0]


def test_a_binary_file_is_refused_as_neither_csv_nor_xlsx(api, org):
    file = SimpleUploadedFile("deals.csv", b"\xff\xfe\x00\x81\x30" * 10)
    response = upload(api(org.admin), file)
    assert response.status_code == 400


def test_only_administrators_import(api, org):
    for user in (org.director, org.mgr_east, org.alice):
        assert upload(api(user), csv_file(GOOD)).status_code == 403
    assert upload(api(None), csv_file(GOOD)).status_code == 401
    assert not Deal.objects.exists()


def test_imports_answer_only_post(api, org):
    assert api(org.admin).get(URL).status_code == 405


def test_a_file_over_50_mb_is_refused_before_it_is_read(org, settings):
    from integrations.imports import deals_import
    from targets.errors import ValidationError

    assert settings.IMPORT_MAX_BYTES == 50 * 1024 * 1024
    with pytest.raises(ValidationError) as refused:
        deals_import(
            stream=io.BytesIO(GOOD.encode()), size=settings.IMPORT_MAX_BYTES + 1, user=org.admin
        )
    assert "file" in refused.value.message_dict
    assert not Deal.objects.exists()


def _rows(count: int, start: int = 0) -> str:
    lines = [f"Q-{n},客户{n},alice@example.com,{n + 1},,true,2025-05-10" for n in range(count)]
    return HEADER + "\n".join(lines) + "\n"


def test_an_import_costs_the_same_statements_for_few_rows_as_for_a_batch(api, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations import imports

    def statements(text):
        with CaptureQueriesContext(connection) as queries:
            imports.deals_import(stream=io.BytesIO(text.encode()), size=len(text), user=org.admin)
        return len(queries)

    # 40 rows: SQLite's 999 parameters per statement hold a 40-deal INSERT in one piece.
    few, many = statements(_rows(3)), statements(_rows(40).replace("Q-", "R-"))
    assert few == many
