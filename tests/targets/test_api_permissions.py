"""Role × endpoint matrix (SPEC §2): unseen objects are 404, forbidden actions 403."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from targets import services
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "admin", "director", "hrbp", "finance", "mgr_east", "alice", "dave"]


@pytest.fixture
def world(org):
    """Targets and deals in the future quarter (unlocked) and a manual deal awaiting confirmation."""
    period = "2099Q1"
    targets = {
        "east": services.target_create(
            period=period, owner_unit=org.east, base=Decimal(800), stretch=Decimal(1200)
        ),
        "alice": services.target_create(
            period=period, owner_user=org.alice, base=Decimal(100), stretch=Decimal(200)
        ),
        "dave": services.target_create(
            period=period, owner_user=org.dave, base=Decimal(100), stretch=Decimal(200)
        ),
    }
    deals = {
        "alice": DealFactory(owner=org.alice),
        "dave": DealFactory(owner=org.dave),
        "manual": services.deal_create_manual(
            author=org.alice,
            account="手工录入客户",
            owner=org.alice,
            amount=Decimal(5000),
            close_date=date(2025, 5, 1),
            today=date(2025, 5, 20),
        ),
    }
    return org, targets, deals


def call(api, org, persona, method, url, data=None):
    user = None if persona == "anonymous" else getattr(org, persona)
    client = api(user)
    return getattr(client, method)(url, data, format="json")


# (name, method, url template, body, {persona: status}); unlisted personas use "others".
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
        "unit rename",
        "patch",
        "/api/v1/org-units/{east}/",
        {"name": "华东大区"},
        {"anonymous": 401, "admin": 200, "others": 403},
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
        {"anonymous": 401, "mgr_east": 404, "alice": 404, "others": 200},
    ),
    (
        "user edit (alice)",
        "patch",
        "/api/v1/users/{alice}/",
        {"display_name": "Alice Wang"},
        {"anonymous": 401, "admin": 200, "dave": 404, "others": 403},
    ),
    ("targets list", "get", "/api/v1/targets/", None, {"anonymous": 401, "others": 200}),
    (
        "target read (dave)",
        "get",
        "/api/v1/targets/{t_dave}/",
        None,
        {"anonymous": 401, "mgr_east": 404, "alice": 404, "others": 200},
    ),
    (
        "target read (alice)",
        "get",
        "/api/v1/targets/{t_alice}/",
        None,
        {"anonymous": 401, "dave": 404, "others": 200},
    ),
    (
        "target create for rep",
        "post",
        "/api/v1/targets/",
        {"period": "2099Q2", "owner_user": "{alice}", "base": "100", "stretch": "150"},
        {"anonymous": 401, "director": 201, "mgr_east": 201, "others": 403},
    ),
    (
        "target create for own region",
        "post",
        "/api/v1/targets/",
        {"period": "2099Q2", "owner_unit": "{east}", "base": "100", "stretch": "150"},
        {"anonymous": 401, "director": 201, "others": 403},
    ),
    (
        "target edit (alice)",
        "patch",
        "/api/v1/targets/{t_alice}/",
        {"base": "120"},
        {"anonymous": 401, "director": 200, "mgr_east": 200, "dave": 404, "others": 403},
    ),
    (
        "target delete (alice)",
        "delete",
        "/api/v1/targets/{t_alice}/",
        None,
        {"anonymous": 401, "director": 204, "mgr_east": 204, "dave": 404, "others": 403},
    ),
    (
        "target revisions (dave)",
        "get",
        "/api/v1/targets/{t_dave}/revisions/",
        None,
        {"anonymous": 401, "mgr_east": 404, "alice": 404, "others": 200},
    ),
    (
        "target trend (dave)",
        "get",
        "/api/v1/targets/{t_dave}/trend/",
        None,
        {"anonymous": 401, "mgr_east": 404, "alice": 404, "others": 200},
    ),
    ("deals list", "get", "/api/v1/deals/", None, {"anonymous": 401, "others": 200}),
    (
        "deal read (alice)",
        "get",
        "/api/v1/deals/{d_alice}/",
        None,
        {"anonymous": 401, "dave": 404, "others": 200},
    ),
    (
        "deal read (dave)",
        "get",
        "/api/v1/deals/{d_dave}/",
        None,
        {"anonymous": 401, "mgr_east": 404, "alice": 404, "others": 200},
    ),
    (
        "manual deal for alice",
        "post",
        "/api/v1/deals/",
        {"account": "上海某公司", "owner": "{alice}", "amount": "1000", "close_date": "{today}"},
        {"anonymous": 401, "director": 201, "mgr_east": 201, "alice": 201, "others": 403},
    ),
    (
        "confirm manual deal",
        "post",
        "/api/v1/deals/{d_manual}/confirm/",
        None,
        {"anonymous": 401, "director": 200, "mgr_east": 200, "dave": 404, "others": 403},
    ),
    (
        "dashboard of East",
        "get",
        "/api/v1/dashboard/summary/?unit={east}",
        None,
        {"anonymous": 401, "alice": 403, "dave": 403, "others": 200},
    ),
    (
        "dashboard of North",
        "get",
        "/api/v1/dashboard/summary/?unit={north}",
        None,
        {"anonymous": 401, "alice": 403, "dave": 403, "mgr_east": 403, "others": 200},
    ),
    ("own dashboard", "get", "/api/v1/dashboard/summary/", None, {"anonymous": 401, "others": 200}),
]


def _fill(template, ids):
    if isinstance(template, str):
        return template.format(**ids)
    if isinstance(template, dict):
        return {k: _fill(v, ids) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, ids) for v in template]
    return template


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("name", "method", "url", "body", "expected"), MATRIX, ids=[m[0] for m in MATRIX]
)
def test_role_endpoint_matrix(api, world, persona, name, method, url, body, expected):
    org, targets, deals = world
    ids = {
        "company": org.company.pk,
        "east": org.east.pk,
        "east1": org.east1.pk,
        "north": org.north.pk,
        "alice": org.alice.pk,
        "dave": org.dave.pk,
        "t_alice": targets["alice"].pk,
        "t_dave": targets["dave"].pk,
        "d_alice": deals["alice"].pk,
        "d_dave": deals["dave"].pk,
        "d_manual": deals["manual"].pk,
        "today": timezone.localdate().isoformat(),
    }
    body = _fill(body, ids)
    if isinstance(body, dict):
        body = {
            k: int(v)
            if isinstance(v, str)
            and v.isdigit()
            and k in {"parent", "team", "owner_user", "owner_unit", "owner"}
            else v
            for k, v in body.items()
        }
    response = call(api, org, persona, method, _fill(url, ids), body)
    want = expected.get(persona, expected.get("others"))
    assert response.status_code == want, (persona, name, response.content[:300])


def test_lists_show_only_what_the_user_may_see(api, world):
    org, targets, deals = world
    alice_targets = api(org.alice).get("/api/v1/targets/").json()["results"]
    assert [t["id"] for t in alice_targets] == [targets["alice"].pk]
    east_targets = {t["id"] for t in api(org.mgr_east).get("/api/v1/targets/").json()["results"]}
    assert east_targets == {targets["east"].pk, targets["alice"].pk}
    director_targets = api(org.director).get("/api/v1/targets/").json()["count"]
    assert director_targets == 3
    alice_deals = {d["id"] for d in api(org.alice).get("/api/v1/deals/").json()["results"]}
    assert alice_deals == {deals["alice"].pk, deals["manual"].pk}
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
    org, _, deals = world
    response = api(org.alice).post(f"/api/v1/deals/{deals['manual'].pk}/confirm/")
    assert response.status_code == 403
    deals["manual"].refresh_from_db()
    assert deals["manual"].confirmed_by is None


def test_confirming_twice_is_a_conflict(api, world):
    org, _, deals = world
    assert api(org.mgr_east).post(f"/api/v1/deals/{deals['manual'].pk}/confirm/").status_code == 200
    second = api(org.director).post(f"/api/v1/deals/{deals['manual'].pk}/confirm/")
    assert second.status_code == 409
    assert "detail" in second.json()


def test_a_synced_deal_needs_no_confirmation(api, world):
    org, _, deals = world
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
    org, targets, deals = world
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
