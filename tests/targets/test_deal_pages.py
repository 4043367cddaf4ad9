"""The deals pages through the test client: the list, confirming manual deals, manual entry."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from targets import access, services
from targets.errors import ValidationError
from targets.figures import figures_for
from targets.forms import ManualDealForm, add_service_errors
from targets.models import Deal, DealSource, Role, User
from targets.selectors.deals import colleagues_for_split, reps_for_entry
from tests.factories import DealFactory, make_user

pytestmark = pytest.mark.django_db

D = Decimal
DEALS = reverse("deals")
NEW = reverse("deals-new")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _mid_quarter():
    with time_machine.travel(datetime(2025, 5, 15, 12, tzinfo=SHANGHAI), tick=False):
        yield


def confirm_url(deal) -> str:
    return reverse("deals-confirm", args=[deal.pk])


def client_for(client, user):
    client.force_login(user)
    return client


def page(client, url=DEALS, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def manual_deal(org, *, author=None, owner=None, account="手工客户有限公司", amount="80000"):
    # The default id is a timestamp, and time stands still in these tests.
    return services.deal_create_manual(
        external_id=f"M-{account}",
        author=author or org.alice,
        account=account,
        owner=owner or org.alice,
        amount=D(amount),
        close_date=date(2025, 5, 10),
        stage="已签约",
    )


@pytest.fixture
def deals(org):
    """An ERP deal split between alice and bob, alice's own manual deal, one of dave's."""
    shared = DealFactory(
        owner=org.alice,
        account="上海云启科技",
        external_id="ERP-0042",
        amount=D("1000000"),
        close_date=date(2025, 5, 2),
        splits=[services.Split(org.alice, D(60)), services.Split(org.bob, D(40))],
    )
    manual = manual_deal(org)
    north = DealFactory(owner=org.dave, account="北京北辰集团", close_date=date(2025, 4, 3))
    lost = DealFactory(
        owner=org.carol, account="杭州西湖传媒", won=False, stage="Negotiation",
        close_date=date(2025, 3, 20), source=DealSource.SALESFORCE, external_id="0061x0000A",
    )  # fmt: skip
    return {"shared": shared, "manual": manual, "north": north, "lost": lost}


# The list -----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, deals):
    for response in (
        client.get(DEALS),
        client.get(NEW),
        client.post(confirm_url(deals["manual"])),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_list_shows_provenance_splits_and_the_manual_marker(client, org, deals):
    html = page(client_for(client, org.director))
    assert "上海云启科技" in html
    assert "ERP-0042" in html
    assert "Alice 60% · Bob 40%" in html
    assert "100万" in html
    assert "手工录入" in html  # the manual marker
    assert deals["manual"].external_id in html
    assert "待确认" in html
    assert "录入人 Alice" in html
    assert "Salesforce" in html
    assert "未赢单" in html


def test_the_list_shows_newest_close_dates_first(client, org, deals):
    html = page(client_for(client, org.director))
    accounts = ["手工客户有限公司", "上海云启科技", "北京北辰集团", "杭州西湖传媒"]
    positions = [html.index(account) for account in accounts]
    assert positions == sorted(positions)


def test_a_rep_sees_only_the_deals_credited_to_them(client, org, deals):
    html = page(client_for(client, org.bob))
    assert "上海云启科技" in html  # bob holds 40 % of it
    assert "手工客户有限公司" not in html
    assert "北京北辰集团" not in html


def test_a_manager_sees_the_own_regions_deals_only(client, org, deals):
    html = page(client_for(client, org.mgr_east))
    assert "上海云启科技" in html
    assert "杭州西湖传媒" in html
    assert "北京北辰集团" not in html


def test_the_list_filters_by_quarter_source_won_awaiting_and_account(client, org, deals):
    client_for(client, org.director)

    def accounts(query: str) -> set[str]:
        html = page(client, f"{DEALS}?{query}")
        return {
            a
            for a in ("手工客户有限公司", "上海云启科技", "北京北辰集团", "杭州西湖传媒")
            if a in html
        }

    assert accounts("period=2025Q1") == {"杭州西湖传媒"}
    assert accounts("period=2025Q2") == {"手工客户有限公司", "上海云启科技", "北京北辰集团"}
    assert accounts("source=salesforce") == {"杭州西湖传媒"}
    assert accounts("won=no") == {"杭州西湖传媒"}
    assert accounts("awaiting=1") == {"手工客户有限公司"}
    assert accounts("q=云启") == {"上海云启科技"}
    assert accounts("period=2025Q2&won=yes&q=北辰") == {"北京北辰集团"}


def test_a_malformed_filter_is_a_bad_request(client, org):
    client_for(client, org.director)
    assert client.get(f"{DEALS}?period=2025-Q9").status_code == 400
    assert client.get(f"{DEALS}?source=excel").status_code == 400


def test_the_list_does_not_accept_posts(client, org):
    assert client_for(client, org.director).post(DEALS).status_code == 405


def test_an_htmx_filter_request_gets_only_the_list(client, org, deals):
    html = page(client_for(client, org.director), f"{DEALS}?q=云启", HTTP_HX_REQUEST="true")
    assert html.lstrip().startswith('<section id="deal-list"')
    assert "<html" not in html
    assert "上海云启科技" in html


def test_the_list_is_paginated_by_fifty_with_plain_and_htmx_links(client, org):
    for i in range(55):
        DealFactory(owner=org.alice, account=f"分页客户{i:02d}", close_date=date(2025, 4, 1))
    client_for(client, org.director)
    first = page(client)
    assert first.count('data-testid="deal-row"') == 50
    link = f"{DEALS}?page=2"
    assert f'href="{link}" hx-get="{link}"' in first
    second = page(client, link)
    assert second.count('data-testid="deal-row"') == 5
    assert "第 2 页，共 2 页" in second


def test_the_manual_entry_button_shows_only_to_who_may_enter(client, org, deals):
    assert NEW in page(client_for(client, org.alice))
    assert NEW not in page(client_for(client, org.hrbp))


# Confirming ---------------------------------------------------------------------------


def alice_actual(org) -> Callable[[], Decimal]:
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=D("1000000"), stretch=D("1500000")
    )
    return lambda: figures_for([target], as_of=date(2025, 5, 15))[target.pk].actual


def test_a_manager_confirms_a_manual_deal_and_it_counts(client, org, deals):
    actual = alice_actual(org)
    before = actual()
    response = client_for(client, org.mgr_east).post(
        confirm_url(deals["manual"]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="deal-{deals["manual"].pk}"')
    assert "已确认（Mgr_East）" in html
    assert "确认</button>" not in html
    assert actual() == before + D("80000")
    deals["manual"].refresh_from_db()
    assert deals["manual"].confirmed_by == org.mgr_east


def test_the_confirm_button_is_offered_to_the_manager_not_the_author(client, org, deals):
    preview = reverse("deals-confirm-preview", args=[deals["manual"].pk])
    button = f'hx-get="{preview}?next='
    assert button in page(client_for(client, org.mgr_east))
    assert button in page(client_for(client, org.director))
    assert button not in page(client_for(client, org.alice))
    assert button not in page(client_for(client, org.hrbp))


def test_without_htmx_the_confirmation_returns_to_the_list_with_a_message(client, org, deals):
    client_for(client, org.mgr_east)
    back = f"{DEALS}?awaiting=1"
    response = client.post(confirm_url(deals["manual"]), {"next": back})
    assert response.status_code == 302
    assert response.url == back
    html = page(client, DEALS)
    assert "已确认商机：手工客户有限公司" in html


def test_the_author_may_not_confirm_the_own_deal(client, org, deals):
    response = client_for(client, org.alice).post(confirm_url(deals["manual"]))
    assert response.status_code == 403
    deals["manual"].refresh_from_db()
    assert deals["manual"].confirmed_by is None


def test_who_may_see_but_not_confirm_is_forbidden(client, org, deals):
    assert client_for(client, org.hrbp).post(confirm_url(deals["manual"])).status_code == 403


def test_a_deal_outside_the_users_scope_is_not_found(client, org, deals):
    mgr_north = make_user("mgr_north", roles=[(Role.SALES_MANAGER, org.north)])
    assert client_for(client, mgr_north).post(confirm_url(deals["manual"])).status_code == 404
    assert client_for(client, org.bob).post(confirm_url(deals["manual"])).status_code == 404
    response = client_for(client, org.director).post(reverse("deals-confirm", args=[987654]))
    assert response.status_code == 404


def test_the_confirm_url_accepts_only_posts(client, org, deals):
    response = client_for(client, org.mgr_east).get(confirm_url(deals["manual"]))
    assert response.status_code == 405


def test_a_second_confirmation_shows_the_conflict(client, org, deals):
    services.deal_confirm(deal=deals["manual"], confirmed_by=org.director)
    client_for(client, org.mgr_east)
    response = client.post(confirm_url(deals["manual"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    html = response.content.decode()
    assert "该商机无需确认或已被确认。" in html
    assert "已确认（Director）" in html  # the row as the other manager left it

    response = client.post(confirm_url(deals["manual"]), follow=True)
    assert "该商机无需确认或已被确认。" in response.content.decode()


def test_confirm_buttons_show_only_for_who_may_confirm(client, org, deals):
    button = confirm_url(deals["manual"])
    assert button in page(client_for(client, org.mgr_east))
    assert button in page(client_for(client, org.director))
    for user in (org.alice, org.hrbp, org.finance):
        assert button not in page(client_for(client, user))


# Manual entry -------------------------------------------------------------------------


def owner_choices(html: str) -> list[str]:
    select = re.search(r'<select name="owner".*?</select>', html, re.S)[0]
    return re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', select)


def test_a_rep_may_enter_deals_only_for_themselves(client, org):
    html = page(client_for(client, org.alice), NEW)
    assert owner_choices(html) == ["Alice · East-1"]


def test_a_manager_may_enter_deals_for_the_reps_of_the_own_region(client, org):
    html = page(client_for(client, org.mgr_east), NEW)
    assert owner_choices(html) == ["Alice · East-1", "Bob · East-1", "Carol · East-2"]
    assert '<option value="" selected>选择销售代表</option>' in html  # no rep preselected


def test_a_director_may_enter_deals_for_every_rep(client, org):
    html = page(client_for(client, org.director), NEW)
    assert "Dave · North-1" in owner_choices(html)
    assert len(owner_choices(html)) == 4


def test_the_owner_choices_agree_with_the_access_rule(org):
    for user in (org.director, org.mgr_east, org.alice, org.hrbp):
        allowed = set(reps_for_entry(user))
        for rep in User.objects.filter(is_active=True, team__isnull=False):
            assert (rep in allowed) == access.can_enter_deal_for(user, owner=rep), (user, rep)


def test_who_may_not_enter_deals_is_forbidden(client, org):
    client_for(client, org.hrbp)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {}).status_code == 403


def test_the_entry_form_accepts_only_get_and_post(client, org):
    assert client_for(client, org.alice).put(NEW).status_code == 405


def entry(org, **changes) -> dict:
    data = {
        "account": "苏州新客户",
        "owner": org.alice.pk,
        "amount": "120000",
        "close_date": "2025-05-12",
        "won": "on",
        "stage": "已签约",
        "second_rep": "",
        "second_share": "",
    }
    data.update(changes)
    return data


def test_a_manual_deal_is_entered_and_awaits_confirmation(client, org):
    client_for(client, org.alice)
    response = client.post(NEW, entry(org))
    assert response.status_code == 302
    assert response.url == DEALS
    deal = Deal.objects.get(account="苏州新客户")
    assert deal.source == DealSource.MANUAL
    assert deal.created_by == org.alice
    assert deal.amount == D("120000")
    assert deal.won
    assert not deal.confirmed
    html = page(client)
    assert "已录入，待其他经理确认后计入业绩" in html
    assert "苏州新客户" in html


def test_a_manual_deal_may_be_shared_with_a_second_rep(client, org):
    client_for(client, org.mgr_east)
    response = client.post(
        NEW, entry(org, owner=org.bob.pk, second_rep=org.carol.pk, second_share="30")
    )
    assert response.status_code == 302
    deal = Deal.objects.get(account="苏州新客户")
    shares = {c.user.username: c.percent for c in deal.credits.select_related("user")}
    assert shares == {"bob": D(70), "carol": D(30)}
    assert "Bob 70% · Carol 30%" in page(client)


def test_entry_errors_are_shown_on_their_fields_and_nothing_is_saved(client, org):
    client_for(client, org.mgr_east)
    response = client.post(
        NEW,
        entry(org, account="", amount="-5", owner=org.dave.pk, close_date="15/05/2025"),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"account", "amount", "owner", "close_date"}
    html = response.content.decode()
    assert 'class="field has-error"' in html
    assert not Deal.objects.exists()


def test_a_share_needs_a_second_rep_other_than_the_owner(client, org):
    client_for(client, org.mgr_east)
    response = client.post(NEW, entry(org, second_rep=org.alice.pk, second_share="100"))
    errors = response.context["form"].errors
    assert "second_rep" in errors
    assert "second_share" in errors
    response = client.post(NEW, entry(org, second_rep=org.bob.pk))
    assert "second_share" in response.context["form"].errors
    assert not Deal.objects.exists()


def test_a_services_validation_error_lands_on_the_matching_field(org):
    form = ManualDealForm(
        entry(org), owners=reps_for_entry(org.alice), colleagues=colleagues_for_split(org.alice)
    )
    assert form.is_valid()
    with pytest.raises(ValidationError) as caught:
        services.deal_create_manual(
            author=org.alice,
            account="x",
            owner=org.alice,
            amount=D(1),
            close_date=date(2025, 5, 1),
            splits=[services.Split(org.alice, D(50)), services.Split(org.bob, D(30))],
            today=date(2025, 5, 2),
        )
    add_service_errors(form, caught.value, aliases={"splits": "second_share"})
    assert form.errors["second_share"] == ["各方分成比例之和必须为 100%。"]


# Cost ---------------------------------------------------------------------------------


def add_deals(org, count: int, *, start: int = 0) -> None:
    """Manual deals awaiting confirmation and ERP deals split between two reps."""
    for i in range(start, start + count):
        if i % 3 == 0:
            manual_deal(org, account=f"手工{i}")
        else:
            DealFactory(
                owner=org.alice,
                close_date=date(2025, 4, 1 + i % 28),
                splits=[services.Split(org.alice, D(50)), services.Split(org.carol, D(50))],
            )


# Session, user, roles, managed teams, count, deals, credits, awaiting count, may-enter,
# the units of the team filter.
QUERY_BUDGET = 10


@pytest.mark.parametrize("who", ["director", "mgr_east", "alice"])
def test_the_list_costs_the_same_queries_for_5_and_40_deals(
    client, org, who, django_assert_max_num_queries
):
    client_for(client, getattr(org, who))
    add_deals(org, 5)
    with django_assert_max_num_queries(QUERY_BUDGET):
        html = page(client)
    assert html.count('data-testid="deal-row"') == 5
    add_deals(org, 35, start=5)
    with django_assert_max_num_queries(QUERY_BUDGET):
        html = page(client)
    assert html.count('data-testid="deal-row"') == 40
    if who != "alice":
        assert html.count('data-testid="confirm-open"') == 14  # every manual deal awaits one
