"""Who may confirm a manual deal, and what a deal may credit (SPEC §2 segregation of duties, §4).

A manual deal counts once someone other than its author confirms it who manages the team of
every credited rep and of the owner, on the close date (or is a sales director over all of
them). Split users are active reps of the author's company. Admin is no sales authority.
A manual deal is insert-only: a second entry with the same external id is refused.
"""

from __future__ import annotations

import re
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import Client
from rest_framework.test import APIClient

from targets import access, services
from targets.errors import StateConflict, ValidationError
from targets.models import Credit, Deal, DealSource, Role, Target
from targets.selectors.deals import DealFilters, filtered_deals
from tests.factories import make_user
from tests.services import require_service
from tests.targets.scoped import PERSONAS, build_world

pytestmark = pytest.mark.django_db

D = Decimal
DEALS_API = "/api/v1/deals/"


@pytest.fixture
def world(org, in_may_2025):
    return build_world(org)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def enter(api, author, *, owner, splits=None, external_id="", account="苏州新客户", amount="80000"):
    body = {
        "account": account,
        "owner": owner.pk,
        "amount": amount,
        "close_date": "2025-05-12",
        "external_id": external_id,
    }
    if splits is not None:
        body["splits"] = [{"user": user.pk, "percent": str(percent)} for user, percent in splits]
    return api(author).post(DEALS_API, body, format="json")


def confirm(api, user, deal_id: int) -> int:
    return api(user).post(f"{DEALS_API}{deal_id}/confirm/").status_code


# Segregation of duties -------------------------------------------------------------------


def test_admin_sees_every_deal_but_confirms_none(api, client, world):
    admin, deal = world.people["admin"], world.deals["m_alice"]
    assert api(admin).get(f"{DEALS_API}{deal.pk}/").status_code == 200
    assert confirm(api, admin, deal.pk) == 403
    client.force_login(admin)
    assert client.post(f"/deals/{deal.pk}/confirm/").status_code == 403
    assert "confirm/" not in client.get("/deals/").content.decode()
    deal.refresh_from_db()
    assert deal.confirmed_by is None


def test_admin_sets_no_target_through_the_api_or_the_allocation_page(api, client, world):
    admin, east = world.people["admin"], world.targets["east"]
    body = {"period": "2099Q2", "owner_unit": world.org.east.pk, "base": "1", "stretch": "2"}
    assert api(admin).post("/api/v1/targets/", body, format="json").status_code == 403
    patch = api(admin).patch(f"/api/v1/targets/{east.pk}/", {"base": "1"}, format="json")
    assert patch.status_code == 403
    assert api(admin).delete(f"/api/v1/targets/{east.pk}/").status_code == 403
    client.force_login(admin)
    page = client.get(f"/targets/{east.pk}/allocate/")
    assert page.status_code == 200
    assert 'data-testid="allocation-form"' not in page.content.decode()
    saved = client.post(
        f"/targets/{east.pk}/allocate/",
        {f"unit-{world.org.east1.pk}-base": "1", f"unit-{world.org.east1.pk}-stretch": "2"},
    )
    assert saved.status_code == 403
    assert Target.objects.get(pk=world.targets["east1"].pk).base == 300
    assert not Target.objects.filter(period="2099Q2").exists()


def test_admin_holds_no_sales_authority_in_the_access_rules(world):
    admin = world.people["admin"]
    assert not access.can_set_target(admin, owner_unit=world.org.company, owner_user=None)
    assert not access.can_set_target(admin, owner_unit=None, owner_user=world.people["alice"])
    assert not access.deals_confirmable_by(admin).exists()
    assert not access.reps_for_deal_entry(admin).exists()


@pytest.mark.parametrize("author", ["director", "mgr_east", "east_director"])
def test_nobody_confirms_their_own_entry(api, client, world, author):
    user = world.people[author]
    deal_id = enter(api, user, owner=world.people["alice"]).json()["id"]
    assert confirm(api, user, deal_id) == 403
    client.force_login(user)
    assert client.post(f"/deals/{deal_id}/confirm/").status_code == 403
    with pytest.raises(StateConflict):
        services.deal_confirm(deal=Deal.objects.get(pk=deal_id), confirmed_by=user)
    # Someone else over alice may.
    other = "director" if author != "director" else "mgr_east"
    assert confirm(api, world.people[other], deal_id) == 200


# Credit splits ---------------------------------------------------------------------------


@pytest.fixture
def inactive_bob(world):
    bob = world.people["bob"]
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    return bob


