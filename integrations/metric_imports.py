"""Weekly process-metric values from CSV (UTF-8 or GBK/GB18030) or XLSX: import kind
`metric_values` (SPEC §10). Columns: metric code, username or e-mail, ISO week, value.

Read as deal files are (`files.detect_encoding`, the same size limit and XLSX check),
checked a batch at a time (the batch's people in one query, metrics once), written through
`metric_values_bulk_upsert` as source `import`. A file with bad rows writes nothing unless
`keep_good_rows`; re-importing a file updates the same (metric, rep, week) values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.errors import field_error
from targets.models import DealSource, Metric, MetricValue, MetricValueSource, User
from targets.periods import IsoWeek, PeriodError
from targets.services.metrics import ValueRow, metric_value_parse, metric_values_bulk_upsert

from .files import XLSX_MAGIC, FileRejected, check_size, detect_encoding
from .imports import ImportResult
from .models import RunKind
from .records import RowError
from .services import run_finish, run_start

BATCH = 2000
ALIASES = {
    "metric": ("metric", "metric_code", "code", "指标", "指标代码", "指标编码"),
    "username": ("username", "user", "rep", "用户名", "销售", "账号"),
    "email": ("email", "e-mail", "邮箱"),
    "week": ("week", "周", "周次"),
    "value": ("value", "数值", "值"),
}
COLUMN_OF = {alias.lower(): name for name, aliases in ALIASES.items() for alias in aliases}


def _header(values) -> list[str | None]:
    columns = [COLUMN_OF.get(str(v or "").strip().lower()) for v in values]
    present = set(columns)
    missing = [c for c in ("metric", "week", "value") if c not in present]
    if "username" not in present and "email" not in present:
        missing.append("username / email")
    if missing:
        raise FileRejected(
            _("The first row must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(missing)}
        )
    return columns


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    stream.seek(0)
    if stream.read(4) == XLSX_MAGIC:
        from openpyxl import load_workbook

        stream.seek(0)
        try:
            workbook = load_workbook(stream, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a damaged archive
            raise FileRejected(_("This is not an XLSX file.")) from None
        try:
            yield from _numbered(workbook.worksheets[0].iter_rows(values_only=True))
        finally:
            workbook.close()
        return
    encoding = detect_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        yield from _numbered(csv.reader(text))
    finally:
        text.detach()  # leave the upload open for a second pass


def _numbered(rows) -> Iterator[tuple[int, dict[str, Any]]]:
    header = next(rows, None)
    if header is None:
        raise FileRejected(_("The file is empty."))
    columns = _header(header)
    for number, values in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in values):
            continue
        yield number, {c: v for c, v in zip(columns, values, strict=False) if c is not None}


@dataclass
class _Checked:
    rows: list[ValueRow]
    errors: list[RowError]
    total: int


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _check(stream: IO[bytes]) -> _Checked:
    metrics = {m.code: m for m in Metric.objects.all()}
    last_week = IsoWeek.of(timezone.localdate())
    good: list[ValueRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[int, int, date], int] = {}
    total = 0
    lines = _lines(stream)
    while batch := list(islice(lines, BATCH)):
        total += len(batch)
        names = {_text(r.get("username")).lower() for _n, r in batch} - {""}
        emails = {_text(r.get("email")).lower() for _n, r in batch} - {""}
        by_name, by_email = {}, {}
        people = User.objects.annotate(u=Lower("username"), e=Lower("email")).filter(is_active=True)
        for pk, name in people.filter(u__in=names).values_list("pk", "u"):
            by_name[name] = pk
        for pk, email in people.filter(e__in=emails).values_list("pk", "e"):
            by_email[email] = pk
        for number, row in batch:
            problems: list[RowError] = []
            metric = metrics.get(_text(row.get("metric")))
            if metric is None:
                problems.append(
                    RowError(
                        number,
                        "metric",
                        _("No metric has the code %(code)s.") % {"code": _text(row.get("metric"))},
                    )
                )
            elif metric.is_derived:
                problems.append(
                    RowError(number, "metric", _("This metric is derived from synced records."))
                )
            name, email = _text(row.get("username")).lower(), _text(row.get("email")).lower()
            user_id = by_name.get(name) if name else by_email.get(email)
            if user_id is None:
                problems.append(
                    RowError(
                        number,
                        "username",
                        _("No active user %(who)s.") % {"who": name or email or "—"},
                    )
                )
            week = None
            try:
                week = IsoWeek.parse(_text(row.get("week")))
                if week.start > last_week.start:
                    problems.append(RowError(number, "week", _("This week has not begun yet.")))
                    week = None
            except PeriodError as error:
                problems.append(RowError(number, "week", str(error)))
            value = None
            if metric is not None:
                try:
                    value = metric_value_parse(metric=metric, raw=row.get("value"))
                except ValidationError as error:
                    problems.append(RowError(number, "value", error.message_dict["value"][0]))
            if not problems and metric and user_id and week and value is not None:
                key = (metric.pk, user_id, week.start)
                if key in seen:
                    problems.append(
                        RowError(
                            number,
                            "week",
                            _("Row %(row)s already gives this rep's value for this week.")
                            % {"row": seen[key]},
                        )
                    )
                else:
                    seen[key] = number
                    good.append(ValueRow(metric.pk, user_id, week, value))
            errors.extend(problems)
    return _Checked(rows=good, errors=errors, total=total)


def metric_values_import(
    *,
    stream: IO[bytes],
    size: int,
    user: User | None,
    dry_run: bool = False,
    keep_good_rows: bool = False,
) -> ImportResult:
    check_size(size)
    try:
        checked = _check(stream)
    except FileRejected as error:
        raise field_error("file", str(error)) from None
    failed_rows = {e.row for e in checked.errors}
    result = ImportResult(
        rows=checked.total,
        failed=len(failed_rows),
        errors=[e.as_dict() for e in checked.errors],
    )
    known = 0
    if checked.rows:
        known = (
            MetricValue.objects.filter(
                metric__in={r.metric_id for r in checked.rows},
                user__in={r.user_id for r in checked.rows},
                week_start__in={r.week.start for r in checked.rows},
            )
            .values_list("metric_id", "user_id", "week_start")
            .distinct()
        )
        keys = {(r.metric_id, r.user_id, r.week.start) for r in checked.rows}
        known = len(keys & set(known))
    result.updated, result.created = known, len(checked.rows) - known
    if dry_run or (result.failed and not keep_good_rows) or not checked.rows:
        return result
    run = run_start(kind=RunKind.IMPORT, source=DealSource.CSV, started_by=user)
    created, updated = metric_values_bulk_upsert(
        rows=checked.rows, source=MetricValueSource.IMPORT, entered_by=user
    )
    run_finish(run=run, fetched=checked.total, failed=result.failed)
    result.created, result.updated = created, updated
    result.written, result.run_id = True, run.pk
    return result
