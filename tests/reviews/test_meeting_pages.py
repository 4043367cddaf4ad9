"""Review meeting pages (SPEC §6): list, new, the agenda, the projector view, minutes."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from docx import Document

from reviews import meetings
from reviews.models import AgendaItem, MemberScore, ReviewMeeting
from targets import services as target_services
from targets.models import TargetRevision

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_may_2025")]


def client_for(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def meeting(org):
    target_services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(1_000_000), stretch=Decimal(1_500_000)
    )
    target_services.target_create(
        period="2025Q2", owner_user=org.carol, base=Decimal(2_000_000), stretch=Decimal(2_500_000)
    )
    from django.utils import timezone

    return meetings.meeting_create(
        chair=org.hrbp,
        unit=org.east,
        month="2025-05",
        members=[org.mgr_east, org.finance],
        today=timezone.localdate(),
    )


def test_the_hrbp_creates_a_review_in_the_browser(org, meeting):
    client = client_for(org.hrbp)
    page = client.get(reverse("meeting-new"))
    assert page.status_code == 200
    assert "Finance" in page.content.decode()
    response = client.post(
        reverse("meeting-new"),
        {"unit": org.east.pk, "month": "2025-06", "members": [org.finance.pk]},
    )
    created = ReviewMeeting.objects.get(month="2025-06")
    assert response.status_code == 302
    assert response["Location"] == reverse("meeting-page", args=[created.pk])
    again = client.post(reverse("meeting-new"), {"unit": org.east.pk, "month": "2025-06"})
    assert again.status_code == 200
    assert "already has a review" in again.content.decode()


def test_only_hrbps_open_the_new_review_page(org):
    assert client_for(org.finance).get(reverse("meeting-new")).status_code == 403
    assert client_for(org.alice).get(reverse("meeting-new")).status_code == 403


def test_the_meeting_page_shows_the_agenda_with_forms_by_role(org, meeting):
    url = reverse("meeting-page", args=[meeting.pk])
    chair = client_for(org.hrbp).get(url).content.decode()
    assert chair.count('data-testid="agenda-item"') == 2
    assert 'data-testid="decision-form"' in chair and 'data-testid="score-form"' in chair
    finance = client_for(org.finance).get(url).content.decode()
    assert 'data-testid="score-form"' in finance and 'data-testid="decision-form"' not in finance
    assert client_for(org.alice).get(url).status_code == 404
    assert client_for(org.director).get(url).status_code == 404


def test_a_member_scores_and_the_chair_decides_through_the_page(org, meeting):
    item = meeting.items.order_by("position").first()
    score = reverse("meeting-item-score", args=[meeting.pk, item.pk])
    response = client_for(org.finance).post(
        score,
        {
            f"s{item.pk}-market": "2",
            f"s{item.pk}-customer": "3",
            f"s{item.pk}-capacity": "4",
            f"s{item.pk}-notes": "ok",
        },
    )
    assert response.status_code == 302
    assert MemberScore.objects.get(item=item, user=org.finance).capacity == 4
    assert (
        client_for(org.finance)
        .post(
            reverse("meeting-item-decide", args=[meeting.pk, item.pk]),
            {f"d{item.pk}-decision": "keep"},
        )
        .status_code
        == 403
    )
    decide = reverse("meeting-item-decide", args=[meeting.pk, item.pk])
    client_for(org.hrbp).post(
        decide,
        {
            f"d{item.pk}-decision": "adjust",
            f"d{item.pk}-new_base": "80万",
            f"d{item.pk}-new_stretch": "120万",
            f"d{item.pk}-note": "n",
        },
    )
    item.refresh_from_db()
    assert item.decision == "adjust"
    assert item.new_base == Decimal(800_000)
    assert TargetRevision.objects.count() == 1


def test_the_chair_moves_items_and_closes_and_then_nothing_changes(org, meeting):
    first, second = meeting.items.order_by("position")
    client = client_for(org.hrbp)
    client.post(reverse("meeting-item-move", args=[meeting.pk, second.pk]), {"direction": "up"})
    assert list(meeting.items.order_by("position").values_list("pk", flat=True)) == [
        second.pk,
        first.pk,
    ]
    assert (
        client.post(
            reverse("meeting-item-move", args=[meeting.pk, second.pk]), {"direction": "x"}
        ).status_code
        == 400
    )
    client.post(reverse("meeting-close", args=[meeting.pk]))
    meeting.refresh_from_db()
    assert meeting.state == "closed"
    page = client.get(reverse("meeting-page", args=[meeting.pk])).content.decode()
    assert 'data-testid="decision-form"' not in page
    response = client.post(
        reverse("meeting-item-score", args=[meeting.pk, first.pk]), {f"s{first.pk}-market": "3"}
    )
    assert response.status_code == 302
    follow = client.get(reverse("meeting-page", args=[meeting.pk])).content.decode()
    assert "closed" in follow
    assert not MemberScore.objects.filter(item=first).exists()


def test_the_projector_view_shows_every_item_as_a_slide(org, meeting):
    page = client_for(org.finance, "zh-hans").get(reverse("meeting-present", args=[meeting.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="slide"') == 2
    assert "js/present.js" in html
    assert (
        client_for(org.dave).get(reverse("meeting-present", args=[meeting.pk])).status_code == 404
    )


def test_minutes_download_from_the_page_in_the_pages_language(org, meeting):
    response = client_for(org.finance, "zh-hans").get(
        reverse("meeting-minutes", args=[meeting.pk, "docx"])
    )
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert "目标健康度评审会纪要" in text
    assert (
        client_for(org.finance)
        .get(reverse("meeting-minutes", args=[meeting.pk, "odt"]))
        .status_code
        == 400
    )


def test_the_header_links_the_reviews_for_those_who_take_part(org, meeting):
    assert 'href="/reviews/"' in client_for(org.finance).get(reverse("meetings")).content.decode()
    assert 'href="/reviews/"' not in client_for(org.alice).get(reverse("home")).content.decode()
    listed = client_for(org.mgr_east).get(reverse("meetings")).content.decode()
    assert listed.count('data-testid="review-row"') == 1
    assert (
        client_for(org.alice)
        .get(reverse("meetings"))
        .content.decode()
        .count('data-testid="review-row"')
        == 0
    )


def test_wrong_methods_on_pages(org, meeting):
    item = AgendaItem.objects.filter(meeting=meeting).first()
    client = client_for(org.hrbp)
    assert client.get(reverse("meeting-close", args=[meeting.pk])).status_code == 405
    assert client.get(reverse("meeting-item-decide", args=[meeting.pk, item.pk])).status_code == 405
    assert client.post(reverse("meeting-page", args=[meeting.pk])).status_code == 405
