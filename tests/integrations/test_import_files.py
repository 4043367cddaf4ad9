"""What every import kind shares: the size limit, encodings, the page and the templates."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from targets.models import OrgUnit, Target

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports/"
NOT_TEXT = b"\xff\xfe\x00\x81\x30" * 10  # neither UTF-8 nor GB18030


@pytest.mark.parametrize("kind", ["deals", "targets", "org"])
def test_a_file_above_the_limit_is_a_clear_400_for_every_kind(api, org, settings, kind):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    file = SimpleUploadedFile("big.csv", b"a" * (1024 * 1024 + 1))
    response = api(org.admin).post(URL, {"file": file, "kind": kind, "period": "2025Q3"})
    assert response.status_code == 400
    assert "1 MB" in response.json()["file"][0]


@pytest.mark.parametrize("kind", ["targets", "org"])
def test_a_file_in_neither_utf8_nor_gbk_is_refused_and_writes_nothing(api, org, kind):
    file = SimpleUploadedFile("x.csv", NOT_TEXT)
    response = api(org.admin).post(URL, {"file": file, "kind": kind, "period": "2025Q3"})
    assert response.status_code == 400
    assert "GBK" in response.json()["file"][0]
    assert OrgUnit.objects.count() == 6 and not Target.objects.exists()


def test_an_unknown_kind_is_a_400(api, org):
    file = SimpleUploadedFile("m.csv", b"a,b\n1,2\n")
    response = api(org.admin).post(URL, {"file": file, "kind": "opportunities"})
    assert response.status_code == 400
    assert "kind" in response.json()


def test_a_director_imports_targets_on_the_page(client, org, in_may_2025):
    client.force_login(org.director)
    text = f"Key,Base,Stretch\nuser-{org.alice.pk},100,200\n".encode()
    response = client.post(
        reverse("imports"),
        {
            "kind": "targets",
            "period": "2025Q3",
            "action": "import",
            "file": SimpleUploadedFile("t.csv", text),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Imported" in response.content.decode()
    assert Target.objects.get().owner_user == org.alice


def test_the_page_lists_bad_rows_of_an_org_file(client, org):
    client.force_login(org.admin)
    text = "code,name,parent,kind\nX,甲,NOWHERE,team\n".encode()
    response = client.post(
        reverse("imports"),
        {"kind": "org", "action": "check", "file": SimpleUploadedFile("o.csv", text)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "No unit with the code NOWHERE" in response.content.decode()


def test_a_quarter_that_is_not_one_is_a_form_error_on_the_page(client, org):
    client.force_login(org.admin)
    text = f"Key,Base,Stretch\nunit-{org.east.pk},1,2\n".encode()
    response = client.post(
        reverse("imports"),
        {"kind": "targets", "period": "Q9", "file": SimpleUploadedFile("t.csv", text)},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("kind", ["deals", "org", "targets"])
def test_each_kind_has_a_template_in_both_languages(client, org, kind):
    client.force_login(org.admin)
    for language in ("zh-hans", "en"):
        response = client.get(
            reverse("import-template", args=[kind]), HTTP_ACCEPT_LANGUAGE=language
        )
        assert response.status_code == 200
        assert response["Content-Disposition"].endswith('.xlsx"')
        load_workbook(io.BytesIO(response.content))


def test_templates_follow_who_may_import_them(client, org):
    client.force_login(org.director)
    assert client.get(reverse("import-template", args=["targets"])).status_code == 200
    assert client.get(reverse("import-template", args=["org"])).status_code == 403
    assert client.get(reverse("import-template", args=["nothing"])).status_code == 404
    client.force_login(org.alice)
    assert client.get(reverse("import-template", args=["targets"])).status_code == 403


def test_the_imports_page_costs_a_fixed_number_of_statements(
    client, org, django_assert_max_num_queries
):
    from integrations.models import RunKind
    from integrations.services import run_finish, run_start

    client.force_login(org.admin)
    client.get(reverse("imports"))
    for _n in range(5):
        run_finish(run=run_start(kind=RunKind.IMPORT, source="csv"), fetched=1, failed=0)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("imports")).status_code == 200
