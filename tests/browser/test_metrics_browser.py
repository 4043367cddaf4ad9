"""An admin defines SPEC §1's conversion cycle in the browser, on a phone, without code: a
duration between two synced dates of won deals, lower is better."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from targets.models import Metric
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_defines_a_derived_metric_on_a_phone(page: Page, live_server, org):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/metrics/new/")
    page.fill("#id_code", "conversion_cycle")
    page.fill("#id_name", "商机转化周期")
    page.fill("#id_name_en", "Opportunity conversion cycle")
    page.select_option("#id_category", "process")
    page.select_option("#id_unit", "days")
    page.select_option("#id_aggregation", "avg")
    page.select_option("#id_direction", "lower")
    page.fill("#id_weekly_plan", "30")
    page.fill("#id_warn_at", "10")
    page.fill("#id_alert_at", "25")
    page.select_option("#id_derivation", "duration")
    page.select_option("#id_record_type", "deals")
    page.select_option("#id_field", "source_created_at")
    page.select_option("#id_field_to", "close_date")
    page.select_option("#id_filters-0-field", "won")
    page.select_option("#id_filters-0-op", "eq")
    page.fill("#id_filters-0-value", "true")
    # Nothing on the form runs off a phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="保存过程指标").click()
    expect(page.locator("main")).to_contain_text("商机转化周期")
    metric = Metric.objects.get(code="conversion_cycle")
    assert (metric.direction, metric.aggregation, metric.derivation) == ("lower", "avg", "duration")
    assert metric.filters == [{"field": "won", "op": "eq", "value": True}]
