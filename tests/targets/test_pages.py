"""The HTML pages through the test client: who sees what, in which language and format."""

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
from tests.factories import DealFactory, make_rep

pytestmark = pytest.mark.django_db

D = Decimal
HOME = reverse("home")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _mid_quarter():
    # 2025-05-15: half-way through Q2, so pace and status exist.
    with time_machine.travel(datetime(2025, 5, 15, 12, tzinfo=SHANGHAI), tick=False):
        yield


def target(period="2025Q2", *, base, stretch, **owner):
    return services.target_create(period=period, base=D(base), stretch=D(stretch), **owner)


@pytest.fixture
def targets(org):
    """Company 800万 / 1200万, split down to East and its reps; alice is well ahead."""
    company = target(owner_unit=org.company, base="8000000", stretch="12000000")
    east = target(owner_unit=org.east, base="5000000", stretch="7000000")
    north = target(owner_unit=org.north, base="3000000", stretch="4000000")
    target(owner_unit=org.east1, base="3000000", stretch="4000000")
    target(owner_unit=org.east2, base="1500000", stretch="2000000")
    alice = target(owner_user=org.alice, base="1500000", stretch="2000000")
    bob = target(owner_user=org.bob, base="1500000", stretch="2000000")
    dave = target(owner_user=org.dave, base="1000000", stretch="1500000")
    DealFactory(owner=org.alice, amount=D("1234567.89"), close_date=date(2025, 4, 20))
    DealFactory(owner=org.bob, amount=D("100000"), close_date=date(2025, 5, 2))
    return {
        "company": company,
        "east": east,
        "north": north,
        "alice": alice,
        "bob": bob,
        "dave": dave,
    }


def client_for(client, user):
    client.force_login(user)
    return client