@pytest.mark.parametrize("stranger", ["inactive bob", "hrbp", "admin", "director", "gina"])
def test_only_active_reps_of_the_own_company_may_be_credited(api, world, inactive_bob, stranger):
    people = {**world.people, "inactive bob": inactive_bob}
    alice = people["alice"]
    response = enter(api, alice, owner=alice, splits=[(alice, 50), (people[stranger], 50)])
    assert response.status_code == 400, response.content
    assert "splits" in response.json()
    assert not Deal.objects.filter(account="苏州新客户").exists()


def test_crediting_another_companys_rep_is_answered_as_for_a_missing_id(api, world):
    alice, gina = world.people["alice"], world.people["gina"]
    stranger = enter(api, alice, owner=alice, splits=[(alice, 50), (gina, 50)])
    missing = api(alice).post(
        DEALS_API,
        {
            "account": "苏州新客户",
            "owner": alice.pk,
            "amount": "80000",
            "close_date": "2025-05-12",
            "splits": [{"user": alice.pk, "percent": "50"}, {"user": 999999, "percent": "50"}],
        },
        format="json",
    )
    assert stranger.status_code == missing.status_code == 400
    assert str(stranger.json()).replace(str(gina.pk), "999999") == str(missing.json())


def test_a_colleague_who_is_no_rep_is_refused_with_the_reason(api, world):
    alice, hrbp = world.people["alice"], world.people["hrbp"]
    response = enter(api, alice, owner=alice, splits=[(alice, 50), (hrbp, 50)])
    assert response.status_code == 400
    assert "Hrbp" in response.json()["splits"][0]


@pytest.mark.parametrize("stranger", ["inactive bob", "hrbp", "director", "gina"])
def test_the_entry_page_refuses_a_share_for_anyone_but_an_active_rep(world, inactive_bob, stranger):
    people = {**world.people, "inactive bob": inactive_bob}
    alice = people["alice"]
    response = signed_in(alice).post(
        "/deals/new/",
        {
            "account": "苏州新客户",
            "owner": alice.pk,
            "amount": "80000",
            "close_date": "2025-05-12",
            "won": "on",
            "second_rep": people[stranger].pk,
            "second_share": "50",
        },
    )
    assert response.status_code == 200
    assert "second_rep" in response.context["form"].errors
    assert not Deal.objects.filter(account="苏州新客户").exists()


@pytest.mark.parametrize(
    "splits",
    [
        pytest.param([("dave", 100)], id="all to dave"),
        pytest.param([("alice", 50), ("dave", 50)], id="half"),
    ],
)
def test_a_deal_credited_across_regions_needs_someone_over_both(api, world, splits):
    p = world.people
    alice = p["alice"]
    response = enter(api, alice, owner=alice, splits=[(p[name], pct) for name, pct in splits])
    assert response.status_code == 201, response.content
    deal_id = response.json()["id"]
    # alice's manager does not manage dave; dave's manager does not manage the owner, alice.
    assert confirm(api, p["mgr_east"], deal_id) == 403
    assert confirm(api, p["mgr_north"], deal_id) == 403
    assert confirm(api, p["east_director"], deal_id) == 403
    # HRBP and finance see it, but decide nothing.
    assert confirm(api, p["hrbp"], deal_id) == 403
    assert confirm(api, p["director"], deal_id) == 200
    assert Credit.objects.filter(deal_id=deal_id, counts=True).exists()


def test_a_manager_over_every_credited_rep_and_the_owner_confirms(api, world):
    p = world.people
    response = enter(api, p["alice"], owner=p["alice"], splits=[(p["alice"], 70), (p["carol"], 30)])
    assert confirm(api, p["mgr_east"], response.json()["id"]) == 200


def test_the_confirm_button_and_the_page_agree_on_a_split_across_regions(world):
    p = world.people
    entered = signed_in(p["alice"]).post(
        "/deals/new/",
        {
            "account": "跨区合作客户",
            "owner": p["alice"].pk,
            "amount": "80000",
            "close_date": "2025-05-12",
            "won": "on",
            "second_rep": p["dave"].pk,
            "second_share": "40",
        },
    )
    assert entered.status_code == 302
    deal = Deal.objects.get(account="跨区合作客户")
    button = f'href="/deals/{deal.pk}/confirm/preview/?'
    for name in ("mgr_east", "mgr_north"):
        manager = signed_in(p[name])
        assert "跨区合作客户" in manager.get("/deals/").content.decode()
        assert button not in manager.get("/deals/").content.decode()
        assert manager.post(f"/deals/{deal.pk}/confirm/").status_code == 403
    director = signed_in(p["director"])
    assert button in director.get("/deals/").content.decode()
    assert director.post(f"/deals/{deal.pk}/confirm/").status_code == 302
    deal.refresh_from_db()
    assert deal.confirmed_by == p["director"]


