"""Reading an uploaded CSV or XLSX file as tables of rows, streamed (SPEC §8, §10 `imports/`).

A file is never held whole: CSV is decoded line by line through a text stream over the
upload (UTF-8, with or without BOM, else GB18030 — a superset of GBK, what Chinese Excel
saves as "CSV"; detected by decoding the file in chunks), XLSX through openpyxl's read-only
mode. Each importer reads the file as often as it needs (check, then write) instead of
keeping its rows.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from targets.errors import field_error

XLSX_MAGIC = b"PK\x03\x04"
ENCODINGS = ("utf-8-sig", "gb18030")
CHUNK = 1024 * 1024


class FileRejected(Exception):
    """The file as a whole cannot be read (not CSV/XLSX, no header, too big)."""


@dataclass
class Table:
    """One sheet (XLSX) or the whole file (CSV): its title, header and data rows."""

    title: str
    header: tuple[Any, ...]
    rows: Iterator[tuple[Any, ...]]

    def numbered(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """Non-blank rows with their number as a spreadsheet shows it (the header is 1)."""
        for number, values in enumerate(self.rows, start=2):
            if any(
                v not in (None, "") and not (isinstance(v, str) and not v.strip()) for v in values
            ):
                yield number, values


def check_size(size: int) -> None:
    """A clear 400 before a byte is read: the limit is `IMPORT_MAX_BYTES` (50 MB)."""
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise field_error(
            "file",
            _("Files are limited to %(mb)s MB; this one has %(size)s MB.")
            % {"mb": limit // (1024 * 1024), "size": f"{size / (1024 * 1024):.1f}"},
        )


def is_xlsx(stream: IO[bytes]) -> bool:
    stream.seek(0)
    magic = stream.read(4)
    stream.seek(0)
    return magic == XLSX_MAGIC


def detect_encoding(stream: IO[bytes]) -> str:
    """UTF-8 when the whole file decodes as such, else GB18030. Decoded in chunks."""
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


@contextmanager
def open_tables(stream: IO[bytes], *, encoding: str | None = None) -> Iterator[tuple[str, list]]:
    """(`"xlsx"` or the CSV's encoding, the file's tables). Tables of an XLSX are read lazily,
    one sheet at a time; rows must be consumed inside the `with` block."""
    if is_xlsx(stream):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(stream, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a damaged archive
            raise FileRejected(_("This is not an XLSX file.")) from None
        try:
            yield "xlsx", [_sheet_table(sheet) for sheet in workbook.worksheets]
        finally:
            workbook.close()
        return
    encoding = encoding or detect_encoding(stream)
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        reader = csv.reader(text)
        header = next(reader, None)
        yield encoding, [Table("", tuple(header or ()), (tuple(row) for row in reader))]
    except csv.Error as error:
        raise FileRejected(_("The CSV file cannot be read: %(error)s") % {"error": error}) from None
    finally:
        text.detach()  # leave the upload open for another pass


def _sheet_table(sheet) -> Table:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    return Table(sheet.title, tuple(header), rows)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets store numeric codes as floats
    return str(value).strip()
