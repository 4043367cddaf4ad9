"""The allocation editor through the test client: who may split a unit's target, and how."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from targets import services
from targets.models import Role, Target
from tests.factories import make_rep, make_user

pytestmark = pytest.mark.django_db

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _mid_quarter():
    # 2025-05-15: Q2 is under way (locked), Q3 not started yet (open for allocation).
    with time_machine.travel(datetime(2025, 5, 15, 12, tzinfo=SHANGHAI), tick=False):
        yield


def target(period, *, base, stretch, **owner) -> Target:
    return services.target_create(period=period, base=D(base), stretch=D(stretch), **owner)


@pytest.fixture
def q3(org):
    """East's next quarter: 500万 / 700万, of which East-1 holds 300万; East-2 has nothing yet."""
    return {
        "east": target("2025Q3", owner_unit=org.east, base="5000000", stretch="7000000"),
        "east1": target("2025Q3", owner_unit=org.east1, base="3000000", stretch="4000000"),
        "alice": target("2025Q3", owner_user=org.alice, base="1500000", stretch="2000000"),
    }


def url(t: Target) -> str:
    return reverse("target-allocate", args=[t.pk])


def client_for(client, user):
    client.force_login(user)
    return client


def page(client, address: str) -> str:
    response = client.get(address)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rows(org, east1=("3,000,000", "4,000,000"), east2=("", "")) -> dict:
    return {
        f"unit-{org.east1.pk}-base": east1[0],
        f"unit-{org.east1.pk}-stretch": east1[1],
        f"unit-{org.east2.pk}-base": east2[0],
        f"unit-{org.east2.pk}-stretch": east2[1],
    }


# Reading ------------------------------------------------------------------------------


def test_the_editor_shows_the_children_coverage_and_what_is_left(client, org, q3):
    html = page(client_for(client, org.director), url(q3["east"]))
    assert "500万" in html and "700万" in html  # East's Base and Stretch
    assert "East-1" in html and "East-2" in html
    assert "暂无目标" in html  # East-2
    assert "60.0%" in html  # 300万 of 500万
    assert "未分配：200万" in html
    assert f'name="unit-{org.east1.pk}-base" value="3,000,000"' in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_target_without_child_targets_opens_with_no_coverage_yet(client, org, language):
    # Regression (issue 5, 1.1): every fresh quarter answered 500 here.
    fresh = target("2025Q4", owner_unit=org.east, base="5000000", stretch="7000000")
    client.cookies["django_language"] = language
    html = page(client_for(client, org.director), url(fresh))
    assert 'data-testid="allocated-coverage">—<' in html
    assert f'name="unit-{org.east1.pk}-base"' in html


def test_a_team_target_without_rep_targets_is_read_only_and_still_opens(client, org):
    fresh = target("2025Q4", owner_unit=org.east1, base="3000000", stretch="4000000")
    html = page(client_for(client, org.hrbp), url(fresh))
    assert 'data-testid="allocated-coverage">—<' in html


def test_children_are_the_sub_units_and_the_reps_of_the_team(client, org, q3):
    html = page(client_for(client, org.mgr_east), url(q3["east1"]))
    assert "Alice" in html and "Bob" in html
    assert "East-2" not in html
    assert "50.0%" in html  # alice's 150万 of East-1's 300万


def test_a_manager_may_edit_the_own_regions_allocation(client, org, q3):
    html = page(client_for(client, org.mgr_east), url(q3["east"]))
    assert 'data-testid="allocation-form"' in html


def test_who_may_see_but_not_set_gets_a_read_only_table(client, org, q3):
    client_for(client, org.hrbp)
    html = page(client, url(q3["east"]))
    assert 'data-testid="allocation-form"' not in html
    assert "您可以查看此分解，但不能修改。" in html
    response = client.post(url(q3["east"]), rows(org, east2=("2000000", "3000000")))
    assert response.status_code == 403
    assert not Target.objects.filter(owner_unit=org.east2).exists()


def test_a_target_outside_the_users_scope_is_not_found(client, org, q3):
    mgr_north = make_user("mgr_north", roles=[(Role.SALES_MANAGER, org.north)])
    assert client_for(client, mgr_north).get(url(q3["east"])).status_code == 404
    assert client_for(client, org.alice).get(url(q3["east"])).status_code == 404
    assert (
        client_for(client, org.director).get(reverse("target-allocate", args=[987654])).status_code
        == 404
    )


def test_a_reps_target_has_nothing_to_allocate(client, org, q3):
    assert client_for(client, org.director).get(url(q3["alice"])).status_code == 404


def test_the_editor_accepts_only_get_and_post(client, org, q3):
    client_for(client, org.director)
    assert client.put(url(q3["east"])).status_code == 405
    assert client.delete(url(q3["east"])).status_code == 405


def test_target_details_and_the_dashboard_link_to_the_editor(client, org, q3):
    client_for(client, org.mgr_east)
    assert url(q3["east"]) in page(client, reverse("target-page", args=[q3["east"].pk]))
    dashboard = page(client, f"{reverse('home')}?unit={org.east.pk}&period=2025Q3")
    assert f'href="{url(q3["east"])}" data-testid="allocate-link"' in dashboard


