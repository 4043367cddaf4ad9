"""The deals list filtered by rep, unit and status; what "N awaiting confirmation" counts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from targets import access, services
from targets.models import Deal, Role
from tests.factories import DealFactory, make_unit, make_user

pytestmark = pytest.mark.django_db

D = Decimal
DEALS = reverse("deals")
SHANGHAI = ZoneInfo("Asia/Shanghai")
ACCOUNTS = ("云启", "北辰", "手工东一", "手工东二", "手工北一", "手工跨区", "西湖")


@pytest.fixture(autouse=True)
def _mid_quarter():
    with time_machine.travel(datetime(2025, 5, 15, 12, tzinfo=SHANGHAI), tick=False):
        yield


def manual(org, *, author, owner, account, splits=None):
    return services.deal_create_manual(
        external_id=f"M-{account}",
        author=author,
        account=account,
        owner=owner,
        amount=D("10000"),
        close_date=date(2025, 5, 10),
        splits=splits,
    )


@pytest.fixture
def deals(org):
    DealFactory(
        owner=org.alice,
        account="云启",
        close_date=date(2025, 5, 2),
        splits=[services.Split(org.alice, D(60)), services.Split(org.bob, D(40))],
    )
    DealFactory(owner=org.dave, account="北辰", close_date=date(2025, 4, 3))
    DealFactory(owner=org.carol, account="西湖", won=False, close_date=date(2025, 3, 20))
    return {
        "east1": manual(org, author=org.alice, owner=org.alice, account="手工东一"),
        "east2": manual(org, author=org.mgr_east, owner=org.carol, account="手工东二"),
        "north1": manual(org, author=org.dave, owner=org.dave, account="手工北一"),
        # Shared across regions: only someone over both may confirm it.
        "across": manual(
            org,
            author=org.bob,
            owner=org.bob,
            account="手工跨区",
            splits=[services.Split(org.bob, D(50)), services.Split(org.dave, D(50))],
        ),
    }


def listed(client, query: str = "", **headers) -> set[str]:
    response = client.get(f"{DEALS}?{query}", **headers)
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    return {a for a in ACCOUNTS if f">{a}<" in html}


def awaiting_chip(client) -> str | None:
    html = client.get(DEALS).content.decode()
    marker = 'data-testid="awaiting-total" href="/deals/?awaiting=1">'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split("<", 1)[0].strip()


def test_the_list_filters_by_rep(client, org, deals):
    client.force_login(org.director)
    assert listed(client, f"rep={org.bob.pk}") == {"云启", "手工跨区"}
    assert listed(client, f"rep={org.dave.pk}") == {"北辰", "手工北一", "手工跨区"}


def test_the_list_filters_by_a_units_subtree(client, org, deals):
    client.force_login(org.director)
    assert listed(client, f"team={org.east.pk}") == {
        "云启",
        "手工东一",
        "手工东二",
        "手工跨区",
        "西湖",
    }
    assert listed(client, f"team={org.east2.pk}") == {"手工东二", "西湖"}
    assert listed(client, f"team={org.north.pk}&period=2025Q2") == {"北辰", "手工北一", "手工跨区"}


def test_the_unit_filter_follows_the_team_on_the_close_date(client, org, deals):
    services.user_move_team(user=org.carol, team=org.north1, since=date(2025, 5, 12))
    client.force_login(org.director)
    assert "手工东二" in listed(client, f"team={org.east2.pk}")  # closed before the move
    assert "手工东二" not in listed(client, f"team={org.north1.pk}")


def test_the_list_filters_by_status(client, org, deals):
    client.force_login(org.director)
    assert listed(client, "status=open") == {"西湖"}
    assert listed(client, "status=won") == set(ACCOUNTS) - {"西湖"}
    assert listed(client, "status=awaiting") == {"手工东一", "手工东二", "手工北一", "手工跨区"}
    assert listed(client, "won=no") == {"西湖"}  # older links still work


def test_filters_combine_and_htmx_gets_only_the_list(client, org, deals):
    client.force_login(org.director)
    query = f"team={org.east.pk}&status=awaiting&period=2025Q2"
    assert listed(client, query, HTTP_HX_REQUEST="true") == {"手工东一", "手工东二", "手工跨区"}


def test_the_rep_filter_shows_as_a_chip_that_clears_it(client, org, deals):
    client.force_login(org.director)
    html = client.get(f"{DEALS}?rep={org.bob.pk}&period=2025Q2").content.decode()
    assert 'data-testid="rep-filter" href="/deals/?period=2025Q2"' in html
    assert f'name="rep" value="{org.bob.pk}"' in html


def test_a_rep_or_unit_the_user_may_not_see_is_not_found(client, org, deals):
    client.force_login(org.mgr_east)
    assert client.get(f"{DEALS}?rep={org.dave.pk}").status_code == 404
    assert client.get(f"{DEALS}?rep=987654").status_code == 404
    other = make_unit("Other Co", "company")
    assert client.get(f"{DEALS}?team={other.pk}").status_code == 404
    client.force_login(org.alice)
    assert client.get(f"{DEALS}?rep={org.bob.pk}").status_code == 404


@pytest.mark.parametrize("query", ["rep=abc", "rep=²", "team=" + "9" * 5000, "status=lost"])
def test_a_malformed_filter_is_a_bad_request(client, org, query):
    client.force_login(org.director)
    assert client.get(f"{DEALS}?{query}").status_code == 400


def test_a_manager_filtering_by_the_other_region_still_sees_only_the_own_deals(client, org, deals):
    # Unit names are not secret inside a company; their deals are.
    client.force_login(org.mgr_east)
    assert listed(client, f"team={org.north.pk}") == {"手工跨区"}


def test_unit_choices_are_the_users_scope(client, org, deals):
    client.force_login(org.mgr_east)
    html = client.get(DEALS).content.decode()
    assert f'<option value="{org.east1.pk}">' in html
    assert f'<option value="{org.north1.pk}">' not in html
    client.force_login(org.alice)
    assert 'id="deal-team"' not in client.get(DEALS).content.decode()


# Awaiting confirmation -------------------------------------------------------------------


def test_awaiting_counts_only_the_deals_this_user_may_confirm(client, org, deals):
    expected = {
        "director": 4,  # every region, authored by others
        "mgr_east": 1,  # east1 only: east2 is the own entry, across reaches into North
        "hrbp": None,
        "alice": None,
    }
    for who, count in expected.items():
        client.force_login(getattr(org, who))
        assert awaiting_chip(client) == (None if count is None else f"{count} 条待确认"), who


def test_the_awaiting_filter_lists_what_the_count_counts(client, org, deals):
    client.force_login(org.mgr_east)
    assert listed(client, "awaiting=1") == {"手工东一"}
    mgr_north = make_user("mgr_north", roles=[(Role.SALES_MANAGER, org.north)])
    client.force_login(mgr_north)
    # dave's own entry is North's to confirm; the shared one needs East too.
    assert listed(client, "awaiting=1") == {"手工北一"}


def test_the_sql_rule_agrees_with_can_confirm_deal_for_every_persona(org, deals):
    mgr_north = make_user("mgr_north", roles=[(Role.SALES_MANAGER, org.north)])
    both = make_user(
        "mgr_both", roles=[(Role.SALES_MANAGER, org.east), (Role.SALES_MANAGER, org.north)]
    )
    people = [org.director, org.mgr_east, mgr_north, both, org.hrbp, org.alice, org.admin]
    for user in people:
        confirmable = set(access.deals_confirmable_by(user).values_list("pk", flat=True))
        expected = {
            deal.pk
            for deal in Deal.objects.prefetch_related("credits")
            if deal.is_manual
            and deal.confirmed_by_id is None
            and access.can_confirm_deal(user, deal, [c.team_id for c in deal.credits.all()])
        }
        assert confirmable == expected, user