def carol_moves_north_on_10_may(world):
    carol = world.people["carol"]
    services.user_move_team(user=carol, team=world.org.east2, since=date(2025, 1, 1))
    services.user_move_team(user=carol, team=world.org.north1, since=date(2025, 5, 10))
    return carol


@pytest.mark.parametrize(
    ("close_date", "confirmer", "not_confirmer"),
    [(date(2025, 5, 5), "mgr_east", "mgr_north"), (date(2025, 5, 12), "mgr_north", "mgr_east")],
)
def test_the_confirmer_manages_the_reps_team_on_the_close_date(
    api, world, close_date, confirmer, not_confirmer
):
    p = world.people
    carol = carol_moves_north_on_10_may(world)
    deal = services.deal_create_manual(
        author=carol, owner=carol, account="搬家前后", amount=D(1000), close_date=close_date
    )
    assert confirm(api, p[not_confirmer], deal.pk) in {403, 404}
    assert confirm(api, p[confirmer], deal.pk) == 200


# The confirm buttons, the "awaiting" filter and its count agree ----------------------------


@pytest.fixture
def many_deals(world):
    p = world.people
    org = world.org
    carol_moves_north_on_10_may(world)
    manual = {"close_date": date(2025, 5, 8), "amount": D(1000)}
    made = [
        services.deal_create_manual(author=p["bob"], owner=p["bob"], account="bob", **manual),
        services.deal_create_manual(
            author=p["mgr_east"], owner=p["carol"], account="carol before move", **manual
        ),
        services.deal_create_manual(
            author=p["alice"],
            owner=p["alice"],
            account="split",
            splits=[services.Split(p["alice"], D(60)), services.Split(p["dave"], D(40))],
            **manual,
        ),
        services.deal_create_manual(
            author=p["alice"],
            owner=p["alice"],
            account="all to dave",
            splits=[services.Split(p["dave"], D(100))],
            **manual,
        ),
        services.deal_create_manual(
            author=p["director"], owner=p["dave"], account="by the director", **manual
        ),
        services.deal_create_manual(author=p["dave"], owner=p["dave"], account="dave", **manual),
    ]
    services.deal_confirm(deal=made[0], confirmed_by=p["mgr_east"])  # no longer awaiting
    # An entry whose author has left keeps needing a confirmation.
    leaver = make_user("leaver", roles=[(Role.SALES_MANAGER, org.east)])
    services.deal_create_manual(author=leaver, owner=p["alice"], account="author left", **manual)
    leaver.delete()
    return world


CONFIRMERS = [*PERSONAS[1:], "mgr_north", "g_mgr"]


def _python_rule(user) -> set[int]:
    deals = Deal.objects.filter(source=DealSource.MANUAL, confirmed_by__isnull=True)
    return {
        deal.pk
        for deal in deals
        if access.can_confirm_deal(user, deal, deal.credits.values_list("team_id", flat=True))
    }


def test_the_awaiting_query_and_the_confirm_rule_agree_for_everyone(many_deals):
    for name in CONFIRMERS:
        user = many_deals.people[name]
        expected = _python_rule(user)
        assert set(access.deals_confirmable_by(user).values_list("pk", flat=True)) == expected, name
        awaiting = filtered_deals(user=user, filters=DealFilters(awaiting=True))
        assert set(awaiting.values_list("pk", flat=True)) == expected, name
    # The rule is not vacuous: each manager gets exactly the deals of their own people.
    accounts = {
        name: set(
            access.deals_confirmable_by(many_deals.people[name]).values_list("account", flat=True)
        )
        for name in ("mgr_east", "mgr_north", "director", "east_director", "g_director")
    }
    # mgr_east entered carol's deal: the East director confirms it, mgr_east does not.
    assert accounts["mgr_east"] == {"ACME 手工录入", "author left"}
    assert accounts["mgr_north"] == {"dave", "by the director"}
    assert accounts["east_director"] == {"ACME 手工录入", "carol before move", "author left"}
    assert accounts["director"] == {
        "ACME 手工录入",
        "carol before move",
        "split",
        "all to dave",
        "dave",
        "author left",
    }
    assert accounts["g_director"] == {"Globex 手工录入"}


