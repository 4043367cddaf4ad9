"""Downloadable templates of each import kind: XLSX workbooks with headers in the reader's
language (every language's headers import alike) and an example row."""

from __future__ import annotations

import io
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from targets import access, grid_xlsx
from targets.models import User
from targets.periods import PeriodError, Quarter
from targets.selectors import grid as grid_selectors

from .imports_org import PEOPLE_COLUMNS, UNIT_COLUMNS

XLSX_TYPE = grid_xlsx.XLSX_TYPE


def _sheet(book: Workbook, title: str, header: list[str], examples: list[list]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E5E7EB")
    for row in examples:
        sheet.append(row)
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 18


def _bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def org_template() -> tuple[bytes, str]:
    book = Workbook()
    book.remove(book.active)
    _sheet(
        book,
        _("Units"),
        [str(label) for _name, label, _aliases in UNIT_COLUMNS],
        [
            ["ACME", _("ACME Ltd."), "", _("Company")],
            ["EAST", _("East China"), "ACME", _("Region")],
            ["EAST-1", _("East team 1"), "EAST", _("Team")],
        ],
    )
    _sheet(
        book,
        _("People"),
        [str(label) for _name, label, _aliases in PEOPLE_COLUMNS],
        [
            [
                "mgr_east",
                _("East manager"),
                "mgr.east@example.com",
                "",
                _("Sales manager"),
                "EAST",
                "",
            ],
            [
                "rep001",
                _("Rep one"),
                "rep001@example.com",
                "EAST-1",
                _("Sales rep"),
                "",
                date(2025, 1, 1),
            ],
        ],
    )
    return _bytes(book), "org-template.xlsx"


def deals_template() -> tuple[bytes, str]:
    book = Workbook()
    book.remove(book.active)
    _sheet(
        book,
        _("Deals"),
        ["external_id", "account", "owner_email", "amount", "stage", "won", "close_date"],
        [
            [
                "D-1001",
                _("Example customer"),
                "rep001@example.com",
                120000,
                "",
                True,
                date(2025, 5, 10),
            ]
        ],
    )
    return _bytes(book), "deals-template.xlsx"


def metric_values_template() -> tuple[bytes, str]:
    book = Workbook()
    book.remove(book.active)
    _sheet(
        book,
        _("Metric values"),
        ["metric", "username", "week", "value"],
        [["key_account_follow_ups", "rep001", "2025-W20", 12]],
    )
    return _bytes(book), "metric-values-template.xlsx"


def targets_template(user: User, period: str | None = None) -> tuple[bytes, str]:
    """The quarter grid of the importer's top unit as exported from the grid: every unit and
    rep with its key, to fill in (next quarter unless `period`)."""
    today = timezone.localdate()
    try:
        quarter = Quarter.parse(period) if period else Quarter.of(today).next()
    except PeriodError:
        quarter = Quarter.of(today).next()
    unit = access.default_unit_for(user)
    rows = []
    if unit is not None:
        page = grid_selectors.grid_page(user=user, unit=unit, period=quarter, today=today)
        rows = grid_selectors.grid_sheet_rows(page)
    content = grid_xlsx.grid_workbook(period=quarter.label, rows=rows)
    return content, f"targets-{quarter.label}.xlsx"
