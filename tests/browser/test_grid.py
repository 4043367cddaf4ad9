"""The quarter target grid in a real browser: fill from last quarter, save, reconcile."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from targets import services
from targets.models import Target
from targets.periods import Quarter
from tests.browser.test_ui import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = Decimal


def test_a_director_fills_next_quarter_from_this_one_saves_and_sees_it_reconcile(
    page: Page, live_server, org
):
    this_quarter = Quarter.of(timezone.localdate())
    for owner, base in [
        ({"owner_unit": org.east}, "3000000"),
        ({"owner_unit": org.east1}, "2000000"),
        ({"owner_user": org.alice}, "1000000"),
        ({"owner_user": org.bob}, "1000000"),
        ({"owner_unit": org.east2}, "1000000"),
        ({"owner_user": org.carol}, "800000"),
    ]:
        services.target_create(
            period=this_quarter.label, base=D(base), stretch=D(base) * 2, **owner
        )
    log_in(page, live_server, "director")
    page.click(".nav >> text=设定目标")
    page.goto(f"{live_server.url}/targets/grid/?unit={org.east.pk}")
    expect(page.locator("h1")).to_contain_text("华东 East")

    page.fill("#id_percent", "10")
    page.click("[data-testid=fill-targets]")
    expect(page.locator("[data-testid=tool-result]")).to_contain_text("+10%")
    expect(page.locator(f"[name=unit-{org.east.pk}-base]")).to_have_value("3,300,000")
    # htmx swapped the grid in place: nothing saved yet.
    assert not Target.objects.filter(period=this_quarter.next().label).exists()

    page.click("[data-testid=save-grid]")
    expect(page.locator(".message-success")).to_contain_text("目标已保存")
    east_row = page.locator(f"#row-unit-{org.east.pk}")
    expect(east_row.locator("[data-testid=recon]")).to_contain_text("一致")
    east2_row = page.locator(f"#row-unit-{org.east2.pk}")
    # East-2 holds 110万 and carol 88万 of it.
    expect(east2_row.locator("[data-testid=recon]")).to_contain_text("低于 22万")
    assert Target.objects.get(owner_unit=org.east, period=this_quarter.next().label).base == D(
        "3300000"
    )

    # Typing updates the reconciliation without saving.
    page.fill(f"[name=unit-{org.east.pk}-base]", "400万")
    expect(east_row.locator("[data-testid=recon]")).to_contain_text("低于 70万")
