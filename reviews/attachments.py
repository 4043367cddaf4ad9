"""A proposal's optional attachment (SPEC §6): a PDF, a PNG/JPEG image or an XLSX of at most
10 MB, its type told by its content (magic bytes), never by its name or the client's say-so."""

from __future__ import annotations

import re
import unicodedata
import zipfile

from django.utils.translation import gettext as _

from targets.errors import field_error

MAX_BYTES = 10 * 1024 * 1024

PDF, PNG, JPEG, XLSX = "pdf", "png", "jpeg", "xlsx"
# kind → (stored file extension, the content type it is served with)
KINDS = {
    PDF: ("pdf", "application/pdf"),
    PNG: ("png", "image/png"),
    JPEG: ("jpg", "image/jpeg"),
    XLSX: ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
CONTENT_TYPES = dict(KINDS.values())

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ZIP_SIGNATURE = b"PK\x03\x04"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def _is_xlsx(file) -> bool:
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names)


def attachment_check(file) -> str:
    """The kind of an uploaded file (`pdf`, `png`, `jpeg`, `xlsx`), or a ValidationError on
    `attachment` when it is too big or of another type. Leaves the file at its start."""
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
    if size > MAX_BYTES:
        raise field_error("attachment", _("An attachment may be at most 10 MB."))
    if size == 0:
        raise field_error("attachment", _("The attachment is empty."))
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    kind = None
    if head.startswith(b"%PDF-"):
        kind = PDF
    elif head.startswith(_PNG_SIGNATURE):
        kind = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        kind = JPEG
    elif head.startswith(_ZIP_SIGNATURE) and _is_xlsx(file):
        kind = XLSX
    file.seek(0)
    if kind is None:
        raise field_error(
            "attachment", _("Attach a PDF, a PNG or JPEG image, or an Excel (XLSX) workbook.")
        )
    return kind


def attachment_name_clean(name: str, *, kind: str) -> str:
    """The uploaded file's own name, safe to show and to offer for download."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip().strip(".").strip()
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[: 190 if dot else 200]}.{ext[:9]}" if dot else name[:200]
    return name or f"attachment.{KINDS[kind][0]}"


def attachment_upload_to(proposal, filename: str) -> str:
    """Under MEDIA_ROOT, one folder per proposal; the name the service chose, not the user's."""
    return f"proposals/{proposal.pk}/{filename}"


def attachment_content_type(stored_name: str) -> str:
    ext = stored_name.rsplit(".", 1)[-1].lower()
    return CONTENT_TYPES.get(ext, "application/octet-stream")
