"""Deal imports from CSV (UTF-8 or GBK/GB18030, detected) and XLSX files, streamed.

A file is read row by row, never loaded whole: CSV through a decoding text stream over the
upload, XLSX through openpyxl's read-only mode. A file with bad rows writes nothing unless
`keep_good_rows` is set; that needs knowing the whole file is good before the first write,
so such an import reads the file twice (check, then write) rather than holding its rows.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _

from targets.errors import field_error
from targets.models import Deal, DealSource, User

from .models import RunKind
from .records import RowError, check_rows, normalise_header
from .services import run_finish, run_start
from .upsert import deals_bulk_upsert

MAX_BYTES = 50 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"
ENCODINGS = ("utf-8-sig", "gb18030")
CHUNK = 1024 * 1024


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False
    run_id: int | None = None
    encoding: str = ""


class FileRejected(Exception):
    """The file as a whole cannot be read (not CSV/XLSX, no header, too big)."""


def detect_encoding(stream: IO[bytes]) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else GB18030 (a
    superset of GBK, what Chinese Excel saves as "CSV"). Decoded in chunks, never whole."""
    for encoding in ENCODINGS:
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := stream.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        stream.seek(0)
        return encoding
    stream.seek(0)
    raise FileRejected(_("The file is neither UTF-8 nor GBK/GB18030 text."))


def _csv_rows(stream: IO[bytes], encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            raise FileRejected(_("The file is empty."))
        yield from _rows(header, reader)
    finally:
        text.detach()  # leave the upload open for a second pass


def _xlsx_rows(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    stream.seek(0)
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged archive
        raise FileRejected(_("This is not an XLSX file.")) from None
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise FileRejected(_("The file is empty."))
        yield from _rows(header, rows)
    finally:
        workbook.close()


def _rows(header, rows) -> Iterator[tuple[int, dict[str, Any]]]:
    columns = normalise_header(header)
    present = set(columns)
    missing = [
        name for name in ("external_id", "account", "amount", "close_date") if name not in present
    ]
    if "owner" not in present and "owner_email" not in present:
        missing.append("owner / owner_email")
    if missing:
        raise FileRejected(
            _("The first row must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(missing)}
        )
    # Row numbers as a spreadsheet shows them: the header is row 1.
    for number, values in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in values):
            continue  # blank lines (Excel leaves some at the end)
        yield number, {c: v for c, v in zip(columns, values, strict=False) if c is not None}


def _open_rows(stream: IO[bytes]) -> tuple[str, Iterator[tuple[int, dict[str, Any]]]]:
    stream.seek(0)
    if stream.read(4) == XLSX_MAGIC:
        return "xlsx", _xlsx_rows(stream)
    encoding = detect_encoding(stream)
    return encoding, _csv_rows(stream, encoding)


def deals_import(
    *,
    stream: IO[bytes],
    size: int,
    user: User | None,
    dry_run: bool = False,
    keep_good_rows: bool = False,
) -> ImportResult:
    """Check, and unless `dry_run` write, the deals of a CSV/XLSX file as source `csv`.

    Re-importing a file updates the same deals (by external id), never duplicates them.
    """
    if size > MAX_BYTES:
        raise field_error("file", _("Files are limited to 50 MB."))
    try:
        result = _check_file(stream)
        if dry_run or (result.failed and not keep_good_rows):
            return result
        return _write_file(stream, result, user=user)
    except FileRejected as error:
        raise field_error("file", str(error)) from None


def _check_file(stream: IO[bytes]) -> ImportResult:
    """First pass: every row checked, nothing written; created/updated say what would be."""
    encoding, rows = _open_rows(stream)
    result = ImportResult(encoding=encoding)
    errors: list[RowError] = []
    batch: list[str] = []
    for checked in check_rows(rows):
        result.rows += 1
        if checked.record is None:
            result.failed += 1
            errors.extend(checked.errors)
            continue
        batch.append(checked.record.external_id)
        if len(batch) >= 2000:
            _count_existing(result, batch)
    _count_existing(result, batch)
    result.errors = [e.as_dict() for e in errors]
    return result


def _count_existing(result: ImportResult, batch: list[str]) -> None:
    if not batch:
        return
    known = Deal.objects.filter(source=DealSource.CSV, external_id__in=batch).count()
    result.updated += known
    result.created += len(batch) - known
    batch.clear()


def _write_file(stream: IO[bytes], checked: ImportResult, *, user: User | None) -> ImportResult:
    run = run_start(kind=RunKind.IMPORT, source=DealSource.CSV, started_by=user)
    unmapped: list[str] = []
    _encoding, rows = _open_rows(stream)

    def good():
        for row in check_rows(rows):
            if row.record is not None:
                yield row.record
            elif row.unmapped_owner:
                unmapped.append(row.unmapped_owner)

    try:
        written = deals_bulk_upsert(source=DealSource.CSV, records=good(), run=run)
    except Exception as error:
        run_finish(run=run, fetched=checked.rows, failed=checked.rows, error=str(error))
        raise
    run_finish(run=run, fetched=checked.rows, failed=checked.failed, unmapped_owners=unmapped)
    checked.created, checked.updated = written.created, written.updated
    checked.written = True
    checked.run_id = run.pk
    return checked
