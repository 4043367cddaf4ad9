"""The org chart and people from the XLSX/CSV template (issue 7 §4, SPEC §2, §8)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from integrations.models import UnitCode
from targets.models import OrgUnit, OrgUnitClosure, Role, User
from tests.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_may_2025")]
URL = "/api/v1/imports/"

UNITS = [
    ["code", "name", "parent", "kind"],
    ["HQ", "星辰科技", "", "company"],
    ["EAST", "华东", "HQ", "区域"],  # a Chinese kind label reads too
    ["EAST-1", "华东一组", "EAST", "team"],
]
PEOPLE = [
    ["用户名", "姓名", "邮箱", "团队编码", "角色", "角色范围", "入组日期"],  # Chinese headers
    ["zhang.wei", "张伟", "zhang.wei@example.com", "EAST-1", "rep", "", date(2025, 1, 1)],
    ["li.na", "李娜", "li.na@example.com", "", "sales_manager", "EAST", None],
]


def workbook(*tables) -> SimpleUploadedFile:
    book = Workbook()
    book.remove(book.active)
    for number, rows in enumerate(tables):
        sheet = book.create_sheet(f"Sheet{number}")
        for values in rows:
            sheet.append(values)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile("org.xlsx", data.getvalue())


def csv(rows, encoding="utf-8") -> SimpleUploadedFile:
    text = "\n".join(",".join("" if v is None else str(v) for v in r) for r in rows) + "\n"
    return SimpleUploadedFile("org.csv", text.encode(encoding))


def upload(client, file, **options):
    return client.post(URL, {"file": file, "kind": "org", **options}, format="multipart")


def test_an_administrator_imports_units_and_people_into_an_empty_database(api, db):
    admin = make_user("root", roles=[(Role.ADMIN, None)])
    response = upload(api(admin), workbook(UNITS, PEOPLE))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rows"], body["created"], body["updated"], body["failed"]) == (5, 5, 0, 0)
    east1 = OrgUnit.objects.get(name="华东一组")
    assert (east1.kind, east1.parent.name, east1.parent.parent.name) == ("team", "华东", "星辰科技")
    assert OrgUnitClosure.objects.filter(descendant=east1).count() == 3
    zhang = User.objects.get(username="zhang.wei")
    assert (zhang.display_name, zhang.email, zhang.team) == ("张伟", "zhang.wei@example.com", east1)
    assert zhang.memberships.get().valid_from == date(2025, 1, 1)
    assert not zhang.has_usable_password()
    li = User.objects.get(username="li.na")
    assert list(li.role_assignments.values_list("role", "unit__name")) == [
        (Role.SALES_MANAGER, "华东")
    ]


def test_re_importing_the_file_changes_nothing_and_a_rename_follows_the_code(api, db):
    admin = make_user("root", roles=[(Role.ADMIN, None)])
    client = api(admin)
    upload(client, workbook(UNITS, PEOPLE))
    body = upload(client, workbook(UNITS, PEOPLE)).json()
    assert (body["created"], body["updated"], body["failed"]) == (0, 0, 0)
    renamed = [r[:] for r in UNITS]
    renamed[3][1] = "华东 A 组"
    body = upload(client, workbook(renamed)).json()
    assert (body["created"], body["updated"]) == (0, 1)
    assert OrgUnit.objects.count() == 3
    assert UnitCode.objects.get(code="EAST-1").unit.name == "华东 A 组"


def test_a_people_csv_refers_to_units_imported_before_and_may_be_gbk(api, db):
    admin = make_user("root", roles=[(Role.ADMIN, None)])
    client = api(admin)
    upload(client, workbook(UNITS))
    response = upload(client, csv(PEOPLE, "gbk"))
    assert response.status_code == 201, response.json()
    assert User.objects.get(username="zhang.wei").team.name == "华东一组"


def test_a_person_moved_to_another_team_keeps_their_history(api, db):
    admin = make_user("root", roles=[(Role.ADMIN, None)])
    client = api(admin)
    units = [*UNITS, ["EAST-2", "华东二组", "EAST", "team"]]
    upload(client, workbook(units, PEOPLE))
    moved = [PEOPLE[0], ["zhang.wei", "张伟", "", "EAST-2", "", "", date(2025, 4, 1)]]
    body = upload(client, csv(moved)).json()
    assert body["updated"] == 1, body
    zhang = User.objects.get(username="zhang.wei")
    assert zhang.team.name == "华东二组"
    assert list(zhang.memberships.values_list("team__name", "valid_from", "valid_to")) == [
        ("华东一组", date(2025, 1, 1), date(2025, 3, 31)),
        ("华东二组", date(2025, 4, 1), None),
    ]


def test_every_bad_row_is_reported_and_nothing_is_written(api, db):
    admin = make_user("root", roles=[(Role.ADMIN, None)])
    units = [
        *UNITS,
        ["EAST", "重复", "HQ", "region"],  # duplicate code
        ["WEST", "西部", "NOWHERE", "region"],  # unknown parent
        ["NORTH", "华北", "HQ", "planet"],  # bad kind
    ]
    people = [
        *PEOPLE,
        ["zhang.wei", "又一个", "", "EAST-1", "rep", "", None],  # duplicate username
        ["bad name!", "", "", "", "", "", None],  # invalid username
        ["wang", "王", "not-an-email", "EAST-1", "rep", "", None],  # bad e-mail
        ["zhao", "赵", "", "MOON", "rep", "", None],  # unknown team
        ["qian", "钱", "", "EAST-1", "emperor", "", None],  # unknown role
        ["sun", "孙", "", "EAST-1", "rep", "", "2025-13-01"],  # bad date
    ]
    response = upload(api(admin), workbook(units, people))
    assert response.status_code == 200
    body = response.json()
    assert body["written"] is False
    found = {(e["row"], e["field"]) for e in body["errors"]}
    assert found == {
        (5, "code"),
        (6, "parent"),
        (7, "kind"),
        (4, "username"),
        (5, "username"),
        (6, "email"),
        (7, "team"),
        (8, "role"),
        (9, "team_since"),
    }
    assert not OrgUnit.objects.exists()
    assert User.objects.count() == 1


def test_keep_good_rows_writes_the_rest(api, db):
    admin = make_user("root", roles=[(Role.ADMIN, None)])
    people = [*PEOPLE, ["zhao", "赵", "", "MOON", "rep", "", None]]
    response = upload(api(admin), workbook(UNITS, people), keep_good_rows="true")
    assert response.status_code == 201
    assert response.json()["failed"] == 1
    assert set(User.objects.values_list("username", flat=True)) == {"root", "zhang.wei", "li.na"}


def test_a_dry_run_counts_and_writes_nothing(api, db):
    admin = make_user("root", roles=[(Role.ADMIN, None)])
    body = upload(api(admin), workbook(UNITS, PEOPLE), dry_run="true").json()
    assert (body["created"], body["written"]) == (5, False)
    assert not OrgUnit.objects.exists()


def test_a_loop_of_parents_is_refused(api, db):
    admin = make_user("root", roles=[(Role.ADMIN, None)])
    units = [UNITS[0], ["A", "甲", "B", "team"], ["B", "乙", "A", "team"]]
    body = upload(api(admin), workbook(units)).json()
    assert {e["row"] for e in body["errors"]} == {2, 3}


def test_a_table_of_unknown_columns_is_refused_whole(api, org):
    response = upload(api(org.admin), csv([["foo", "bar"], ["1", "2"]]))
    assert response.status_code == 400
    assert "file" in response.json()


def test_only_administrators_import_the_org_chart(api, org):
    for user in (org.director, org.mgr_east, org.hrbp, org.alice):
        assert upload(api(user), workbook(UNITS)).status_code == 403
    assert not UnitCode.objects.exists()


def test_the_template_downloads_and_imports_as_it_is(client, db):
    admin = make_user("root", roles=[(Role.ADMIN, None)])
    client.force_login(admin)
    for language in ("zh-hans", "en"):
        response = client.get("/imports/templates/org/", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.content))
        assert len(book.worksheets) == 2
        file = SimpleUploadedFile("org.xlsx", response.content)
        result = client.post(URL, {"file": file, "kind": "org"})
        assert result.status_code == 201, result.json()
    assert OrgUnit.objects.count() == 3
    assert User.objects.filter(username="rep001").exists()


def test_a_unit_known_by_another_code_takes_the_new_one(api, db):
    admin = make_user("root", roles=[(Role.ADMIN, None)])
    client = api(admin)
    upload(client, workbook(UNITS))
    recoded = [r[:] for r in UNITS]
    recoded[3][0] = "E1"
    response = upload(client, workbook(recoded))
    assert response.status_code == 201, response.json()
    assert OrgUnit.objects.count() == 3
    assert UnitCode.objects.get(unit__name="华东一组").code == "E1"
