"""Review minutes as DOCX and PDF, opened the way an HR person's tools would (SPEC §6)."""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from docx import Document

from reviews.models import ReviewMeeting
from targets import services as target_services
from tests.services import require_service

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_may_2025")]
URL = "/api/v1/reviews/"


@pytest.fixture
def closed(api, org):
    target = target_services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(1_000_000), stretch=Decimal(1_500_000)
    )
    response = api(org.hrbp).post(
        URL,
        {"unit": org.east.pk, "month": "2025-05", "members": [org.finance.pk]},
        format="json",
    )
    meeting = ReviewMeeting.objects.get(pk=response.json()["id"])
    item = meeting.items.get(target=target)
    url = f"{URL}{meeting.pk}/items/{item.pk}/"
    api(org.finance).patch(
        url,
        {"scores": {"market": 2, "customer": 4, "capacity": 3}, "notes": "回款周期变长"},
        format="json",
    )
    api(org.hrbp).patch(
        url,
        {
            "decision": "adjust",
            "new_base": "800000",
            "new_stretch": "1200000",
            "decision_note": "竞品降价",
        },
        format="json",
    )
    assert api(org.hrbp).post(f"{URL}{meeting.pk}/close/").status_code == 200
    return meeting


def docx_text(content: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)


def pdf_text(content: bytes, tmp_path) -> str:
    require_service(
        "pdftotext", shutil.which("pdftotext") is not None, hint="apt-get install poppler-utils"
    )
    path = tmp_path / "minutes.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def minutes(api, user, meeting, fmt, lang=None):
    query = f"?format={fmt}" + (f"&lang={lang}" if lang else "")
    return api(user).get(f"{URL}{meeting.pk}/minutes/{query}")


def test_the_docx_minutes_read_in_chinese(api, org, closed):
    response = minutes(api, org.hrbp, closed, "docx", "zh-hans")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    text = docx_text(response.content)
    for expected in [
        "目标健康度评审会纪要",
        "华东 East",
        "2025-05",
        "Hrbp",
        "Finance",
        "红色预警目标",
        "Alice",
        "回款周期变长",
        "竞品降价",
        "调整",
        "80万",
        "120万",
    ]:
        assert expected in text, (expected, text)


def test_the_docx_minutes_read_in_english(api, org, closed):
    text = docx_text(minutes(api, org.hrbp, closed, "docx", "en").content)
    for expected in [
        "Target-health review minutes",
        "Red target",
        "Decision: Adjust",
        "market data 2",
    ]:
        assert expected in text, (expected, text)


def test_the_minutes_follow_the_callers_language(api, org, closed):
    client = api(org.hrbp)
    response = client.get(f"{URL}{closed.pk}/minutes/?format=docx", HTTP_ACCEPT_LANGUAGE="en")
    assert "Target-health review minutes" in docx_text(response.content)


def test_the_pdf_minutes_hold_chinese_text(api, org, closed, tmp_path):
    response = minutes(api, org.finance, closed, "pdf", "zh-hans")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content, tmp_path)
    for expected in [
        "目标健康度评审会纪要",
        "华东 East",
        "回款周期变长",
        "竞品降价",
        "红色预警目标",
    ]:
        assert expected in text, (expected, text)


def test_the_pdf_minutes_in_english(api, org, closed, tmp_path):
    text = pdf_text(minutes(api, org.hrbp, closed, "pdf", "en").content, tmp_path)
    for expected in ["Target-health review minutes", "Red target", "Decision: Adjust"]:
        assert expected in text, (expected, text)


def test_minutes_are_for_those_who_see_the_review(api, org, closed):
    assert minutes(api, org.alice, closed, "pdf").status_code == 404
    assert minutes(api, org.director, closed, "docx").status_code == 404
    assert minutes(api, org.hrbp, closed, "txt").status_code == 400
    assert minutes(api, org.hrbp, closed, "docx", "fr").status_code == 400
