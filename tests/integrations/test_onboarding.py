"""Onboarding (issue 7 §9): the setup checklist, and the README's path from an empty
database to a live dashboard, walked as an administrator would."""

from __future__ import annotations

import io
import json
import time
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from integrations.onboarding import COMPLETE_KEY
from integrations.webhook import webhook_sign
from targets.models import Deal, Target, User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_may_2025")]


@pytest.fixture(autouse=True)
def _forget_completion():
    cache.delete(COMPLETE_KEY)
    yield
    cache.delete(COMPLETE_KEY)


def test_the_checklist_shows_each_step_to_do_on_an_empty_database(client, db):
    call_command("create_admin", username="boss", password="long-enough-pw")
    boss = User.objects.get(username="boss")
    assert boss.check_password("long-enough-pw")
    client.force_login(boss)
    response = client.get(reverse("setup"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert "0 of 6 done" in page
    for key in ("company", "org", "people", "targets", "connection", "sync"):
        assert f'data-testid="setup-{key}"' in page
    assert reverse("imports") + "?kind=org" in page
    assert 'data-testid="setup-link"' in page  # the header leads here while incomplete


def test_the_checklist_speaks_chinese(client, org):
    client.force_login(org.admin)
    page = client.get(reverse("setup"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "设置" in page and "组织架构" in page


def test_only_administrators_open_the_checklist(client, org):
    for user in (org.director, org.hrbp, org.mgr_east, org.alice):
        client.force_login(user)
        assert client.get(reverse("setup")).status_code == 403
        assert 'data-testid="setup-link"' not in client.get(reverse("home")).content.decode()
    client.logout()
    assert client.get(reverse("setup")).status_code == 302
    client.force_login(org.admin)
    assert client.post(reverse("setup")).status_code == 405


def test_the_checklist_costs_a_fixed_number_of_statements(
    client, org, django_assert_max_num_queries
):
    client.force_login(org.admin)
    with django_assert_max_num_queries(14):
        client.get(reverse("setup"))


def _push(client, connection_id: int, secret: str, records: list[dict]):
    body = json.dumps({"records": records}).encode()
    timestamp = str(int(time.time()))
    signature = "sha256=" + webhook_sign(secret=secret, timestamp=timestamp, body=body)
    return client.post(
        f"/api/v1/integrations/webhook/{connection_id}/",
        data=body,
        content_type="application/json",
        HTTP_X_TARGETPILOT_TIMESTAMP=timestamp,
        HTTP_X_TARGETPILOT_SIGNATURE=signature,
    )


def test_from_an_empty_database_to_a_live_dashboard(client, db):
    # 1. The first administrator (README: manage.py create_admin).
    call_command("create_admin", username="boss", password="long-enough-pw")
    client.force_login(User.objects.get(username="boss"))

    # 2. The org chart and people: the template, filled in, imported (checked first).
    units = [
        ["单元编码", "单元名称", "上级编码", "类型"],
        ["XC", "星辰科技", "", "公司"],
        ["EAST", "华东", "XC", "大区"],
        ["EAST-1", "华东一组", "EAST", "团队"],
    ]
    people = [
        ["用户名", "姓名", "邮箱", "团队编码", "角色", "角色范围", "入组日期"],
        ["zhang", "张伟", "zhang@example.com", "EAST-1", "销售代表", "", "2025-01-01"],
        ["li", "李娜", "li@example.com", "EAST-1", "销售代表", "", "2025-01-01"],
        ["wang", "王总", "wang@example.com", "", "销售总监", "XC", ""],
    ]
    from tests.integrations.test_import_org import workbook

    checked = client.post(
        "/api/v1/imports/", {"file": workbook(units, people), "kind": "org", "dry_run": "true"}
    ).json()
    assert (checked["failed"], checked["written"]) == (0, False)
    imported = client.post("/api/v1/imports/", {"file": workbook(units, people), "kind": "org"})
    assert imported.status_code == 201, imported.json()
    assert User.objects.filter(team__name="华东一组").count() == 2

    # 3. Deal history: a CSV as Chinese Excel saves it (GBK).
    from django.core.files.uploadedfile import SimpleUploadedFile

    deals = (
        "外部编号,客户,负责人邮箱,金额,成交日期\n"
        "H-1,华为技术有限公司,zhang@example.com,1200000,2025-04-10\n"
        "H-2,腾讯科技,li@example.com,800000,2025-05-08\n"
    ).encode("gbk")
    response = client.post(
        "/api/v1/imports/", {"file": SimpleUploadedFile("deals.csv", deals), "kind": "deals"}
    )
    assert response.status_code == 201, response.json()
    assert Deal.objects.count() == 2

    # 4. Targets: the quarter's template (every unit and rep with its key), filled, imported.
    template = client.get(reverse("import-template", args=["targets"]) + "?period=2025Q2")
    book = load_workbook(io.BytesIO(template.content))
    sheet = book.worksheets[0]
    assert sheet.title == "2025Q2"
    amounts = {"星辰科技": (8_000_000, 12_000_000), "张伟": (2_000_000, 3_000_000)}
    for cells in sheet.iter_rows(min_row=2):
        if cells[1].value in amounts:
            cells[4].value, cells[5].value = amounts[cells[1].value]
    filled = io.BytesIO()
    book.save(filled)
    response = client.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("t.xlsx", filled.getvalue()), "kind": "targets"},
    )
    assert response.status_code == 201, response.json()
    assert Target.objects.count() == 2

    # 5. A connection and its first run: a signed push from the ERP.
    connection = client.post(
        "/api/v1/connections/",
        {"kind": "webhook", "name": "ERP 推送", "source": "erp", "settings": {"secret": "s"}},
        format="json",
        content_type="application/json",
    ).json()
    zhang = User.objects.get(username="zhang")
    pushed = _push(
        client,
        connection["id"],
        "s",
        [
            {
                "external_id": "E-1",
                "account": "比亚迪",
                "owner": zhang.pk,
                "amount": "500000.00",
                "won": True,
                "close_date": "2025-05-15",
            }
        ],
    )
    assert pushed.status_code == 200, pushed.json()

    # 6. The checklist is complete and the dashboard is live, with its data freshness.
    setup = client.get(reverse("setup"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "6 of 6 done" in setup
    home = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="actual"' in home
    assert "250万" in home  # 120万 + 80万 + 50万
    assert 'data-testid="data-freshness"' in home and "ERP 推送" in home and "刚刚" in home
    assert 'data-testid="setup-link"' not in home
    company = Target.objects.get(owner_unit__name="星辰科技")
    assert company.base == Decimal("8000000.00")
