"""From a dashboard status to the units, reps and deals behind it."""

from __future__ import annotations

import json
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
    with time_machine.travel(datetime(2025, 5, 15, 12, tzinfo=SHANGHAI), tick=False):
        yield


def target(**owner):
    return services.target_create(period="2025Q2", base=D("1000000"), stretch=D("1500000"), **owner)


@pytest.fixture
def targets(org):
    made = {
        "company": target(owner_unit=org.company),
        "east": target(owner_unit=org.east),
        "east1": target(owner_unit=org.east1),
        "alice": target(owner_user=org.alice),
    }
    DealFactory(owner=org.alice, amount=D("539000"), close_date=date(2025, 5, 2))
    return made


def in_chart(text: str, html: str) -> bool:
    """Plotly writes its figure as JSON with non-ASCII characters escaped."""
    return json.dumps(text)[1:-1] in html or text in html


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_unit_rows_lead_to_the_units_dashboard_and_its_deals(client, org, targets):
    client.force_login(org.director)
    html = page(client, HOME)
    east = f"{HOME}?unit={org.east.pk}&amp;period=2025Q2"
    assert f'<a href="{east}" hx-get="{east}">华东 East</a>' in html
    deals = f"{reverse('deals')}?team={org.east.pk}&amp;period=2025Q2&amp;status=won"
    assert f'href="{deals}" data-testid="child-deals"' in html
    # The unit's own figures lead to the deals behind them too.
    own = f"{reverse('deals')}?team={org.company.pk}&amp;period=2025Q2&amp;status=won"
    assert f'href="{own}" data-testid="deals-link"' in html


def test_rep_rows_lead_to_the_reps_target_and_deals(client, org, targets):
    client.force_login(org.mgr_east)
    html = page(client, f"{HOME}?unit={org.east1.pk}")
    assert f'<a href="{reverse("target-page", args=[targets["alice"].pk])}">Alice</a>' in html
    deals = f"{reverse('deals')}?rep={org.alice.pk}&amp;period=2025Q2&amp;status=won"
    assert f'href="{deals}" data-testid="child-deals"' in html
    # bob has no target: still a way to his deals, no dead link to a target page.
    assert f"rep={org.bob.pk}&amp;period=2025Q2" in html


def test_bars_are_clickable_and_the_children_table_sorts(client, org, targets):
    client.force_login(org.mgr_east)
    html = page(client, f"{HOME}?unit={org.east1.pk}")
    assert "plotly_click" in html
    assert 'data-testid="children-table" data-sortable' in html
    assert 'data-sort-type="num"' in html
    assert 'data-sort="53.9' in html  # alice's completion, a plain number to sort on


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["查看构成业绩的商机", "进度达成率", "红色预警"]),
        ("en", ["The deals behind this", "Pace", "Behind"]),
    ],
)
def test_the_chart_labels_status_in_words_in_both_languages(client, org, targets, language, words):
    client.force_login(org.mgr_east)
    client.cookies["django_language"] = language
    html = page(client, f"{HOME}?unit={org.east1.pk}")
    for word in words:
        assert in_chart(word, html), word


def test_a_completion_bar_takes_its_colour_from_completion_not_pace(client, org, targets):
    # 53.9 % done by mid-May is 85 % of what was due: status green, completion bar red.
    client.force_login(org.mgr_east)
    html = page(client, f"{HOME}?unit={org.east1.pk}")
    assert in_chart("53.9% · 红色预警", html)
    assert in_chart("绿色达标", html)


def test_a_rep_cannot_open_a_units_dashboard(client, org, targets):
    client.force_login(org.alice)
    assert client.get(f"{HOME}?unit={org.east1.pk}").status_code == 403


def add_reps(org, count: int) -> None:
    for i in range(count):
        rep = make_rep(f"extra{i:03d}", org.east1)
        target(owner_user=rep)
        DealFactory(owner=rep, amount=D("50000"), close_date=date(2025, 4, 10 + i % 20))


def test_the_dashboard_costs_the_same_queries_for_a_small_and_a_larger_team(
    client, org, targets, django_assert_max_num_queries
):
    client.force_login(org.mgr_east)
    url = f"{HOME}?unit={org.east1.pk}"
    with CaptureQueriesContext(connection) as small:
        page(client, url)
    add_reps(org, 30)
    with django_assert_max_num_queries(len(small)):
        html = page(client, url)
    assert html.count('data-testid="child-row"') == 32