# Saving -------------------------------------------------------------------------------


def test_saving_creates_and_updates_children_and_the_coverage_follows(client, org, q3):
    client_for(client, org.director)
    response = client.post(
        url(q3["east"]), rows(org, east1=("2,500,000", "3,500,000"), east2=("250万", "3500000"))
    )
    assert response.status_code == 302
    assert response.url == url(q3["east"])
    east1 = Target.objects.get(pk=q3["east1"].pk)
    assert (east1.base, east1.stretch) == (D("2500000"), D("3500000"))
    assert east1.original_base == D("2500000")  # before the quarter: a plain correction
    east2 = Target.objects.get(owner_unit=org.east2, period="2025Q3")
    assert (east2.base, east2.stretch) == (D("2500000"), D("3500000"))
    assert east2.created_by == org.director
    html = page(client, url(q3["east"]))
    assert "分解已保存。" in html
    assert "100.0%" in html
    assert "已全部分配" in html


def test_a_team_is_split_among_its_reps(client, org, q3):
    client_for(client, org.mgr_east)
    response = client.post(
        url(q3["east1"]),
        {
            f"user-{org.alice.pk}-base": "1,500,000",
            f"user-{org.alice.pk}-stretch": "2,000,000",
            f"user-{org.bob.pk}-base": "150万",
            f"user-{org.bob.pk}-stretch": "200万",
        },
    )
    assert response.status_code == 302
    bob = Target.objects.get(owner_user=org.bob, period="2025Q3")
    assert (bob.base, bob.stretch) == (D("1500000"), D("2000000"))
    assert "100.0%" in page(client, url(q3["east1"]))


def test_over_allocation_is_allowed_and_shown(client, org, q3):
    client_for(client, org.mgr_east)
    client.post(url(q3["east"]), rows(org, east2=("3000000", "3000000")))
    html = page(client, url(q3["east"]))
    assert "120.0%" in html
    assert "超额分配：100万" in html


@pytest.mark.parametrize(
    ("east1", "message"),
    [
        (("3,000,000", "2,000,000"), "冲刺目标不能低于基础目标。"),
        (("-1", "4,000,000"), "基础目标不能为负数。"),
        (("三百万", "4,000,000"), "输入一个数字。"),
        (("", "4,000,000"), "该字段是必填项。"),
    ],
)
def test_an_invalid_row_is_explained_and_nothing_is_saved(client, org, q3, east1, message):
    client_for(client, org.director)
    response = client.post(url(q3["east"]), rows(org, east1=east1, east2=("1000000", "2000000")))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'class="row-invalid"' in html
    assert not Target.objects.filter(owner_unit=org.east2).exists()
    east1_target = Target.objects.get(pk=q3["east1"].pk)
    assert east1_target.base == D("3000000")


def test_a_new_child_needs_both_amounts_or_none(client, org, q3):
    client_for(client, org.director)
    response = client.post(url(q3["east"]), rows(org, east2=("1000000", "")))
    assert "请同时填写基础目标和冲刺目标，或都留空。" in response.content.decode()
    assert not Target.objects.filter(owner_unit=org.east2).exists()


def test_the_live_preview_shows_the_coverage_without_saving(client, org, q3):
    client_for(client, org.director)
    response = client.post(
        f"{url(q3['east'])}?preview=1",
        rows(org, east2=("2000000", "3000000")),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="coverage-preview"')
    assert "100.0%" in html
    assert not Target.objects.filter(owner_unit=org.east2).exists()
    bad = client.post(f"{url(q3['east'])}?preview=1", rows(org, east2=("x", "1")))
    assert "1 行需要修正" in bad.content.decode()


# Once the quarter has started ---------------------------------------------------------


@pytest.fixture
def q2(org):
    return {
        "east": target("2025Q2", owner_unit=org.east, base="5000000", stretch="7000000"),
        "east1": target("2025Q2", owner_unit=org.east1, base="3000000", stretch="4000000"),
    }


def test_a_started_quarter_is_shown_read_only(client, org, q2):
    html = page(client_for(client, org.director), url(q2["east"]))
    assert 'data-testid="locked-note"' in html
    assert "只能通过已批准的调整" in html
    assert "<input" not in html.split('data-testid="allocation-table"')[1]
    assert "300万" in html


def test_a_started_quarter_cannot_be_changed_by_a_post(client, org, q2):
    client_for(client, org.director)
    response = client.post(url(q2["east"]), rows(org, east1=("1", "1")))
    assert response.status_code == 409
    assert Target.objects.get(pk=q2["east1"].pk).base == D("3000000")


def test_the_editor_costs_the_same_queries_for_a_bigger_team(
    client, org, q3, django_assert_max_num_queries
):
    team = q3["east1"]
    client_for(client, org.mgr_east)
    with django_assert_max_num_queries(20) as small:
        page(client, url(team))
    for i in range(15):
        rep = make_rep(f"extra{i:02d}", org.east1)
        target("2025Q3", owner_user=rep, base="1000", stretch="2000")
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = page(client, url(team))
    assert "extra14" in html or "Extra14" in html
