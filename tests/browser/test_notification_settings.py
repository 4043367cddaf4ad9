"""The notification settings on a phone (390 px), in both languages: reachable from the
header, nothing wider than the screen, a choice saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from alerts.delivery import preference_grid
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("language", "title", "digest"),
    [("zh-hans", "通知设置", "每日汇总"), ("en", "Notification settings", "Daily digest")],
)
def test_a_rep_chooses_a_daily_digest_on_a_phone(
    page: Page, live_server, org, language, title, digest
):
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.click("a.whoami")
    expect(page.locator("h1")).to_have_text(title)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.select_option("#pref-status_worse__email", label=digest)
    page.click("[data-testid=notification-settings] button[type=submit]")
    expect(page.locator(".message-success")).to_be_visible()
    modes = {row["topic"]: row["cells"][0]["mode"] for row in preference_grid(org.alice)}
    assert modes["status_worse"] == "digest"
