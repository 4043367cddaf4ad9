"""A review meeting in a real browser: a member scores, the chair adjusts, the projector
view moves with the keyboard."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from reviews import meetings
from targets import services
from targets.models import TargetRevision
from targets.periods import Quarter
from tests.browser.test_ui import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_members_score_the_chair_adjusts_and_the_projector_follows_the_arrow_keys(
    page: Page, live_server, org
):
    today = timezone.localdate()
    quarter = Quarter.of(today).label
    for rep in (org.alice, org.carol):
        services.target_create(
            period=quarter, owner_user=rep, base=Decimal(1_000_000), stretch=Decimal(1_500_000)
        )
    meeting = meetings.meeting_create(
        chair=org.hrbp, unit=org.east, month=f"{today:%Y-%m}", members=[org.finance], today=today
    )
    # Nothing sold yet: from the quarter's first day both targets are red, on the agenda.
    assert meeting.items.count() == 2
    first = meeting.items.order_by("position").first()

    log_in(page, live_server, "finance")
    page.goto(f"{live_server.url}/reviews/{meeting.pk}/")
    item = page.locator(f"#item-{first.pk}")
    item.locator(f"[name=s{first.pk}-market]").select_option("2")
    item.locator(f"[name=s{first.pk}-capacity]").select_option("4")
    item.locator("[data-testid=score-form] button").click()
    expect(page.locator(".message-success")).to_contain_text("评分已保存")
    expect(page.locator(f"#item-{first.pk} [data-testid=decision-form]")).to_have_count(0)

    page.context.clear_cookies()
    log_in(page, live_server, "hrbp")
    page.goto(f"{live_server.url}/reviews/{meeting.pk}/")
    form = page.locator(f"#item-{first.pk} [data-testid=decision-form]")
    form.locator("input[value=adjust]").check()
    form.locator(f"[name=d{first.pk}-new_base]").fill("80万")
    form.locator(f"[name=d{first.pk}-new_stretch]").fill("120万")
    form.locator("button").click()
    expect(page.locator(f"#item-{first.pk} [data-testid=decision]")).to_contain_text("调整")
    assert TargetRevision.objects.get().base_after == Decimal(800_000)

    page.click("[data-testid=present]")
    slides = page.locator("[data-testid=slide]")
    expect(slides.nth(0)).to_be_visible()
    expect(slides.nth(1)).to_be_hidden()
    page.keyboard.press("ArrowRight")
    expect(slides.nth(1)).to_be_visible()
    expect(slides.nth(0)).to_be_hidden()
    expect(page.locator("[data-present-count]")).to_have_text(f"2 / {slides.count()}")
    page.keyboard.press("ArrowLeft")
    expect(slides.nth(0)).to_be_visible()


def test_closing_asks_first_and_a_no_leaves_the_review_open(page: Page, live_server, org):
    today = timezone.localdate()
    services.target_create(
        period=Quarter.of(today).label,
        owner_user=org.alice,
        base=Decimal(1_000_000),
        stretch=Decimal(1_500_000),
    )
    meeting = meetings.meeting_create(
        chair=org.hrbp, unit=org.east, month=f"{today:%Y-%m}", members=[org.finance], today=today
    )
    log_in(page, live_server, "hrbp")
    page.goto(f"{live_server.url}/reviews/{meeting.pk}/")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.click("[data-testid=close]")
    expect(page.locator("[data-testid=meeting-state]")).to_have_text("进行中")
    assert "1" in questions[0]  # one item without a decision

    page.once("dialog", lambda d: answer(d, True))
    page.click("[data-testid=close]")
    expect(page.locator("[data-testid=meeting-state]")).to_have_text("已关闭")
    meeting.refresh_from_db()
    assert meeting.state == "closed"
