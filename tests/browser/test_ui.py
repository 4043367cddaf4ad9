"""The pages in a real browser: login form, plotly charts, htmx language switch and drill-down."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from targets import services
from targets.periods import Quarter
from tests.factories import PASSWORD, DealFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = Decimal


@pytest.fixture
def company(transactional_db, org):
    today = timezone.localdate()
    period = Quarter.of(today).label
    for owner, base in [
        ({"owner_unit": org.company}, "8000000"),
        ({"owner_unit": org.east}, "5000000"),
        ({"owner_unit": org.north}, "3000000"),
        ({"owner_unit": org.east1}, "3000000"),
        ({"owner_user": org.alice}, "1500000"),
    ]:
        services.target_create(period=period, base=D(base), stretch=D(base) * 2, **owner)
    DealFactory(owner=org.alice, amount=D("900000"), close_date=today)
    return org


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_a_director_logs_in_sees_charts_switches_language_and_opens_a_target(
    page: Page, live_server, company
):
    log_in(page, live_server, "director")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("ACME")
    expect(page.locator(".nav")).to_contain_text("仪表盘")
    expect(page.locator("[data-testid=children-chart] .plot-container svg").first).to_be_visible()
    expect(page.locator(".kpi").nth(1)).to_contain_text("800万")

    page.select_option("#language-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".nav")).to_contain_text("Dashboard")
    expect(page.locator(".kpi").nth(1)).to_contain_text("8,000,000")

    # Drill into East with htmx: the fragment is swapped in and the URL follows.
    page.click("[data-testid=children-table] >> text=华东 East")
    expect(page.locator("h1")).to_contain_text("华东 East")
    expect(page).to_have_url(re.compile(r"\?unit=\d+&period="))
    expect(page.locator("[data-testid=children-chart] .plot-container")).to_be_visible()

    page.click("text=Target details")
    expect(page.locator("h2", has_text="Weekly trend")).to_be_visible()
    expect(page.locator("[data-testid=trend-chart] .plot-container svg").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("Monthly completion")


def test_a_rep_sees_own_target_with_its_status(page: Page, live_server, company):
    log_in(page, live_server, "alice")
    expect(page.locator("h1")).to_contain_text("Alice")
    expect(page.locator(".kpi .badge")).to_be_visible()
    expect(page.locator(".kpi").nth(1)).to_contain_text("150万")


def test_a_manager_confirms_a_manual_deal_in_place(page: Page, live_server, company):
    deal = services.deal_create_manual(
        author=company.alice,
        account="手工客户有限公司",
        owner=company.alice,
        amount=D("80000"),
        close_date=timezone.localdate(),
    )
    log_in(page, live_server, "mgr_east")
    page.click(".nav >> text=商机")
    row = page.locator(f"#deal-{deal.pk}")
    expect(row).to_contain_text("待确认")
    row.locator("[data-testid=confirm-open]").click()
    # First the effect on alice's completion, in a dialog over the list.
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-testid=confirm-effects]")).to_contain_text("Alice")
    expect(dialog.locator("[data-testid=effect-completion]")).to_contain_text("→")
    dialog.locator("[data-testid=confirm-final]").click()
    # htmx swaps the row: confirmed, no button, the dialog closed, the page did not reload.
    expect(page.locator(f"#deal-{deal.pk}")).to_contain_text("已确认（Mgr_East）")
    expect(page.locator(f"#deal-{deal.pk} [data-testid=confirm-open]")).to_have_count(0)
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(f"{live_server.url}/deals/")


def test_a_manager_cancels_the_confirm_step_and_nothing_changes(page: Page, live_server, company):
    deal = services.deal_create_manual(
        author=company.alice,
        account="手工客户有限公司",
        owner=company.alice,
        amount=D("80000"),
        close_date=timezone.localdate(),
    )
    log_in(page, live_server, "mgr_east")
    page.goto(f"{live_server.url}/deals/")
    page.locator(f"#deal-{deal.pk} [data-testid=confirm-open]").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("button", has_text="取消").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#deal-{deal.pk}")).to_contain_text("待确认")


def test_a_bar_click_drills_down_and_the_children_table_sorts(page: Page, live_server, company):
    services.target_create(
        period=Quarter.of(timezone.localdate()).label,
        owner_user=company.bob,
        base=D("1000000"),
        stretch=D("2000000"),
    )
    log_in(page, live_server, "mgr_east")
    page.goto(f"{live_server.url}/?unit={company.east1.pk}")
    names = page.locator("[data-testid=children-table] tbody tr td:first-child")
    expect(names).to_have_text(["Alice", "Bob"])
    completion = page.locator("[data-testid=children-table] th", has_text="完成率")
    completion.click()  # ascending: bob (nothing yet) first
    expect(names).to_have_text(["Bob", "Alice"])
    expect(completion).to_have_attribute("aria-sort", "ascending")
    completion.click()
    expect(names).to_have_text(["Alice", "Bob"])

    # A click on alice's bar opens her target page.
    page.locator("[data-testid=children-chart] .bars .point").first.click(force=True)
    page.wait_for_url(re.compile(r"/targets/\d+/$"))
    expect(page.locator("h1")).to_contain_text("Alice")
    expect(page.locator("[data-testid=target-deals]")).to_contain_text("90万")
