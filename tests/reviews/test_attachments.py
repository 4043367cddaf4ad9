"""A proposal's optional attachment: PDF, PNG/JPEG or XLSX of at most 10 MB, told by content,
downloaded only by those who see the proposal (SPEC §6)."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from fpdf import FPDF
from openpyxl import Workbook
from PIL import Image

from reviews import services
from reviews.attachments import MAX_BYTES, attachment_check, attachment_name_clean
from reviews.models import Proposal
from targets import services as target_services
from targets.errors import StateConflict, ValidationError

pytestmark = pytest.mark.django_db
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _may_2025():
    with time_machine.travel(date(2025, 5, 20), tick=False):
        yield


@pytest.fixture
def target(org):
    return target_services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(1000), stretch=Decimal(1500)
    )


def pdf_bytes() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Customer letter")
    return bytes(pdf.output())


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(["客户", "金额"])
    workbook.active.append(["华东", 1200])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def propose(org, target, attachment=None, **changes):
    return services.proposal_create(
        author=changes.pop("author", org.alice),
        target=target,
        proposed_base=Decimal(800),
        proposed_stretch=Decimal(1200),
        reason="competitor_price",
        attachment=attachment,
        **changes,
    )


@pytest.mark.parametrize(
    ("name", "make", "kind", "content_type"),
    [
        ("来函.pdf", pdf_bytes, "pdf", "application/pdf"),
        ("chart.png", lambda: image_bytes("PNG"), "png", "image/png"),
        ("photo.jpeg", lambda: image_bytes("JPEG"), "jpeg", "image/jpeg"),
        ("客户清单.xlsx", xlsx_bytes, "xlsx", XLSX_TYPE),
    ],
)
def test_a_real_pdf_png_jpeg_or_xlsx_is_kept_with_the_proposal(
    org, target, name, make, kind, content_type, client
):
    content = make()
    assert attachment_check(upload(name, content)) == kind

    proposal = propose(org, target, upload(name, content), submit=True)

    proposal.refresh_from_db()
    assert proposal.attachment_name == name
    assert proposal.attachment.name.startswith(f"proposals/{proposal.pk}/")
    with proposal.attachment.open("rb") as stored:
        assert stored.read() == content
    client.force_login(org.alice)
    response = client.get(f"/proposals/{proposal.pk}/attachment/")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type


def test_the_type_comes_from_the_content_not_the_name_or_the_clients_word(org, target):
    # A PNG named .pdf and sent as a PDF is a PNG.
    assert attachment_check(upload("letter.pdf", image_bytes("PNG"), "application/pdf")) == "png"
    for name, content in [
        ("letter.pdf", b"just some text that claims to be a PDF"),
        ("book.xlsx", b"PK\x03\x04 not really a zip at all"),
        ("page.png", b"<html><script>alert(1)</script></html>"),
    ]:
        with pytest.raises(ValidationError) as error:
            propose(org, target, upload(name, content, "application/pdf"))
        assert "attachment" in error.value.message_dict
    assert not Proposal.objects.exists()


def test_a_zip_that_is_not_a_workbook_is_refused(org, target):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(ValidationError) as error:
        attachment_check(upload("notes.xlsx", out.getvalue()))
    assert "attachment" in error.value.message_dict


def test_a_file_over_10_mb_is_refused_and_nothing_is_written(org, target, _media):
    big = pdf_bytes() + b"\0" * (11 * 1024 * 1024)
    assert len(big) > MAX_BYTES
    with pytest.raises(ValidationError) as error:
        propose(org, target, upload("big.pdf", big))
    assert "10 MB" in error.value.message_dict["attachment"][0]
    assert not Proposal.objects.exists()
    assert not _media.exists() or not any(_media.rglob("*.*"))


def test_amount_errors_and_attachment_errors_come_together(org, target):
    with pytest.raises(ValidationError) as error:
        services.proposal_create(
            author=org.alice,
            target=target,
            proposed_base=Decimal(900),
            proposed_stretch=Decimal(800),
            reason="competitor_price",
            attachment=upload("x.pdf", b"plain text"),
        )
    assert set(error.value.message_dict) == {"attachment", "proposed_stretch"}


def test_the_shown_name_is_the_files_own_name_made_safe():
    assert attachment_name_clean("C:\\Users\\张三\\报价单.pdf", kind="pdf") == "报价单.pdf"
    assert attachment_name_clean('../../etc/"pass\nwd".pdf', kind="pdf") == "passwd.pdf"
    assert attachment_name_clean("...", kind="xlsx") == "attachment.xlsx"
    long = attachment_name_clean("a" * 300 + ".pdf", kind="pdf")
    assert len(long) <= 200 and long.endswith(".pdf")


def test_a_new_attachment_on_a_draft_replaces_the_old_one(
    org, target, _media, django_capture_on_commit_callbacks
):
    proposal = propose(org, target, upload("one.png", image_bytes("PNG")))
    first = proposal.attachment.name
    with django_capture_on_commit_callbacks(execute=True):
        proposal = services.proposal_update(
            proposal=proposal, by=org.alice, attachment=upload("two.jpg", image_bytes("JPEG"))
        )
    proposal.refresh_from_db()
    assert proposal.attachment_name == "two.jpg"
    assert proposal.attachment.name.endswith(".jpg")
    assert not (_media / first).exists()


def test_a_submitted_proposals_attachment_is_no_longer_changed(org, target):
    proposal = propose(org, target, submit=True)
    with pytest.raises(StateConflict):
        services.proposal_update(
            proposal=proposal, by=org.alice, attachment=upload("late.pdf", pdf_bytes())
        )


# Download ------------------------------------------------------------------------------


@pytest.fixture
def attached(org, target):
    return propose(org, target, upload("报价 单.pdf", pdf_bytes()), submit=True)


@pytest.mark.parametrize("who", ["alice", "hrbp"])
def test_the_author_and_the_hrbp_download_the_attachment(client, org, attached, who):
    client.force_login(getattr(org, who))
    response = client.get(f"/proposals/{attached.pk}/attachment/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


@pytest.mark.parametrize("who", ["dave", "bob"])
def test_someone_who_does_not_see_the_proposal_gets_404(client, org, attached, who):
    client.force_login(getattr(org, who))
    assert client.get(f"/proposals/{attached.pk}/attachment/").status_code == 404


def test_a_draft_attachment_is_its_authors_only(client, org, target):
    draft = propose(org, target, upload("x.pdf", pdf_bytes()))
    client.force_login(org.hrbp)
    assert client.get(f"/proposals/{draft.pk}/attachment/").status_code == 404


def test_a_proposal_without_attachment_has_nothing_to_download(client, org, target):
    proposal = propose(org, target, submit=True)
    client.force_login(org.alice)
    assert client.get(f"/proposals/{proposal.pk}/attachment/").status_code == 404


def test_anonymous_callers_are_sent_to_sign_in(client, attached):
    response = client.get(f"/proposals/{attached.pk}/attachment/")
    assert response.status_code == 302


def test_the_proposal_page_links_the_download(client, org, attached):
    client.force_login(org.hrbp)
    html = client.get(f"/proposals/{attached.pk}/").content.decode()
    assert f'href="/proposals/{attached.pk}/attachment/"' in html
    assert "报价 单.pdf" in html


# New proposal page ---------------------------------------------------------------------


def _form(target, **changes):
    data = {
        "target": target.pk,
        "proposed_base": "800",
        "proposed_stretch": "1200",
        "reason": "competitor_price",
        "explanation": "",
        "submit": "1",
    }
    data.update(changes)
    return data


def test_the_new_proposal_form_takes_an_attachment(client, org, target):
    client.force_login(org.alice)
    page = client.get(f"/proposals/new/?target={target.pk}").content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'hx-params="not attachment"' in page
    response = client.post(
        "/proposals/new/", _form(target, attachment=upload("a.xlsx", xlsx_bytes()))
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert proposal.attachment_name == "a.xlsx"


def test_the_form_shows_a_wrong_attachment_as_a_field_error(client, org, target):
    client.force_login(org.alice)
    response = client.post(
        "/proposals/new/", _form(target, attachment=upload("a.pdf", b"hello, not a pdf"))
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "field-error" in html and "XLSX" in html
    assert not Proposal.objects.exists()


# API -------------------------------------------------------------------------------------


def _attach_url(proposal) -> str:
    return f"/api/v1/proposals/{proposal.pk}/attachment/"


def test_the_author_attaches_a_file_to_a_draft_through_the_api(api, org, target):
    draft = propose(org, target)
    response = api(org.alice).post(
        _attach_url(draft), {"attachment": upload("来函.pdf", pdf_bytes())}, format="multipart"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["attachment_name"] == "来函.pdf"
    assert body["attachment_url"] == f"/proposals/{draft.pk}/attachment/"


def test_the_api_refuses_a_wrong_or_missing_file_with_400(api, org, target):
    draft = propose(org, target)
    client = api(org.alice)
    response = client.post(
        _attach_url(draft), {"attachment": upload("x.pdf", b"text")}, format="multipart"
    )
    assert response.status_code == 400
    assert "attachment" in response.json()
    assert client.post(_attach_url(draft), {}, format="multipart").status_code == 400
    draft.refresh_from_db()
    assert not draft.attachment


def test_the_api_lets_only_the_author_attach(api, org, target):
    proposal = propose(org, target, submit=True)
    # The HRBP sees the proposal but is not its author; Dave does not see it at all.
    file = {"attachment": upload("x.pdf", pdf_bytes())}
    assert api(org.hrbp).post(_attach_url(proposal), file, format="multipart").status_code == 403
    file = {"attachment": upload("x.pdf", pdf_bytes())}
    assert api(org.dave).post(_attach_url(proposal), file, format="multipart").status_code == 404
    file = {"attachment": upload("x.pdf", pdf_bytes())}
    assert api(org.alice).post(_attach_url(proposal), file, format="multipart").status_code == 409
