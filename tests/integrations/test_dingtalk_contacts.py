"""The org chart from DingTalk contacts: a preview that writes nothing, an import that is
all-or-nothing and changes nothing the second time."""

from __future__ import annotations

import pytest

from integrations.dingtalk.contacts import Action, contacts_apply, contacts_preview
from integrations.models import ConnectionKind, DingTalkDepartment
from integrations.services import connection_save
from targets.models import OrgUnit, Role, User

pytestmark = pytest.mark.django_db


def person(userid, name, email, *depts):
    return {"userid": userid, "name": name, "email": email, "dept_id_list": list(depts)}


@pytest.fixture
def directory(dingtalk, org):
    dingtalk.departments = {
        1: {"dept_id": 1, "name": "ACME"},
        10: {"dept_id": 10, "name": "华东 East", "parent_id": 1},
        11: {"dept_id": 11, "name": "East-1", "parent_id": 10},
        12: {"dept_id": 12, "name": "East-3", "parent_id": 10},
        20: {"dept_id": 20, "name": "华南 South", "parent_id": 1},
        21: {"dept_id": 21, "name": "South-1", "parent_id": 20},
    }
    dingtalk.users = {
        1: [person("boss", "老板", "boss@acme.cn", 1)],
        11: [person("dt-alice", "王爱丽", "ALICE@example.com", 11)],
        12: [person("zhang.san", "张三", "zhangsan@acme.cn", 12)],
        20: [person("李四", "李四", "", 21, 20)],
        21: [person("李四", "李四", "", 21, 20)],
    }
    return dingtalk


def counts():
    return (OrgUnit.objects.count(), User.objects.count(), DingTalkDepartment.objects.count())


def test_the_preview_says_what_would_happen_and_writes_nothing(directory, org):
    before = counts()
    plan = contacts_preview(connection=directory.connection)
    assert counts() == before
    units = {row.name: (row.action, row.kind) for row in plan.units}
    assert units == {
        "ACME": (Action.MATCH, "company"),
        "华东 East": (Action.MATCH, "region"),
        "East-1": (Action.MATCH, "team"),
        "East-3": (Action.CREATE, "team"),
        "华南 South": (Action.CREATE, "region"),
        "South-1": (Action.CREATE, "team"),
    }
    people = {row.userid: row for row in plan.people}
    assert people["dt-alice"].action == Action.UPDATE
    assert people["dt-alice"].user == org.alice and people["dt-alice"].team_name == "East-1"
    assert people["zhang.san"].action == Action.CREATE
    assert (people["zhang.san"].username, people["zhang.san"].team_name) == ("zhang.san", "East-3")
    assert people["李四"].team_name == "South-1"
    assert people["boss"].team_name == ""
    assert plan.summary["people_create"] == 3


def test_the_import_builds_the_tree_and_the_people(directory, org):
    result = contacts_apply(connection=directory.connection)
    assert (result.units_created, result.people_created, result.people_updated) == (3, 3, 1)
    south = OrgUnit.objects.get(name="华南 South")
    assert (south.kind, south.parent) == ("region", org.company)
    east3 = OrgUnit.objects.get(name="East-3")
    assert (east3.kind, east3.parent) == ("team", org.east)
    zhang = User.objects.get(username="zhang.san")
    assert (zhang.display_name, zhang.email, zhang.team, zhang.dingtalk_userid) == (
        "张三",
        "zhangsan@acme.cn",
        east3,
        "zhang.san",
    )
    assert list(zhang.role_assignments.values_list("role", "unit")) == [(Role.REP, east3.pk)]
    assert not zhang.has_usable_password()
    org.alice.refresh_from_db()
    assert (org.alice.dingtalk_userid, org.alice.display_name, org.alice.team) == (
        "dt-alice",
        "王爱丽",
        org.east1,
    )
    boss = User.objects.get(username="boss")
    assert boss.team is None and not boss.role_assignments.exists()


def test_importing_again_changes_nothing(directory):
    contacts_apply(connection=directory.connection)
    before = counts()
    plan = contacts_preview(connection=directory.connection)
    assert {row.action for row in plan.units + plan.people} == {Action.MATCH}
    result = contacts_apply(connection=directory.connection)
    assert (result.units_created, result.units_updated) == (0, 0)
    assert (result.people_created, result.people_updated) == (0, 0)
    assert counts() == before


