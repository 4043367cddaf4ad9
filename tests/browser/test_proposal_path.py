"""The whole path of an adjustment in a real browser (issue 6 §8): the rep proposes with the
live what-if and submits; the HRBP sets up the month's review and finds it on the agenda;
finance scores it; the HRBP adjusts (approves) it; the rep sees the revised Base on the
dashboard and the notice in the inbox. Once at desktop width, once on a phone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from alerts.models import Notification, NotificationKind
from reviews.models import Proposal, ProposalStatus, ReviewMeeting
from targets import services
from targets.periods import Quarter
from tests.browser.test_ui import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def switch_user(page: Page, live_server, username: str) -> None:
    page.context.clear_cookies()
    log_in(page, live_server, username)


@pytest.mark.parametrize("width", [1400, 390], ids=["desktop", "phone"])
def test_a_proposal_goes_from_the_rep_through_the_review_to_a_revised_target(
    page: Page, live_server, org, width
):
    page.set_viewport_size({"width": width, "height": 900})
    today = timezone.localdate()
    target = services.target_create(
        period=Quarter.of(today).label,
        owner_user=org.alice,
        base=Decimal(1_000_000),
        stretch=Decimal(1_500_000),
    )

    # The rep proposes; the what-if follows the amounts as they are typed.
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/proposals/new/")
    page.select_option("[name=target]", str(target.pk))
    page.fill("[name=proposed_base]", "80万")
    page.fill("[name=proposed_stretch]", "120万")
    what_if = page.locator("[data-testid=what-if]")
    expect(what_if).to_contain_text("80万")
    page.select_option("[name=reason]", "policy")
    page.fill("[name=explanation]", "新规收紧，两个项目推迟到下季度")
    page.click("button[name=submit]")
    expect(page.locator(".message-success")).to_contain_text("已提交")
    proposal = Proposal.objects.get()
    assert proposal.status == ProposalStatus.SUBMITTED
    assert proposal.proposed_base == Decimal(800_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # The HRBP sets up the month's review with finance; the proposal is on the agenda.
    switch_user(page, live_server, "hrbp")
    page.goto(f"{live_server.url}/reviews/new/")
    page.select_option("[name=unit]", str(org.east.pk))
    page.locator(f"[name=members][value='{org.finance.pk}']").check()
    page.click("[data-testid=new-review] button[type=submit]")
    item = page.locator("[data-testid=agenda-item]").filter(has_text="目标调整建议")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("80万")
    item_id = item.get_attribute("id").removeprefix("item-")
    assert Notification.objects.filter(
        recipient=org.finance, kind=NotificationKind.REVIEW_INVITED
    ).exists()

    # Finance follows the invitation from the inbox and scores it with a comment.
    switch_user(page, live_server, "finance")
    page.goto(f"{live_server.url}/inbox/")
    page.locator("[data-testid=notice] a").filter(has_text="评审会").first.click()
    scored = page.locator(f"#item-{item_id}")
    scored.locator(f"[name=s{item_id}-market]").select_option("2")
    scored.locator(f"[name=s{item_id}-customer]").select_option("3")
    scored.locator(f"[name=s{item_id}-capacity]").select_option("4")
    scored.locator(f"[name=s{item_id}-notes]").fill("回款放缓，支持下调")
    scored.locator("[data-testid=score-form] button").click()
    expect(page.locator(".message-success")).to_contain_text("评分已保存")

    # The HRBP sees the scores and adjusts: the proposal is approved at its amounts.
    switch_user(page, live_server, "hrbp")
    page.goto(f"{live_server.url}/reviews/{ReviewMeeting.objects.get().pk}/")
    decided = page.locator(f"#item-{item_id}")
    expect(decided).to_contain_text("回款放缓，支持下调")
    form = decided.locator("[data-testid=decision-form]")
    form.locator("input[value=adjust]").check()
    form.locator(f"[name=d{item_id}-note]").fill("同意按建议调整")
    form.locator("button").click()
    expect(page.locator(f"#item-{item_id} [data-testid=decision]")).to_contain_text("调整")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED

    # The rep sees the revised Base on the dashboard and the approval in the inbox.
    switch_user(page, live_server, "alice")
    expect(page.locator("[data-testid=base]").first).to_have_text("80万")
    page.goto(f"{live_server.url}/inbox/")
    notice = page.locator("[data-testid=notice]").filter(has_text="已批准")
    expect(notice).to_have_count(1)
    notice.locator("a").first.click()
    expect(page).to_have_url(f"{live_server.url}/proposals/{proposal.pk}/")
    expect(page.locator("main")).to_contain_text("同意按建议调整")
