"""Administrators keep the organisation: units, people and their roles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from targets import services
from targets.models import OrgUnit, OrgUnitClosure, User

pytestmark = pytest.mark.django_db


def test_admin_creates_a_region_and_the_tree_knows_it(api, org):
    response = api(org.admin).post(
        "/api/v1/org-units/",
        {"name": "华南 South", "kind": "region", "parent": org.company.pk},
        format="json",
    )
    assert response.status_code == 201
    south = OrgUnit.objects.get(pk=response.json()["id"])
    assert OrgUnitClosure.objects.filter(ancestor=org.company, descendant=south, depth=1).exists()


def test_a_unit_cannot_move_under_its_own_subtree(api, org):
    response = api(org.admin).patch(
        f"/api/v1/org-units/{org.east.pk}/", {"parent": org.east1.pk}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()
    org.east.refresh_from_db()
    assert org.east.parent == org.company


def test_moving_a_team_moves_its_figures_to_the_new_region(api, org):
    response = api(org.admin).patch(
        f"/api/v1/org-units/{org.east2.pk}/", {"parent": org.north.pk}, format="json"
    )
    assert response.status_code == 200
    assert OrgUnitClosure.objects.filter(ancestor=org.north, descendant=org.east2).exists()
    assert not OrgUnitClosure.objects.filter(ancestor=org.east, descendant=org.east2).exists()


def test_an_unknown_kind_is_a_400(api, org):
    response = api(org.admin).post(
        "/api/v1/org-units/", {"name": "X", "kind": "galaxy"}, format="json"
    )
    assert response.status_code == 400
    assert "kind" in response.json()


def test_a_unit_with_members_cannot_be_deleted(api, org):
    response = api(org.admin).delete(f"/api/v1/org-units/{org.east1.pk}/")
    assert response.status_code == 409
    assert OrgUnit.objects.filter(pk=org.east1.pk).exists()


def test_an_empty_unit_can_be_deleted(api, org):
    empty = services.org_unit_save(name="Empty", kind="team", parent=org.north)
    assert api(org.admin).delete(f"/api/v1/org-units/{empty.pk}/").status_code == 204
    assert not OrgUnitClosure.objects.filter(descendant_id=empty.pk).exists()


def test_admin_creates_a_manager_with_a_scoped_role(api, org):
    response = api(org.admin).post(
        "/api/v1/users/",
        {
            "username": "mgr_north",
            "password": "targetpilot",
            "display_name": "王经理",
            "email": "mgr_north@example.com",
            "roles": [{"role": "sales_manager", "unit": org.north.pk}],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert "password" not in body
    assert body["roles"] == [{"role": "sales_manager", "unit": org.north.pk}]
    user = User.objects.get(username="mgr_north")
    assert user.check_password("targetpilot")
    # The new manager now sees North's targets.
    target = services.target_create(
        period="2099Q1", owner_user=org.dave, base=Decimal(1), stretch=Decimal(2)
    )
    assert api(user).get(f"/api/v1/targets/{target.pk}/").status_code == 200


def test_a_manager_role_without_a_unit_is_a_400(api, org):
    response = api(org.admin).post(
        "/api/v1/users/",
        {"username": "nobody", "password": "targetpilot", "roles": [{"role": "sales_manager"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "roles" in response.json()
    assert not User.objects.filter(username="nobody").exists()


def test_an_unknown_role_is_a_400(api, org):
    response = api(org.admin).post(
        "/api/v1/users/", {"username": "x", "roles": [{"role": "king"}]}, format="json"
    )
    assert response.status_code == 400
    assert "roles" in response.json()


def test_a_duplicate_username_is_a_400(api, org):
    response = api(org.admin).post("/api/v1/users/", {"username": "alice"}, format="json")
    assert response.status_code == 400
    assert "username" in response.json()


def test_patching_roles_replaces_them(api, org):
    response = api(org.admin).patch(
        f"/api/v1/users/{org.bob.pk}/",
        {"roles": [{"role": "hrbp", "unit": org.east.pk}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["roles"] == [{"role": "hrbp", "unit": org.east.pk}]
    assert response.json()["team"] == org.east1.pk


def test_deleting_a_user_deactivates_them(api, org):
    assert api(org.admin).delete(f"/api/v1/users/{org.bob.pk}/").status_code == 204
    org.bob.refresh_from_db()
    assert org.bob.is_active is False


def test_a_non_admin_is_refused_before_the_body_is_looked_at(api, org):
    response = api(org.director).post("/api/v1/org-units/", {"kind": "galaxy"}, format="json")
    assert response.status_code == 403


def test_an_unseen_user_is_404_for_a_non_admin_edit(api, org):
    response = api(org.alice).patch(f"/api/v1/users/{org.dave.pk}/", {"email": "x"}, format="json")
    assert response.status_code == 404
