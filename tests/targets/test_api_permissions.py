"""Role × endpoint matrix (SPEC §2): unseen objects are 404, forbidden actions 403.

Two companies and region-scoped roles (tests/targets/scoped.py): every role but admin
applies to the subtree of the unit it is granted on, and nobody but admin sees across
company roots. Admin configures but is no sales authority: it sets no target and confirms
no deal. A person or unit of another company named in a body is as unknown as a missing id
(400).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from targets import services
from targets.models import OrgUnit
from tests.factories import DealFactory
from tests.targets.scoped import (
    ACME,
    ACME_WIDE,
    EAST_SCOPED,
    GLOBEX,
    GLOBEX_WIDE,
    PERSONAS,
    build_world,
    expected,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org):
    return build_world(org)


class _Rollback(Exception):
    """Leaves the savepoint a matrix cell ran in, so the next cell sees the same world."""


def call(api, user, method, url, data=None):
    return getattr(api(user), method)(url, data, format="json")


def call_and_undo(api, user, method, url, data=None):
    response = None
    try:
        with transaction.atomic():
            response = call(api, user, method, url, data)
            raise _Rollback
    except _Rollback:
        pass
    return response


EAST_SEERS = ("admin", *ACME_WIDE, *EAST_SCOPED)
# Who sets targets in East: directors over it and (below the region) its manager.
EAST_SETTERS = ("director", "east_director")

# (name, method, url template, body, {persona or group: status}); "others" for the rest.
MATRIX = [
    ("me", "get", "/api/v1/me/", None, {"anonymous": 401, "others": 200}),
    ("units list", "get", "/api/v1/org-units/", None, {"anonymous": 401, "others": 200}),
    (
        "unit create",
        "post",
        "/api/v1/org-units/",
        {"name": "华南 South", "kind": "region", "parent": "{company}"},
        {"anonymous": 401, "admin": 201, "others": 403},
    ),
    (
        "unit rename (East)",
        "patch",
        "/api/v1/org-units/{east}/",
        {"name": "华东大区"},
        {"anonymous": 401, "admin": 200, tuple(GLOBEX): 404, "others": 403},
    ),
    (
        "unit read (Globex region)",
        "get",
        "/api/v1/org-units/{g_south}/",
        None,
        {"anonymous": 401, ("admin", *GLOBEX): 200, "others": 404},
    ),
    ("users list", "get", "/api/v1/users/", None, {"anonymous": 401, "others": 200}),
    (
        "user create",
        "post",
        "/api/v1/users/",
        {
            "username": "newbie",
            "password": "s3cret-pass",
            "team": "{east1}",
            "roles": [{"role": "rep", "unit": "{east1}"}],
        },
        {"anonymous": 401, "admin": 201, "others": 403},
    ),
    (
        "user read (dave)",
        "get",
        "/api/v1/users/{dave}/",
        None,
        {"anonymous": 401, ("admin", *ACME_WIDE, "dave"): 200, "others": 404},
    ),
    (
        "user read (gina)",
        "get",
        "/api/v1/users/{gina}/",
        None,
        {"anonymous": 401, ("admin", *GLOBEX): 200, "others": 404},
    ),
    (
        "user edit (alice)",
        "patch",
        "/api/v1/users/{alice}/",
        {"display_name": "Alice Wang"},
        {"anonymous": 401, "admin": 200, (*EAST_SEERS, "alice"): 403, "others": 404},
    ),
    ("targets list", "get", "/api/v1/targets/", None, {"anonymous": 401, "others": 200}),
    (
        "target read (company)",
        "get",
        "/api/v1/targets/{t_company}/",
        None,
        {"anonymous": 401, ("admin", *ACME_WIDE): 200, "others": 404},
    ),
    (
        "target read (East)",
        "get",
        "/api/v1/targets/{t_east}/",
        None,
        {"anonymous": 401, EAST_SEERS: 200, "others": 404},
    ),
    (
        "target read (dave)",
        "get",
        "/api/v1/targets/{t_dave}/",
        None,
        {"anonymous": 401, ("admin", *ACME_WIDE, "dave"): 200, "others": 404},
    ),
    (
        "target read (alice)",
        "get",
        "/api/v1/targets/{t_alice}/",
        None,
        {"anonymous": 401, (*EAST_SEERS, "alice"): 200, "others": 404},
    ),
    (
        "target read (gina)",
        "get",
        "/api/v1/targets/{t_gina}/",
        None,
        {"anonymous": 401, ("admin", *GLOBEX): 200, "others": 404},
    ),
    (
        "target create for rep (alice)",
        "post",
        "/api/v1/targets/",
        {"period": "2099Q2", "owner_user": "{alice}", "base": "100", "stretch": "150"},
        {"anonymous": 401, (*EAST_SETTERS, "mgr_east"): 201, tuple(GLOBEX): 400, "others": 403},
    ),
    (
        "target create for a region (East)",
        "post",
        "/api/v1/targets/",
        {"period": "2099Q2", "owner_unit": "{east}", "base": "100", "stretch": "150"},
        {"anonymous": 401, EAST_SETTERS: 201, tuple(GLOBEX): 400, "others": 403},
    ),
    (
        "target create for the company (ACME)",
        "post",
        "/api/v1/targets/",
        {"period": "2099Q2", "owner_unit": "{company}", "base": "100", "stretch": "150"},
        {"anonymous": 401, "director": 201, tuple(GLOBEX): 400, "others": 403},
    ),
    (
        "target create for Globex's region",
        "post",
        "/api/v1/targets/",
        {"period": "2099Q2", "owner_unit": "{g_south}", "base": "100", "stretch": "150"},
        {"anonymous": 401, "g_director": 201, ("admin", *GLOBEX): 403, "others": 400},
    ),
    (
        "target edit (alice)",
        "patch",
        "/api/v1/targets/{t_alice}/",
        {"base": "120"},
        {
            "anonymous": 401,
            (*EAST_SETTERS, "mgr_east"): 200,
            (*EAST_SEERS, "alice"): 403,
            "others": 404,
        },
    ),
    (
        "target delete (alice)",
        "delete",
        "/api/v1/targets/{t_alice}/",
        None,
        {
            "anonymous": 401,
            (*EAST_SETTERS, "mgr_east"): 204,
            (*EAST_SEERS, "alice"): 403,
            "others": 404,
        },
    ),
    (
        "target edit (gina)",
        "patch",
        "/api/v1/targets/{t_gina}/",
        {"base": "120"},
        {"anonymous": 401, "g_director": 200, ("admin", *GLOBEX): 403, "others": 404},
    ),
    (
        "target revisions (dave)",
        "get",
        "/api/v1/targets/{t_dave}/revisions/",
        None,
        {"anonymous": 401, ("admin", *ACME_WIDE, "dave"): 200, "others": 404},
    ),
    (
        "target trend (dave)",
        "get",
        "/api/v1/targets/{t_dave}/trend/",
        None,
        {"anonymous": 401, ("admin", *ACME_WIDE, "dave"): 200, "others": 404},
    ),
    ("deals list", "get", "/api/v1/deals/", None, {"anonymous": 401, "others": 200}),
    (
        "deal read (alice)",
        "get",
        "/api/v1/deals/{d_alice}/",
        None,
        {"anonymous": 401, (*EAST_SEERS, "alice"): 200, "others": 404},
    ),
    (
        "deal read (dave)",
        "get",
        "/api/v1/deals/{d_dave}/",
        None,
        {"anonymous": 401, ("admin", *ACME_WIDE, "dave"): 200, "others": 404},
    ),
    (
        "deal read (gina)",
        "get",
        "/api/v1/deals/{d_gina}/",
        None,
        {"anonymous": 401, ("admin", *GLOBEX): 200, "others": 404},
    ),
    (
        "manual deal for alice",
        "post",
        "/api/v1/deals/",
        {"account": "上海某公司", "owner": "{alice}", "amount": "1000", "close_date": "{today}"},
        {
            "anonymous": 401,
            (*EAST_SETTERS, "mgr_east", "alice"): 201,
            tuple(GLOBEX): 400,
            "others": 403,
        },
    ),
    (
        "manual deal for gina",
        "post",
        "/api/v1/deals/",
        {"account": "广州某公司", "owner": "{gina}", "amount": "1000", "close_date": "{today}"},
        {"anonymous": 401, ("g_director", "gina"): 201, ("admin", *GLOBEX): 403, "others": 400},
    ),
    (
        "confirm alice's manual deal",
        "post",
        "/api/v1/deals/{d_m_alice}/confirm/",
        None,
        {
            "anonymous": 401,
            (*EAST_SETTERS, "mgr_east"): 200,
            (*EAST_SEERS, "alice"): 403,
            "others": 404,
        },
    ),
    (
        "confirm gina's manual deal",
        "post",
        "/api/v1/deals/{d_m_gina}/confirm/",
        None,
        {"anonymous": 401, "g_director": 200, ("admin", *GLOBEX): 403, "others": 404},
    ),
    (
        "dashboard of the company (ACME)",
        "get",
        "/api/v1/dashboard/summary/?unit={company}",
        None,
        {"anonymous": 401, ("admin", *ACME_WIDE): 200, tuple(GLOBEX): 404, "others": 403},
    ),
    (
        "dashboard of East",
        "get",
        "/api/v1/dashboard/summary/?unit={east}",
        None,
        {"anonymous": 401, EAST_SEERS: 200, tuple(GLOBEX): 404, "others": 403},
    ),
    (
        "dashboard of East-1",
        "get",
        "/api/v1/dashboard/summary/?unit={east1}",
        None,
        {"anonymous": 401, EAST_SEERS: 200, tuple(GLOBEX): 404, "others": 403},
    ),
    (
        "dashboard of North",
        "get",
        "/api/v1/dashboard/summary/?unit={north}",
        None,
        {"anonymous": 401, ("admin", *ACME_WIDE): 200, tuple(GLOBEX): 404, "others": 403},
    ),
    (
        "dashboard of Globex",
        "get",
        "/api/v1/dashboard/summary/?unit={globex}",
        None,
        {"anonymous": 401, ("admin", *GLOBEX_WIDE): 200, "gina": 403, "others": 404},
    ),
    ("own dashboard", "get", "/api/v1/dashboard/summary/", None, {"anonymous": 401, "others": 200}),
    # Integrations are the administrator's alone; their own tests run them on real connections.
    (
        "sync run start",
        "post",
        "/api/v1/sync-runs/",
        {"connection": 999_999},
        {"anonymous": 401, "admin": 400, "others": 403},
    ),
    (
        "connection test",
        "post",
        "/api/v1/connections/999999/test/",
        None,
        {"anonymous": 401, "admin": 404, "others": 403},
    ),
]

ID_FIELDS = {"parent", "team", "owner_user", "owner_unit", "owner", "unit", "user"}


def _fill(template, ids, key=None):
    if isinstance(template, str):
        value = template.format(**ids)
        return int(value) if key in ID_FIELDS and value.isdigit() else value
    if isinstance(template, dict):
        return {k: _fill(v, ids, k) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, ids, key) for v in template]
    return template


def test_role_endpoint_matrix(api, world):
    """Every row × every persona; each call runs in a savepoint rolled back after it, so one
    world serves the whole matrix. A failure lists every wrong cell: row → persona →
    (expected, got, body)."""
    ids = world.ids()
    wrong: dict[str, dict] = {}
    for name, method, url, body, table in MATRIX:
        url, body = _fill(url, ids), _fill(body, ids)
        for persona in PERSONAS:
            response = call_and_undo(api, world.person(persona), method, url, body)
            want = expected(table, persona)
            if response.status_code != want:
                content = response.content[:200].decode(errors="replace")
                wrong.setdefault(name, {})[persona] = (want, response.status_code, content)
    assert not wrong, wrong


def test_the_matrix_covers_every_persona_group():
    # A typo in a group key would silently fall back to "others".
    for _name, _method, _url, _body, table in MATRIX:
        for key in table:
            names = key if isinstance(key, tuple) else (key,)
            assert set(names) <= {*PERSONAS, "others"}, names


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:200]
    return {row["id"] for row in response.json()["results"]}


# persona or group → names of the targets, deals, units and people in their lists.
ACME_TARGETS = {"company", "east", "east1", "north", "north1", "alice", "dave"}
GLOBEX_TARGETS = {"globex", "g_south", "g_south1", "gina"}
SEES_TARGETS = {
    "admin": {*ACME_TARGETS, *GLOBEX_TARGETS},
    tuple(ACME_WIDE): ACME_TARGETS,
    tuple(EAST_SCOPED): {"east", "east1", "alice"},
    "alice": {"alice"},
    "dave": {"dave"},
    tuple(GLOBEX_WIDE): GLOBEX_TARGETS,
    "gina": {"gina"},
}
SEES_DEALS = {
    "admin": {"alice", "dave", "gina", "m_alice", "m_gina"},
    tuple(ACME_WIDE): {"alice", "dave", "m_alice"},
    tuple(EAST_SCOPED): {"alice", "m_alice"},
    "alice": {"alice", "m_alice"},
    "dave": {"dave"},
    tuple(GLOBEX_WIDE): {"gina", "m_gina"},
    "gina": {"gina", "m_gina"},
}
ACME_UNITS = {"company", "east", "east1", "east2", "north", "north1"}
GLOBEX_UNITS = {"globex", "g_south", "g_south1"}
SEES_UNITS = {
    "admin": ACME_UNITS | GLOBEX_UNITS,
    tuple(ACME): ACME_UNITS,
    tuple(GLOBEX): GLOBEX_UNITS,
}
ACME_REPS = {"alice", "bob", "carol", "dave"}
SEES_USERS = {
    tuple(ACME_WIDE): ACME_REPS,
    tuple(EAST_SCOPED): {"alice", "bob", "carol"},
    "alice": set(),
    "dave": set(),
    tuple(GLOBEX_WIDE): {"gina"},
    "gina": set(),
}
# The unit a dashboard opens on (None: the rep's own figures).
DEFAULT_UNIT = {
    "admin": "company",
    tuple(ACME_WIDE): "company",
    tuple(EAST_SCOPED): "east",
    ("alice", "dave", "gina"): None,
    tuple(GLOBEX_WIDE): "globex",
}


def test_lists_show_only_the_personas_scope(api, world):
    ids = world.ids()
    target_names = {ids[f"t_{n}"]: n for n in world.targets}
    deal_names = {ids[f"d_{n}"]: n for n in world.deals}
    unit_names = {pk: n for n, pk in ids.items() if n in ACME_UNITS | GLOBEX_UNITS}
    for persona in PERSONAS[1:]:
        client = api(world.person(persona))
        targets = _ids(client.get("/api/v1/targets/?page_size=100"))
        assert {target_names[pk] for pk in targets} == expected(SEES_TARGETS, persona), persona
        deals = _ids(client.get("/api/v1/deals/?page_size=100"))
        assert {deal_names[pk] for pk in deals} == expected(SEES_DEALS, persona), persona
        units = _ids(client.get("/api/v1/org-units/?page_size=100"))
        assert {unit_names[pk] for pk in units} == expected(SEES_UNITS, persona), persona
        users = client.get("/api/v1/users/?page_size=100").json()["results"]
        usernames = {row["username"] for row in users}
        if persona == "admin":
            assert {"alice", "gina", "g_director", "east_hrbp"} <= usernames
        else:
            assert usernames == expected(SEES_USERS, persona) | {persona}, persona


def test_the_dashboard_opens_on_the_personas_highest_unit(api, world):
    ids = world.ids()
    for persona in PERSONAS[1:]:
        summary = api(world.person(persona)).get("/api/v1/dashboard/summary/").json()
        unit = expected(DEFAULT_UNIT, persona)
        if unit is None:
            assert (summary["unit"], summary["user"]) == (None, ids[persona]), persona
            continue
        assert summary["unit"] == ids[unit], persona
        # Its rows are the unit's own children: nothing from beside or above the scope.
        children = {row["unit"] for row in summary["children"]} - {None}
        parents = set(OrgUnit.objects.filter(pk__in=children).values_list("parent", flat=True))
        assert parents <= {ids[unit]}, persona


@pytest.mark.parametrize("persona", EAST_SCOPED)
def test_a_region_scoped_user_sees_no_other_region_in_the_summary(api, world, persona):
    ids = world.ids()
    summary = api(world.person(persona)).get(f"/api/v1/dashboard/summary/?unit={ids['east']}")
    children = {row["unit"] for row in summary.json()["children"]}
    assert children == {ids["east1"], ids["east2"]}


def test_filtering_by_another_companys_id_looks_like_a_missing_one(api, world):
    ids = world.ids()
    client = api(world.people["director"])
    for url in (
        f"/api/v1/deals/?owner={ids['gina']}",
        f"/api/v1/org-units/?parent={ids['globex']}",
        f"/api/v1/users/?team={ids['g_south1']}",
        f"/api/v1/targets/?owner_user={ids['gina']}",
        f"/api/v1/targets/?owner_unit={ids['g_south']}",
    ):
        stranger, missing = client.get(url), client.get(url.rsplit("=", 1)[0] + "=999999")
        assert (stranger.status_code, stranger.json()["count"]) == (200, 0), url
        assert (missing.status_code, missing.json()["count"]) == (200, 0), url


def test_naming_another_companys_rep_in_a_body_looks_like_a_missing_id(api, world):
    ids = world.ids()
    client = api(world.people["mgr_east"])
    body = {"account": "串户", "owner": ids["gina"], "amount": "1000", "close_date": ids["today"]}
    stranger = client.post("/api/v1/deals/", body, format="json")
    missing = client.post("/api/v1/deals/", {**body, "owner": 999999}, format="json")
    assert stranger.status_code == missing.status_code == 400
    assert stranger.json()["owner"][0] == missing.json()["owner"][0].replace(
        "999999", str(ids["gina"])
    )


def test_lists_show_only_what_the_user_may_see(api, world):
    org, targets, deals = world.org, world.targets, world.deals
    alice_targets = api(org.alice).get("/api/v1/targets/").json()["results"]
    assert [t["id"] for t in alice_targets] == [targets["alice"].pk]
    east_targets = {t["id"] for t in api(org.mgr_east).get("/api/v1/targets/").json()["results"]}
    assert east_targets == {targets["east"].pk, targets["east1"].pk, targets["alice"].pk}
    director_targets = api(org.director).get("/api/v1/targets/").json()["count"]
    assert director_targets == 7
    alice_deals = {d["id"] for d in api(org.alice).get("/api/v1/deals/").json()["results"]}
    assert alice_deals == {deals["alice"].pk, deals["m_alice"].pk}
    alice_users = [u["username"] for u in api(org.alice).get("/api/v1/users/").json()["results"]]
    assert alice_users == ["alice"]


def test_a_rep_sees_a_deal_shared_with_them(api, org):
    shared = DealFactory(
        owner=org.dave,
        splits=[services.Split(org.dave, Decimal(50)), services.Split(org.alice, Decimal(50))],
    )
    ids = {d["id"] for d in api(org.alice).get("/api/v1/deals/").json()["results"]}
    assert shared.pk in ids


def test_the_author_cannot_confirm_own_manual_deal(api, world):
    org, deals = world.org, world.deals
    response = api(org.alice).post(f"/api/v1/deals/{deals['m_alice'].pk}/confirm/")
    assert response.status_code == 403
    deals["m_alice"].refresh_from_db()
    assert deals["m_alice"].confirmed_by is None


def test_confirming_twice_is_a_conflict(api, world):
    org, deals = world.org, world.deals
    first = api(org.mgr_east).post(f"/api/v1/deals/{deals['m_alice'].pk}/confirm/")
    assert first.status_code == 200
    second = api(org.director).post(f"/api/v1/deals/{deals['m_alice'].pk}/confirm/")
    assert second.status_code == 409
    assert "detail" in second.json()


def test_a_synced_deal_needs_no_confirmation(api, world):
    org, deals = world.org, world.deals
    response = api(org.mgr_east).post(f"/api/v1/deals/{deals['alice'].pk}/confirm/")
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/v1/me/"),
        ("delete", "/api/v1/deals/{d_alice}/"),
        ("patch", "/api/v1/deals/{d_alice}/"),
        ("get", "/api/v1/deals/{d_alice}/confirm/"),
        ("post", "/api/v1/dashboard/summary/"),
        ("post", "/api/v1/targets/{t_alice}/trend/"),
    ],
)
def test_wrong_methods_answer_405(api, world, method, url):
    org, targets, deals = world.org, world.targets, world.deals
    url = url.format(d_alice=deals["alice"].pk, t_alice=targets["alice"].pk)
    assert getattr(api(org.director), method)(url).status_code == 405


def test_token_auth_round_trip(client, org):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": "password"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.json()["username"] == "alice"
    assert me.json()["roles"] == [{"role": "rep", "unit": org.east1.pk}]


def test_token_auth_rejects_a_wrong_password(client, org):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": "nope"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
