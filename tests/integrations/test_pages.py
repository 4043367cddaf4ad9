"""The imports page and the integrations admin, for an administrator who is not a developer."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from integrations.models import Connection, SyncRun
from targets.models import Deal

pytestmark = pytest.mark.django_db

GBK = (
    "外部编号,客户,负责人邮箱,金额,成交日期\n"
    "C-1,华为技术有限公司,alice@example.com,1200,2025-05-10\n"
    "C-2,腾讯科技,bob@example.com,-1,2025-05-10\n"
).encode("gbk")


@pytest.fixture
def admin_client(client, org):
    client.force_login(org.admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def post(client, action, **extra):
    file = SimpleUploadedFile("deals.csv", GBK, content_type="text/csv")
    return client.post(reverse("imports"), {"file": file, "action": action, **extra})


def test_checking_a_file_lists_its_bad_rows_and_writes_nothing(admin_client):
    response = post(admin_client, "check")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Check result (nothing written)" in page
    assert "The amount cannot be negative." in page
    assert not Deal.objects.exists()


def test_importing_a_bad_file_writes_nothing_unless_good_rows_are_kept(admin_client):
    response = post(admin_client, "import")
    assert "Not imported: the file has bad rows" in response.content.decode()
    assert not Deal.objects.exists()
    response = post(admin_client, "import", keep_good_rows="on")
    assert "Imported" in response.content.decode()
    assert list(Deal.objects.values_list("account", flat=True)) == ["华为技术有限公司"]


def test_the_page_speaks_chinese(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    response = admin_client.get(reverse("imports"))
    assert "导入" in response.content.decode()


def test_a_missing_file_is_a_form_error(admin_client):
    response = admin_client.post(reverse("imports"), {"action": "check"})
    assert response.status_code == 400


def test_only_administrators_and_directors_open_the_imports_page(client, org):
    for user in (org.mgr_east, org.hrbp, org.finance, org.alice):
        client.force_login(user)
        assert client.get(reverse("imports")).status_code == 403
    client.force_login(org.director)
    page = client.get(reverse("imports")).content.decode()
    assert 'value="targets"' in page
    assert 'value="deals"' not in page and 'value="org"' not in page
    client.logout()
    assert client.get(reverse("imports")).status_code == 302


def test_the_imports_page_refuses_other_methods(admin_client):
    assert admin_client.put(reverse("imports")).status_code == 405


def test_an_administrator_adds_a_webhook_connection_in_the_admin_without_seeing_its_secret(
    admin_client,
):
    response = admin_client.post(
        reverse("admin:integrations_connection_add"),
        {
            "kind": "webhook",
            "name": "ERP push",
            "source": "erp",
            "enabled": "on",
            "schedule_minutes": "15",
            "settings": "{}",
            "new_secrets": '{"secret": "HIDDEN-VALUE"}',
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    connection = Connection.objects.get()
    assert connection.secrets == {"secret": "HIDDEN-VALUE"}
    page = admin_client.get(
        reverse("admin:integrations_connection_change", args=[connection.pk])
    ).content.decode()
    assert "HIDDEN-VALUE" not in page
    assert f"/api/v1/integrations/webhook/{connection.pk}/" in page
    changelist = admin_client.get(reverse("admin:integrations_connection_changelist"))
    assert changelist.status_code == 200


def test_the_run_log_is_read_only_in_the_admin(admin_client):
    post(admin_client, "import", keep_good_rows="on")
    assert SyncRun.objects.count() == 1
    assert admin_client.get(reverse("admin:integrations_syncrun_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:integrations_syncrun_add")).status_code == 403
