"""The quarter grid as an XLSX workbook, and back (SPEC §3, §8 onboarding).

Pure functions: rows → workbook bytes, and file → parsed rows + errors. One sheet named
after the quarter, one header row, one row per owner. Columns are found by their header in
any of the app's languages, so a file exported in Chinese imports in English and the other
way round; amounts may be numbers or text ("300万", "3,000,000").
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from targets.forms import MONEY, AmountField
from targets.money import MAX_AMOUNT
from targets.periods import PeriodError, Quarter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KEY_RE = re.compile(r"^(unit|user)-([1-9]\d{0,17})$")
MAX_ROWS = 20_000
HUNDRED = Decimal(100)

# (field, header). The key column names the owner; name, kind and parent are for people.
COLUMNS = (
    ("key", gettext_lazy("Key")),
    ("name", gettext_lazy("Name")),
    ("kind", gettext_lazy("Kind")),
    ("parent", gettext_lazy("Parent")),
    ("base", gettext_lazy("Base")),
    ("stretch", gettext_lazy("Stretch")),
    ("w1", gettext_lazy("Month 1 weight")),
    ("w2", gettext_lazy("Month 2 weight")),
    ("w3", gettext_lazy("Month 3 weight")),
    ("base_bonus", gettext_lazy("Base bonus")),
    ("stretch_bonus", gettext_lazy("Stretch bonus")),
    ("version", gettext_lazy("Version")),
)
AMOUNTS = ("base", "stretch", "base_bonus", "stretch_bonus")
WEIGHTS = ("w1", "w2", "w3")
VALUES = ("base", "stretch", "w1", "w2", "w3", "base_bonus", "stretch_bonus")
MONEY_FORMAT = "#,##0.00"
WEIGHT_FORMAT = "0.00%"


@dataclass(frozen=True)
class SheetRow:
    """One owner's row, for export."""

    key: str
    name: str
    kind: str
    parent: str
    base: Decimal | None
    stretch: Decimal | None
    weights: tuple[Decimal, Decimal, Decimal] | None
    base_bonus: Decimal | None
    stretch_bonus: Decimal | None
    version: int | None


