"""The setup checklist and the imports page in a real browser, on a phone (390 px) and a
desktop (1280 px), in both languages: nothing runs off the side, and a check of a bad file
lists its rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_ui import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_setup_and_imports_fit_the_screen_in_both_languages(
    page: Page, live_server, org, width, language, tmp_path: Path
):
    page.set_viewport_size({"width": width, "height": 844 if width < 500 else 900})
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    log_in(page, live_server, "admin")
    page.click("[data-testid=setup-link]")
    expect(page.locator("[data-testid=setup-company]")).to_be_visible()
    expect(page.locator("[data-testid=setup-company] .chip")).to_have_text(
        "已完成" if language == "zh-hans" else "done"
    )
    page.screenshot(path=str(tmp_path / f"setup-{language}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.goto(f"{live_server.url}/imports/?kind=org")
    expect(page.locator("input[name=kind][value=org]")).to_be_checked()
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "org.csv",
                "mimeType": "text/csv",
                "buffer": "code,name,parent,kind\nX,甲,NOWHERE,team\n".encode("gbk"),
            }
        ],
    )
    page.click("button[value=check]")
    expect(page.locator("[data-testid=import-result]")).to_contain_text("NOWHERE")
    page.screenshot(path=str(tmp_path / f"imports-{language}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