@pytest.mark.parametrize("name", ["mgr_east", "mgr_north", "director", "alice", "admin"])
def test_the_deals_page_offers_a_button_exactly_where_the_filter_counts(many_deals, name):
    user = many_deals.people[name]
    client = signed_in(user)
    expected = set(access.deals_confirmable_by(user).values_list("pk", flat=True))
    html = client.get("/deals/").content.decode()
    buttons = {int(pk) for pk in re.findall(r'href="/deals/(\d+)/confirm/preview/\?', html)}
    assert buttons == expected
    filtered = client.get("/deals/?awaiting=1").content.decode()
    rows = {int(pk) for pk in re.findall(r'<tr id="deal-(\d+)"', filtered)}
    assert rows == expected
    if expected:
        assert f'?awaiting=1">{len(expected)} ' in html
    else:
        assert 'class="chip chip-awaiting"' not in html


# Racing manual entries (insert-only) -----------------------------------------------------


def test_a_second_entry_with_the_same_id_is_refused_and_changes_nothing(api, world):
    p = world.people
    first = enter(api, p["alice"], owner=p["alice"], external_id="CRM-7", account="先到的客户")
    assert first.status_code == 201
    second = enter(
        api, p["mgr_east"], owner=p["bob"], external_id="CRM-7", account="后到的客户", amount="999"
    )
    assert second.status_code == 400
    assert "external_id" in second.json()
    deal = Deal.objects.get(source=DealSource.MANUAL, external_id="CRM-7")
    assert (deal.account, deal.owner, deal.amount, deal.created_by) == (
        "先到的客户",
        p["alice"],
        D("80000.00"),
        p["alice"],
    )
    assert list(deal.credits.values_list("user__username", "percent")) == [("alice", D(100))]


def test_a_re_entry_by_someone_else_does_not_let_the_author_confirm_their_content(api, world):
    p = world.people
    first = enter(api, p["director"], owner=p["alice"], external_id="CRM-8", account="总监录入")
    assert first.status_code == 201
    # alice posts the same id: refused, so the row stays the director's own entry.
    assert enter(api, p["alice"], owner=p["alice"], external_id="CRM-8").status_code == 400
    deal = Deal.objects.get(external_id="CRM-8")
    assert (deal.account, deal.created_by) == ("总监录入", p["director"])
    assert confirm(api, p["director"], deal.pk) == 403
    assert confirm(api, p["alice"], deal.pk) == 403
    assert confirm(api, p["mgr_east"], deal.pk) == 200


def test_the_service_inserts_a_manual_deal_or_refuses_it(world):
    p = world.people
    kwargs = {"close_date": date(2025, 5, 2), "amount": D(1), "external_id": "CRM-9"}
    services.deal_create_manual(author=p["alice"], owner=p["alice"], account="一", **kwargs)
    with pytest.raises(ValidationError) as refused:
        services.deal_create_manual(author=p["bob"], owner=p["bob"], account="二", **kwargs)
    assert "external_id" in refused.value.message_dict
    assert Deal.objects.get(external_id="CRM-9").account == "一"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_racing_entries_of_one_id_leave_one_row_with_one_authors_content(org, in_may_2025):
    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        hint="set DATABASE_URL=postgres://…; the suite is on " + connection.vendor,
    )
    authors = [org.director, org.mgr_east, org.alice] * 4
    barrier = threading.Barrier(len(authors))
    results: list[tuple[int, dict] | None] = [None] * len(authors)

    def post(i: int) -> None:
        client = APIClient()
        client.force_authenticate(authors[i])
        try:
            barrier.wait(timeout=30)
            response = client.post(
                DEALS_API,
                {
                    "account": f"客户{i}",
                    "owner": org.alice.pk,
                    "amount": str(1000 + i),
                    "close_date": "2025-05-12",
                    "external_id": "RACE-1",
                },
                format="json",
            )
            results[i] = (response.status_code, response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(authors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    codes = sorted(result[0] for result in results if result)
    assert codes == [201] + [400] * (len(authors) - 1), results
    winner = next(i for i, result in enumerate(results) if result and result[0] == 201)
    deal = Deal.objects.get(source=DealSource.MANUAL, external_id="RACE-1")
    assert (deal.account, deal.amount, deal.created_by) == (
        f"客户{winner}",
        D(1000 + winner),
        authors[winner],
    )
    assert deal.credits.count() == 1
    # Its author, whoever won, cannot confirm it.
    client = APIClient()
    client.force_authenticate(authors[winner])
    assert client.post(f"{DEALS_API}{deal.pk}/confirm/").status_code == 403