def grid_workbook(*, period: str, rows: Iterable[SheetRow]) -> bytes:
    """The grid as XLSX bytes, headers in the active language."""
    book = Workbook()
    sheet = book.active
    sheet.title = period
    sheet.append([str(header) for _name, header in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E5E7EB")
    for row in rows:
        weights = row.weights or (None, None, None)
        sheet.append(
            [
                row.key,
                row.name,
                row.kind,
                row.parent,
                row.base,
                row.stretch,
                *weights,
                row.base_bonus,
                row.stretch_bonus,
                row.version,
            ]
        )
    for (name, _header), column in zip(COLUMNS, sheet.iter_cols(min_row=2), strict=False):
        for cell in column:
            if name in AMOUNTS:
                cell.number_format = MONEY_FORMAT
            elif name in WEIGHTS:
                cell.number_format = WEIGHT_FORMAT
    widths = (14, 24, 10, 18, 16, 16, 10, 10, 10, 14, 14, 9)
    for letter, width in zip("ABCDEFGHIJKL", widths, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "C2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class ParsedRow:
    line: int  # the row's number in the sheet, as Excel shows it
    key: str
    values: dict[str, Decimal | None]
    version: int | None


@dataclass(frozen=True)
class SheetError:
    line: int | None  # None: the file as a whole
    message: str
    key: str = ""
    fields: tuple[str, ...] = ()  # the columns at fault, by field name


@dataclass
class ParsedSheet:
    period: str | None = None  # the quarter the sheet is named after, if any
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[SheetError] = field(default_factory=list)


def _headers() -> dict[str, str]:
    """Every language's header text (and the field names themselves) → field."""
    known = {}
    for code, _language in settings.LANGUAGES:
        with translation.override(code):
            for name, header in COLUMNS:
                known[str(header).strip().casefold()] = name
    for name, _header in COLUMNS:
        known[name] = name
    return known


_AMOUNT = AmountField(required=False, **MONEY)


def _amount(value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float | Decimal):
        # A float cell's repr is the shortest text that reads back the same number.
        number = Decimal(str(value))
    else:
        try:
            number = _AMOUNT.clean(str(value))
        except (ValidationError, ArithmeticError):
            raise ValueError from None
    if not number.is_finite() or number < 0 or number > MAX_AMOUNT:
        raise ValueError
    if number != number.quantize(Decimal("0.01")):
        raise ValueError
    return number


def _weight(value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    try:
        if isinstance(value, int | float | Decimal):
            number = Decimal(str(value))
        else:
            text = str(value).strip()
            number = Decimal(text[:-1].strip()) / HUNDRED if text.endswith("%") else Decimal(text)
    except (InvalidOperation, ArithmeticError):
        raise ValueError from None
    if not number.is_finite() or not 0 <= number <= 1:
        raise ValueError
    return number.quantize(Decimal("0.000001")).normalize()


def read_grid(upload) -> ParsedSheet:
    """The rows of an uploaded grid file, with an error for each line that cannot be read.

    Read-only mode streams the sheet; the rows read are capped at MAX_ROWS."""
    result = ParsedSheet()
    try:
        book = load_workbook(upload, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        result.errors.append(SheetError(None, _("This is not an XLSX file.")))
        return result
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        return parse_grid_rows(header=next(rows, None), rows=rows, title=sheet.title)
    finally:
        book.close()


def parse_grid_rows(*, header, rows: Iterable[tuple], title: str = "") -> ParsedSheet:
    """The grid's columns from any table (an XLSX sheet, CSV lines): `title` names the
    quarter when it is one."""
    result = ParsedSheet()
    try:
        result.period = Quarter.parse(title.strip()).label
    except PeriodError:
        result.period = None
    known = _headers()
    columns: dict[str, int] = {}
    for index, title_cell in enumerate(header or ()):
        name = known.get(str(title_cell or "").strip().casefold())
        if name and name not in columns:
            columns[name] = index
    missing = [str(h) for n, h in COLUMNS if n in ("key", "base", "stretch") and n not in columns]
    if missing:
        result.errors.append(
            SheetError(
                None,
                _("The first row must name the columns; missing: %(columns)s.")
                % {"columns": ", ".join(missing)},
            )
        )
        return result
    seen: dict[str, int] = {}
    for line, cells in enumerate(rows, start=2):
        if line > MAX_ROWS + 1:
            result.errors.append(
                SheetError(None, _("The file has more than %(n)s rows.") % {"n": MAX_ROWS})
            )
            break
        _read_row(result, line, tuple(cells), columns, seen)
    return result


def _cell(cells: tuple, columns: dict[str, int], name: str):
    index = columns.get(name)
    if index is None or index >= len(cells):
        return None
    return cells[index]


def _read_row(
    result: ParsedSheet, line: int, cells: tuple, columns: dict[str, int], seen: dict[str, int]
) -> None:
    if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
        return
    key = str(_cell(cells, columns, "key") or "").strip()
    if not KEY_RE.match(key):
        result.errors.append(
            SheetError(
                line,
                _("The key '%(key)s' is not one this app exports (unit-12, user-34).")
                % {"key": key[:40]},
                fields=("key",),
            )
        )
        return
    if key in seen:
        result.errors.append(
            SheetError(
                line,
                _("%(key)s appears twice (also on row %(other)s).")
                % {"key": key, "other": seen[key]},
                key,
                ("key",),
            )
        )
        return
    seen[key] = line
    values: dict[str, Decimal | None] = {}
    bad = []
    bad_fields = []
    for name in VALUES:
        raw = _cell(cells, columns, name)
        try:
            values[name] = _weight(raw) if name in WEIGHTS else _amount(raw)
        except ValueError:
            bad.append(str(dict(COLUMNS)[name]))
            bad_fields.append(name)
    version_cell = _cell(cells, columns, "version")
    version = None
    if version_cell not in (None, ""):
        try:
            version = int(Decimal(str(version_cell)))
        except (InvalidOperation, ArithmeticError, ValueError):
            bad.append(str(dict(COLUMNS)["version"]))
            bad_fields.append("version")
    if bad:
        result.errors.append(
            SheetError(
                line,
                _(
                    "Cannot read %(columns)s: amounts are numbers like 3000000 or 300万, weights like 0.3 or 30%%."
                )
                % {"columns": ", ".join(bad)},
                key,
                tuple(bad_fields),
            )
        )
        return
    result.rows.append(ParsedRow(line=line, key=key, values=values, version=version))