def test_a_department_renamed_or_moved_in_dingtalk_is_renamed_or_moved_here(directory, org):
    contacts_apply(connection=directory.connection)
    unit = OrgUnit.objects.get(name="East-3")
    directory.departments[12].update(name="East-3 新", parent_id=20)
    directory.users[12][0]["name"] = "张三丰"
    plan = contacts_preview(connection=directory.connection)
    [row] = [r for r in plan.units if r.dept_id == 12]
    assert row.action == Action.UPDATE and len(row.changes) == 2
    contacts_apply(connection=directory.connection)
    unit.refresh_from_db()
    assert (unit.name, unit.parent.name) == ("East-3 新", "华南 South")
    assert User.objects.get(dingtalk_userid="zhang.san").display_name == "张三丰"


def test_an_address_that_is_no_address_is_left_out_and_said(directory):
    directory.users[12][0]["email"] = "zhangsan at acme"
    plan = contacts_preview(connection=directory.connection)
    [row] = [r for r in plan.people if r.userid == "zhang.san"]
    assert row.email == "" and "zhangsan at acme" in row.remarks[0]
    contacts_apply(connection=directory.connection)
    assert User.objects.get(dingtalk_userid="zhang.san").email == ""
    [again] = [
        r
        for r in contacts_preview(connection=directory.connection).people
        if r.userid == "zhang.san"
    ]
    assert again.action == Action.MATCH and again.notes


def test_a_person_already_linked_to_another_dingtalk_user_is_skipped(directory, org):
    from targets import services

    services.user_save(
        user=org.alice,
        username="alice",
        display_name="Alice",
        email=org.alice.email,
        team=org.east1,
        dingtalk_userid="dt-alice-old",
    )
    plan = contacts_preview(connection=directory.connection)
    [row] = [r for r in plan.people if r.userid == "dt-alice"]
    assert row.action == Action.SKIP
    contacts_apply(connection=directory.connection)
    org.alice.refresh_from_db()
    assert org.alice.dingtalk_userid == "dt-alice-old"


# --- the page ----------------------------------------------------------------------------


def url(connection) -> str:
    return f"/integrations/dingtalk/{connection.pk}/contacts/"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_admin_sees_the_preview_in_either_language(
    client, directory, org, language, django_assert_max_num_queries
):
    client.force_login(org.admin)
    with django_assert_max_num_queries(20):
        response = client.get(url(directory.connection), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    page = response.content.decode()
    assert "South-1" in page and "张三" in page
    heading = "Org chart from DingTalk" if language == "en" else "从钉钉导入组织架构"
    assert heading in page
    assert counts()[0] == 6


def test_the_import_button_imports_and_comes_back(client, directory, org):
    client.force_login(org.admin)
    response = client.post(url(directory.connection))
    assert response.status_code == 302 and response["Location"] == url(directory.connection)
    assert OrgUnit.objects.filter(name="South-1").exists()
    page = client.get(url(directory.connection)).content.decode()
    assert "South-1" in page


def test_dingtalk_unreachable_is_said_on_the_page(client, directory, org):
    client.force_login(org.admin)
    directory.fail_next = [500, 500, 500]
    response = client.get(url(directory.connection))
    assert response.status_code == 200
    assert "500" in response.content.decode()


@pytest.mark.parametrize("persona", ["director", "hrbp", "finance", "mgr_east", "alice"])
def test_only_admins_import_the_org_chart(client, directory, org, persona):
    client.force_login(getattr(org, persona))
    assert client.get(url(directory.connection)).status_code == 403
    assert client.post(url(directory.connection)).status_code == 403
    assert not OrgUnit.objects.filter(name="South-1").exists()


def test_anonymous_callers_log_in_and_other_connections_are_not_found(client, directory, org):
    assert client.get(url(directory.connection)).status_code == 302
    client.force_login(org.admin)
    webhook = connection_save(kind=ConnectionKind.WEBHOOK, name="hook", settings={})
    assert client.get(url(webhook)).status_code == 404
    assert client.get("/integrations/dingtalk/999999/contacts/").status_code == 404
    assert client.put(url(directory.connection)).status_code == 405