def page(client, url=HOME, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# Who may come in -----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, targets):
    for url in (HOME, reverse("target-page", args=[targets["alice"].pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_login_page_shows_the_demo_logins(client, db):
    html = page(client, reverse("login"))
    assert "director" in html
    assert "targetpilot" in html
    assert "演示账号" in html


def test_signing_in_through_the_form_opens_the_dashboard(client, org):
    response = client.post(reverse("login"), {"username": "director", "password": "password"})
    assert response.status_code == 302
    assert response.url == HOME


def test_the_home_page_does_not_accept_posts(client, org):
    assert client_for(client, org.director).post(HOME).status_code == 405


def test_the_language_switch_accepts_only_posts(client, db):
    assert client.get(reverse("set-language")).status_code == 405


# Dashboards per persona ---------------------------------------------------------------


def test_the_director_sees_the_company_with_its_regions(client, org, targets):
    html = page(client_for(client, org.director))
    assert "ACME" in html
    assert "华东 East" in html
    assert "华北 North" in html
    assert "800万" in html  # company Base
    assert "1,200万" in html  # company Stretch
    assert 'class="badge badge-' in html
    assert 'data-testid="children-chart"' in html
    assert "plotly-graph-div" in html


def test_the_east_manager_opens_on_east_with_its_teams(client, org, targets):
    html = page(client_for(client, org.mgr_east))
    assert "华东 East" in html
    assert "East-1" in html
    assert "East-2" in html
    assert "North-1" not in html
    assert "500万" in html  # East's Base


def test_a_rep_sees_own_target_with_its_status(client, org, targets):
    html = page(client_for(client, org.alice))
    assert "Alice" in html
    assert "150万" in html  # alice's Base
    assert "123.46万" in html  # alice's actual 1,234,567.89
    # Expected by 15 May: 1,500,000 × (1/3 + 1/3 × 15/31) → pace far above 80 %: green.
    assert 'data-status="green"' in html
    assert reverse("target-page", args=[targets["alice"].pk]) in html
    assert "华东 East" not in html


def test_a_rep_without_a_target_is_told_so(client, org):
    html = page(client_for(client, org.carol))
    assert "本季度您还没有目标" in html


def test_children_rows_link_to_their_target_details(client, org, targets):
    html = page(client_for(client, org.mgr_east), f"{HOME}?unit={org.east1.pk}")
    assert reverse("target-page", args=[targets["alice"].pk]) in html
    assert reverse("target-page", args=[targets["bob"].pk]) in html


def test_unit_links_drill_down_with_htmx_and_a_plain_href(client, org, targets):
    html = page(client_for(client, org.director))
    drill = f"{HOME}?unit={org.east.pk}&amp;period=2025Q2"
    assert f'href="{drill}" hx-get="{drill}"' in html


def test_allocation_shows_what_is_left_to_split(client, org, targets):
    html = page(client_for(client, org.mgr_east))
    # East 5,000,000 vs East-1 3,000,000 + East-2 1,500,000 → 90 %, 50万 unallocated.
    assert "90.0%" in html
    assert "未分配" in html
    assert "50万" in html


# Drill-down and periods ----------------------------------------------------------------


def test_a_manager_may_drill_into_a_team_of_the_own_region(client, org, targets):
    html = page(client_for(client, org.mgr_east), f"{HOME}?unit={org.east1.pk}")
    assert "East-1" in html
    assert "Alice" in html
    assert "Bob" in html


def test_a_manager_may_not_see_another_regions_figures(client, org, targets):
    response = client_for(client, org.mgr_east).get(f"{HOME}?unit={org.north.pk}")
    assert response.status_code == 403


def test_a_rep_may_not_open_a_unit_dashboard(client, org, targets):
    assert client_for(client, org.alice).get(f"{HOME}?unit={org.east1.pk}").status_code == 403


def test_an_unknown_unit_is_not_found(client, org, targets):
    client_for(client, org.director)
    assert client.get(f"{HOME}?unit=987654").status_code == 404
    assert client.get(f"{HOME}?unit=east").status_code == 404


def test_a_previous_quarter_can_be_chosen(client, org, targets):
    target("2025Q1", owner_unit=org.company, base="6000000", stretch="9000000")
    html = page(client_for(client, org.director), f"{HOME}?period=2025Q1")
    assert "600万" in html
    assert "2025年第1季度" in html
    assert '<option value="2025Q1" selected>' in html


def test_a_malformed_period_is_a_bad_request(client, org):
    assert client_for(client, org.director).get(f"{HOME}?period=2025-Q9").status_code == 400


def test_an_htmx_request_gets_only_the_dashboard_fragment(client, org, targets):
    html = page(
        client_for(client, org.director), f"{HOME}?unit={org.east.pk}", HTTP_HX_REQUEST="true"
    )
    assert html.lstrip().startswith('<div id="dashboard"')
    assert "<html" not in html
    assert "East-1" in html


def test_an_htmx_history_restore_gets_the_whole_page(client, org, targets):
    html = page(
        client_for(client, org.director),
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in html


# Target details -------------------------------------------------------------------------


def test_target_details_show_figures_months_and_weekly_trend(client, org, targets):
    html = page(client_for(client, org.alice), reverse("target-page", args=[targets["alice"].pk]))
    assert "150万" in html
    assert "2025-04" in html
    assert "2025-06" in html
    assert 'data-testid="trend-chart"' in html
    assert "2025-W20" in html  # the week of 15 May is the last point of the trend


def test_target_details_show_original_and_adjusted_amounts(client, org, targets):
    services.target_revise(
        target=targets["bob"],
        base=D("1000000"),
        stretch=D("1500000"),
        reason="客户采购周期延长",
        decided_by=org.director,
    )
    html = page(client_for(client, org.mgr_east), reverse("target-page", args=[targets["bob"].pk]))
    assert "原始" in html
    assert "调整后" in html
    assert "客户采购周期延长" in html
    assert "150万 → 100万" in html


def test_a_target_the_user_may_not_see_is_not_found(client, org, targets):
    response = client_for(client, org.alice).get(reverse("target-page", args=[targets["dave"].pk]))
    assert response.status_code == 404


def test_target_details_do_not_accept_posts(client, org, targets):
    response = client_for(client, org.alice).post(
        reverse("target-page", args=[targets["alice"].pk])
    )
    assert response.status_code == 405


# Language --------------------------------------------------------------------------------


def test_chinese_is_the_default_language(client, org, targets):
    html = page(client_for(client, org.director))
    assert '<html lang="zh-hans">' in html
    assert "仪表盘" in html


def test_switching_to_english_is_saved_on_the_profile(client, org, targets):
    client_for(client, org.director)
    response = client.post(reverse("set-language"), {"language": "en", "next": HOME})
    assert response.status_code == 302
    assert response.url == HOME
    org.director.refresh_from_db()
    assert org.director.language == "en"
    html = page(client)
    assert '<html lang="en">' in html
    assert "Dashboard" in html
    assert "8,000,000" in html
    assert "800万" not in html


def test_a_saved_language_beats_the_browsers(client, org, targets):
    org.director.language = "zh-hans"
    org.director.save(update_fields=["language"])
    html = page(client_for(client, org.director), HTTP_ACCEPT_LANGUAGE="en")
    assert "800万" in html


def test_without_a_saved_language_the_browsers_is_followed(client, org, targets):
    html = page(client_for(client, org.director), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "8,000,000" in html


def test_anonymous_visitors_follow_the_browser_language(client, db):
    html = page(client, reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Log in" in html
    assert "Demo logins" in html


def test_anonymous_visitors_may_switch_language_by_cookie(client, db):
    response = client.post(reverse("set-language"), {"language": "en", "next": reverse("login")})
    assert response.cookies["django_language"].value == "en"
    assert "Demo logins" in page(client, reverse("login"))


def test_the_language_switch_ignores_foreign_next_urls(client, db):
    response = client.post(
        reverse("set-language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response.url == "/"


def test_an_htmx_language_switch_reloads_the_current_page(client, org):
    client_for(client, org.director)
    response = client.post(
        reverse("set-language"),
        {"language": "en", "next": HOME},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{HOME}?period=2025Q1",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{HOME}?period=2025Q1"


# Cost -----------------------------------------------------------------------------------


def add_reps(org, count: int) -> None:
    for i in range(count):
        rep = make_rep(f"extra{i:03d}", org.east1)
        target(owner_user=rep, base="100000", stretch="200000")
        DealFactory(owner=rep, amount=D("50000"), close_date=date(2025, 4, 10 + i % 20))


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        page(client, url)
    return len(queries)


@pytest.mark.parametrize("who", ["director", "mgr_east"])
def test_the_dashboard_query_count_does_not_grow_with_the_team(
    client, org, targets, who, django_assert_max_num_queries
):
    client_for(client, getattr(org, who))
    url = f"{HOME}?unit={org.east1.pk}"
    small = count_queries(client, url)
    add_reps(org, 25)
    with django_assert_max_num_queries(small):
        html = page(client, url)
    assert "Extra024" in html
    assert small <= 16


def test_target_details_cost_a_fixed_number_of_queries(client, org, targets):
    client.force_login(org.director)
    url = reverse("target-page", args=[targets["east"].pk])
    small = count_queries(client, url)
    add_reps(org, 10)
    assert count_queries(client, url) == small
