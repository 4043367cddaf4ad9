"""The target page lists the deals (and split shares) behind its actual."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from targets import services
from targets.figures import figures_for
from targets.models import DealSource, Role
from targets.selectors.target import TARGET_DEALS_SHOWN, target_deals
from tests.factories import DealFactory, make_rep, make_user

pytestmark = pytest.mark.django_db

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2025, 5, 15)


@pytest.fixture(autouse=True)
def _mid_quarter():
    with time_machine.travel(datetime(2025, 5, 15, 12, tzinfo=SHANGHAI), tick=False):
        yield


def target(*, base="1000000", stretch="1500000", **owner):
    return services.target_create(period="2025Q2", base=D(base), stretch=D(stretch), **owner)


@pytest.fixture
def world(org):
    """Q2 targets for East, East-1, alice and dave; deals of every kind around them."""
    targets = {
        "east": target(owner_unit=org.east, base="5000000", stretch="7000000"),
        "east1": target(owner_unit=org.east1, base="3000000", stretch="4000000"),
        "alice": target(owner_user=org.alice),
        "dave": target(owner_user=org.dave),
    }
    DealFactory(
        owner=org.alice,
        account="上海云启科技",
        external_id="ERP-0042",
        amount=D("1000000"),
        close_date=date(2025, 5, 2),
        splits=[services.Split(org.alice, D(60)), services.Split(org.bob, D(40))],
    )
    DealFactory(
        owner=org.alice,
        account="苏州工业园",
        source=DealSource.SALESFORCE,
        external_id="0061x00001",
        amount=D("200000"),
        close_date=date(2025, 4, 8),
    )
    # Last quarter, not won, and another region's: none of them is behind alice's Q2.
    DealFactory(owner=org.alice, account="去年客户", close_date=date(2025, 3, 28))
    DealFactory(owner=org.alice, account="谈判中客户", won=False, close_date=date(2025, 5, 3))
    DealFactory(owner=org.dave, account="北京北辰集团", close_date=date(2025, 4, 3))
    manual = services.deal_create_manual(
        external_id="M-1",
        author=org.alice,
        account="手工客户有限公司",
        owner=org.alice,
        amount=D("80000"),
        close_date=date(2025, 5, 10),
    )
    return {"targets": targets, "manual": manual}


def client_for(client, user):
    client.force_login(user)
    return client


def page(client, t, query="", **headers) -> str:
    response = client.get(reverse("target-page", args=[t.pk]) + query, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def accounts(html: str) -> list[str]:
    names = [
        "上海云启科技",
        "苏州工业园",
        "手工客户有限公司",
        "去年客户",
        "谈判中客户",
        "北京北辰集团",
    ]
    found = [(html.index(a), a) for a in names if a in html]
    return [a for _i, a in sorted(found)]


def test_a_reps_target_lists_the_reps_shares_with_provenance(client, org, world):
    html = page(client_for(client, org.alice), world["targets"]["alice"])
    assert accounts(html) == ["手工客户有限公司", "上海云启科技", "苏州工业园"]
    assert "ERP-0042" in html and "0061x00001" in html and "M-1" in html
    assert "60%" in html and "60万" in html  # alice's share of the split 100万 deal
    assert "手工录入" in html  # the manual mark
    assert "待确认" in html  # the manual deal awaits confirmation
    assert "Salesforce" in html


def test_the_counted_total_is_the_actual_and_awaiting_shares_are_apart(org, world):
    alice = world["targets"]["alice"]
    deals = target_deals(user=org.alice, target=alice, today=TODAY)
    assert deals.total == 3
    assert deals.counted == figures_for([alice], as_of=TODAY)[alice.pk].actual == D("800000")
    assert deals.awaiting == D("80000")
    assert [row.awaiting for row in deals.rows] == [True, False, False]


def test_a_unit_target_lists_the_shares_of_its_subtree(org, world):
    east = world["targets"]["east"]
    deals = target_deals(user=org.director, target=east, today=TODAY)
    shares = sorted((row.account, row.rep, row.percent) for row in deals.rows)
    assert shares == [
        ("上海云启科技", "Alice", "60%"),
        ("上海云启科技", "Bob", "40%"),
        ("手工客户有限公司", "Alice", "100%"),
        ("苏州工业园", "Alice", "100%"),
    ]
    assert deals.counted == figures_for([east], as_of=TODAY)[east.pk].actual == D("1200000")
    assert "team=" in deals.list_query and "period=2025Q2" in deals.list_query


def test_a_unit_keeps_the_deals_won_for_it_when_a_rep_moves_away(org, world):
    # bob moves to North today: his May share stays East's, as figures keep it.
    services.user_move_team(user=org.bob, team=org.north1, since=date(2025, 5, 14))
    east = world["targets"]["east"]
    deals = target_deals(user=org.director, target=east, today=TODAY)
    assert ("上海云启科技", "Bob") in {(row.account, row.rep) for row in deals.rows}
    north = target(owner_unit=org.north, base="1000000", stretch="1000000")
    assert "Bob" not in {
        row.rep for row in target_deals(user=org.director, target=north, today=TODAY).rows
    }


def test_a_new_manager_sees_the_sum_but_not_the_deals_a_rep_shared_elsewhere(org, world):
    # bob moves to North; his 40 % of alice's East deal still counts for his Q2 target.
    # North's manager sees that it counts, not whose deal it is.
    bob = target(owner_user=org.bob)
    services.user_move_team(user=org.bob, team=org.north1, since=date(2025, 5, 14))
    mgr_north = make_user("mgr_north", roles=[(Role.SALES_MANAGER, org.north)])
    deals = target_deals(user=mgr_north, target=bob, today=TODAY)
    assert deals.rows == [] and deals.counted == 0
    assert deals.hidden == D("400000")
    assert target_deals(user=org.director, target=bob, today=TODAY).hidden == 0


def test_confirming_the_manual_deal_makes_it_count(org, world):
    services.deal_confirm(deal=world["manual"], confirmed_by=org.mgr_east)
    alice = world["targets"]["alice"]
    deals = target_deals(user=org.alice, target=alice, today=TODAY)
    assert deals.counted == D("880000") and deals.awaiting == 0
    assert deals.rows[0].confirmed_by == "Mgr_East"


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        ("-date", "手工客户有限公司"),
        ("date", "苏州工业园"),
        ("-amount", "上海云启科技"),
        ("account", "上海云启科技"),
    ],
)
def test_the_table_sorts(org, world, sort, first):
    deals = target_deals(user=org.alice, target=world["targets"]["alice"], today=TODAY, sort=sort)
    assert deals.rows[0].account == first
    assert deals.sort == sort


def test_an_unknown_sort_falls_back_to_newest_first(org, world):
    deals = target_deals(user=org.alice, target=world["targets"]["alice"], today=TODAY, sort="x;")
    assert deals.sort == "-date"


def test_sorting_with_htmx_swaps_only_the_table(client, org, world):
    html = page(
        client_for(client, org.alice),
        world["targets"]["alice"],
        "?sort=-amount",
        HTTP_HX_REQUEST="true",
    )
    assert html.lstrip().startswith('<section id="target-deals"')
    assert accounts(html) == ["上海云启科技", "苏州工业园", "手工客户有限公司"]
    assert 'aria-sort="descending"' in html


def test_a_long_list_is_capped_with_a_link_to_the_filtered_deals_list(client, org, world):
    for i in range(TARGET_DEALS_SHOWN + 5):
        DealFactory(
            owner=org.alice, account=f"批量{i:02d}", amount=D("1000"), close_date=date(2025, 4, 20)
        )
    html = page(client_for(client, org.mgr_east), world["targets"]["alice"])
    assert html.count('data-testid="target-deal"') == TARGET_DEALS_SHOWN
    link = f"{reverse('deals')}?rep={org.alice.pk}&amp;period=2025Q2&amp;status=won"
    assert f'href="{link}" data-testid="more-deals"' in html
    assert '<span class="count">28</span>' in html
    # The list it links to shows the same deals.
    listing = client.get(f"{reverse('deals')}?rep={org.alice.pk}&period=2025Q2&status=won")
    assert listing.content.decode().count('data-testid="deal-row"') == 28


@pytest.mark.parametrize(
    ("language", "heading"), [("zh-hans", "业绩构成商机"), ("en", "Deals behind the actual")]
)
def test_the_table_speaks_both_languages(client, org, world, language, heading):
    client.cookies["django_language"] = language
    html = page(client_for(client, org.director), world["targets"]["east"])
    assert heading in html


# Who sees what ----------------------------------------------------------------------


def test_a_rep_may_not_open_another_reps_target(client, org, world):
    client_for(client, org.bob)
    assert (
        client.get(reverse("target-page", args=[world["targets"]["alice"].pk])).status_code == 404
    )


def test_a_manager_sees_the_own_regions_targets_not_anothers(client, org, world):
    client_for(client, org.mgr_east)
    assert "上海云启科技" in page(client, world["targets"]["east1"])
    assert client.get(reverse("target-page", args=[world["targets"]["dave"].pk])).status_code == 404
    assert (
        client.get(
            reverse("target-page", args=[world["targets"]["dave"].pk]), HTTP_HX_REQUEST="true"
        ).status_code
        == 404
    )


def test_an_outsider_of_another_company_sees_nothing(client, org, world):
    other = services.org_unit_save(name="Other Co", kind="company", parent=None)
    outsider = make_user("outsider", roles=[(Role.SALES_DIRECTOR, other)])
    client_for(client, outsider)
    for t in world["targets"].values():
        assert client.get(reverse("target-page", args=[t.pk])).status_code == 404


def test_the_page_accepts_only_get(client, org, world):
    response = client_for(client, org.director).post(
        reverse("target-page", args=[world["targets"]["east"].pk])
    )
    assert response.status_code == 405


# Cost -------------------------------------------------------------------------------


def add_team(org, count: int, *, start: int = 0) -> None:
    for i in range(start, start + count):
        rep = make_rep(f"extra{i:03d}", org.east1)
        DealFactory(owner=rep, amount=D("50000"), close_date=date(2025, 4, 1 + i % 28))
        DealFactory(
            owner=org.alice,
            amount=D("30000"),
            close_date=date(2025, 5, 1 + i % 14),
            splits=[services.Split(org.alice, D(50)), services.Split(rep, D(50))],
        )


# Session, user, target, roles, seen subtrees, figures (3), revisions, trend, the deals'
# totals and rows (13 for a unit's target, 12 for a rep's), however many reps or deals.
# 13 for the page, 1 for its open adjustment case (reviews), 4 for its timeline (the
# target's history, its revisions, confirmed manual deals; its proposals' history), 1 for
# the data freshness in its header (integrations).
QUERY_BUDGET = 19


@pytest.mark.parametrize("which", ["east", "east1", "alice"])
def test_the_page_costs_the_same_queries_for_a_small_and_a_larger_team(
    client, org, world, which, django_assert_max_num_queries
):
    client_for(client, org.director)
    t = world["targets"][which]
    with CaptureQueriesContext(connection) as small:
        page(client, t)
    add_team(org, 30)
    with django_assert_max_num_queries(len(small)):
        html = page(client, t)
    assert html.count('data-testid="target-deal"') == TARGET_DEALS_SHOWN
    assert len(small) <= QUERY_BUDGET, len(small)


def test_sorting_with_htmx_costs_a_fixed_handful_of_queries(
    client, org, world, django_assert_max_num_queries
):
    client_for(client, org.mgr_east)
    add_team(org, 30)
    with django_assert_max_num_queries(7):
        page(client, world["targets"]["east"], "?sort=rep", HTTP_HX_REQUEST="true")
