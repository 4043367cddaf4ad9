"""`users/`: `team_since`, the day a rep's current team applies from (SPEC §2, §10)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from targets import services
from targets.figures import figures_for
from targets.models import RoleAssignment, TeamMembership
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

D = Decimal


def _user(api, org, user) -> dict:
    response = api(org.admin).get(f"/api/v1/users/{user.pk}/")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def since_january(in_may_2025, org):
    """Alice and Bob have been in East-1 since 1 January."""
    for rep in [org.alice, org.bob]:
        services.user_move_team(user=rep, team=org.east1, since=date(2025, 1, 1))
    return org


def test_a_rep_moved_mid_quarter_leaves_earlier_deals_with_the_old_team(api, since_january):
    org = since_january
    old = services.target_create(
        period="2025Q2", owner_unit=org.east1, base=D(1000), stretch=D(2000)
    )
    new = services.target_create(
        period="2025Q2", owner_unit=org.east2, base=D(1000), stretch=D(2000)
    )
    DealFactory(owner=org.alice, amount=D("100000.00"), close_date=date(2025, 4, 15))
    DealFactory(owner=org.alice, amount=D("50000.00"), close_date=date(2025, 5, 10))

    response = api(org.admin).patch(
        f"/api/v1/users/{org.alice.pk}/",
        {"team": org.east2.pk, "team_since": "2025-05-01"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["team"], response.json()["team_since"]) == (org.east2.pk, "2025-05-01")
    figures = figures_for([old, new], as_of=date(2025, 5, 20))
    assert figures[old.pk].actual == D("100000.00")
    assert figures[new.pk].actual == D("50000.00")
    assert _user(api, org, org.alice)["team_since"] == "2025-05-01"
    history = TeamMembership.objects.filter(user=org.alice).order_by("valid_from")
    assert [(m.team_id, m.valid_from, m.valid_to) for m in history] == [
        (org.east1.pk, date(2025, 1, 1), date(2025, 4, 30)),
        (org.east2.pk, date(2025, 5, 1), None),
    ]


def test_a_move_without_team_since_applies_from_today(api, since_january):
    org = since_january
    response = api(org.admin).patch(
        f"/api/v1/users/{org.bob.pk}/", {"team": org.north1.pk}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["team_since"] == "2025-05-20"
    history = TeamMembership.objects.filter(user=org.bob).order_by("valid_from")
    assert [(m.team_id, m.valid_to) for m in history] == [
        (org.east1.pk, date(2025, 5, 19)),
        (org.north1.pk, None),
    ]


def test_a_new_rep_gets_team_since_and_a_user_without_team_none(api, in_may_2025, org):
    client = api(org.admin)
    rep = client.post(
        "/api/v1/users/",
        {
            "username": "erin",
            "team": org.east2.pk,
            "team_since": "2025-04-01",
            "roles": [{"role": "rep", "unit": org.east2.pk}],
        },
        format="json",
    )
    assert rep.status_code == 201, rep.json()
    assert rep.json()["team_since"] == "2025-04-01"
    assert _user(api, org, org.director)["team_since"] is None
    listed = {
        u["username"]: u["team_since"] for u in client.get("/api/v1/users/").json()["results"]
    }
    assert listed["erin"] == "2025-04-01"


@pytest.mark.parametrize(
    "team_since",
    ["2025-13-01", "not a date", "2025-05-21", "2099-01-01", "0001-01-01", "1899-12-31", 20250501],
)
def test_a_bad_team_since_is_a_400_and_changes_nothing(api, since_january, team_since):
    org = since_january
    response = api(org.admin).patch(
        f"/api/v1/users/{org.alice.pk}/",
        {"team": org.east2.pk, "team_since": team_since},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["team_since"]
    org.alice.refresh_from_db()
    assert org.alice.team == org.east1
    assert TeamMembership.objects.filter(user=org.alice).count() == 1


def test_a_role_without_its_unit_is_a_400_on_roles_and_keeps_the_old_roles(api, org):
    response = api(org.admin).patch(
        f"/api/v1/users/{org.mgr_east.pk}/",
        {"roles": [{"role": "sales_manager", "unit": None}]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["roles"]
    assert list(
        RoleAssignment.objects.filter(user=org.mgr_east).values_list("unit", flat=True)
    ) == [org.east.pk]


def test_an_admin_role_needs_no_unit(api, org):
    response = api(org.admin).post(
        "/api/v1/users/", {"username": "root2", "roles": [{"role": "admin"}]}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["roles"] == [{"role": "admin", "unit": None}]


def test_only_an_admin_writes_team_since(api, since_january):
    org = since_january
    response = api(org.director).patch(
        f"/api/v1/users/{org.alice.pk}/", {"team_since": "2025-05-01"}, format="json"
    )
    assert response.status_code == 403
    assert api(org.alice).patch(
        f"/api/v1/users/{org.dave.pk}/", {"team_since": "2025-05-01"}, format="json"
    ).status_code in (403, 404)
