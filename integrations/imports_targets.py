"""Targets from the quarter grid's XLSX (or a CSV with the same columns), through the grid's
own parser (`targets.grid_xlsx`) and save service (`target_grid_save`): all rows or none,
unless `keep_good_rows`, every refused row reported with its column (SPEC §3, §8).

Admin imports them when the company starts on the app; sales directors within their scope
(`access.can_import_target`). A row naming an owner the importer may not set reads the same
whether the owner exists or not, so a file cannot probe for units outside one's scope.
"""

from __future__ import annotations

from typing import IO

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from targets import access
from targets.errors import ValidationError, field_error
from targets.grid_xlsx import ParsedSheet, parse_grid_rows, read_grid
from targets.models import Measure, OrgUnit, Target, User
from targets.periods import PeriodError, Quarter
from targets.services import GridRejected, GridRow, target_grid_save

from .files import FileRejected, check_size, is_xlsx, open_tables
from .imports import ImportResult
from .records import RowError


class _Discard(Exception):
    """Leaves a transaction.atomic block without keeping anything."""


def targets_import(
    *,
    stream: IO[bytes],
    size: int,
    user: User,
    dry_run: bool = False,
    keep_good_rows: bool = False,
    period: str | None = None,
) -> ImportResult:
    if not access.may_import_targets(user):
        raise PermissionDenied(_("Only administrators and sales directors import targets."))
    check_size(size)
    try:
        parsed, encoding = _parse(stream)
    except FileRejected as error:
        raise field_error("file", str(error)) from None
    file_errors = [e.message for e in parsed.errors if e.line is None]
    if file_errors:
        raise ValidationError({"file": file_errors})
    quarter = _quarter(period, parsed)
    result = ImportResult(encoding=encoding)
    errors: list[RowError] = [
        RowError(e.line, field, e.message) for e in parsed.errors for field in e.fields[:1] or ("",)
    ]
    rows, lines = _grid_rows(user, parsed, quarter, errors)
    result.rows = len(parsed.rows) + len({e.line for e in parsed.errors})
    today = timezone.localdate()
    verdict = _save(user, quarter, rows, lines, today=today, keep=False)
    errors.extend(verdict.errors)
    bad_lines = {e.row for e in errors}
    result.failed = len(bad_lines)
    result.errors = [e.as_dict() for e in sorted(errors, key=lambda e: (e.row, e.field))]
    good = [row for row in rows if lines[row.key] not in bad_lines]
    if dry_run or (errors and not keep_good_rows) or not good:
        result.created, result.updated = verdict.created, verdict.updated
        return result
    written = _save(user, quarter, good, lines, today=today, keep=True)
    if written.errors:  # changed since the check (a concurrent edit): nothing was written
        result.errors = [e.as_dict() for e in written.errors]
        result.failed = len({e.row for e in written.errors})
        return result
    result.created, result.updated, result.written = written.created, written.updated, True
    return result


def _parse(stream: IO[bytes]) -> tuple[ParsedSheet, str]:
    if is_xlsx(stream):
        return read_grid(stream), "xlsx"
    with open_tables(stream) as (encoding, tables):
        table = tables[0]
        if not table.header:
            raise FileRejected(_("The file is empty."))
        return parse_grid_rows(header=table.header, rows=table.rows), encoding


def _quarter(period: str | None, parsed: ParsedSheet) -> Quarter:
    label = (period or "").strip() or parsed.period
    if not label:
        raise field_error(
            "period", _("Name the quarter (e.g. 2025Q3): a CSV file does not say which.")
        )
    try:
        quarter = Quarter.parse(label)
    except PeriodError as error:
        raise field_error("period", str(error)) from None
    if parsed.period and parsed.period != quarter.label:
        raise field_error(
            "period",
            _("This file holds the targets of %(file)s, not %(asked)s.")
            % {"file": parsed.period, "asked": quarter.label},
        )
    return quarter


def _grid_rows(
    user: User, parsed: ParsedSheet, quarter: Quarter, errors: list[RowError]
) -> tuple[list[GridRow], dict[str, int]]:
    """The parsed rows as the grid service takes them; owners resolved in one query each."""
    unit_ids = {int(r.key.split("-")[1]) for r in parsed.rows if r.key.startswith("unit-")}
    user_ids = {int(r.key.split("-")[1]) for r in parsed.rows if r.key.startswith("user-")}
    units = OrgUnit.objects.in_bulk(unit_ids)
    people = User.objects.in_bulk(user_ids)
    targets = {
        (t.owner_unit_id, t.owner_user_id): t
        for t in Target.objects.filter(period=quarter.label, measure=Measure.REVENUE).filter(
            owner_unit__in=unit_ids
        )
    }
    targets.update(
        {
            (t.owner_unit_id, t.owner_user_id): t
            for t in Target.objects.filter(
                period=quarter.label, measure=Measure.REVENUE, owner_user__in=user_ids
            )
        }
    )
    rows: list[GridRow] = []
    lines: dict[str, int] = {}
    for parsed_row in parsed.rows:
        kind, pk = parsed_row.key.split("-")
        unit = units.get(int(pk)) if kind == "unit" else None
        person = people.get(int(pk)) if kind == "user" else None
        if (unit is None and person is None) or not access.can_import_target(
            user, owner_unit=unit, owner_user=person
        ):
            errors.append(
                RowError(
                    parsed_row.line,
                    "key",
                    _("%(key)s is not a unit or rep whose targets you may set.")
                    % {"key": parsed_row.key},
                )
            )
            continue
        values = parsed_row.values
        weights = (values["w1"], values["w2"], values["w3"])
        if any(w is not None for w in weights) and not all(w is not None for w in weights):
            errors.append(
                RowError(parsed_row.line, "w1", _("Give all three monthly weights, or none."))
            )
            continue
        target = targets.get((unit.pk if unit else None, person.pk if person else None))
        lines[parsed_row.key] = parsed_row.line
        rows.append(
            GridRow(
                key=parsed_row.key,
                owner_unit=unit,
                owner_user=person,
                target=target,
                # The version the file was exported at; a row changed since is a conflict.
                version=(parsed_row.version or target.version) if target else None,
                base=values["base"],
                stretch=values["stretch"],
                phasing=weights if all(w is not None for w in weights) else None,  # type: ignore[arg-type]
                base_bonus=values["base_bonus"],
                stretch_bonus=values["stretch_bonus"],
            )
        )
    return rows, lines


class _Verdict:
    def __init__(self) -> None:
        self.created = self.updated = 0
        self.errors: list[RowError] = []


def _save(
    user: User, quarter: Quarter, rows: list[GridRow], lines: dict[str, int], *, today, keep: bool
) -> _Verdict:
    """The grid service's answer for `rows`; kept only when `keep` and every row passes."""
    verdict = _Verdict()
    if not rows:
        return verdict
    try:
        with transaction.atomic():
            saved = target_grid_save(
                user=user, period=quarter.label, rows=rows, today=today, imported=True
            )
            verdict.created, verdict.updated = saved.created, saved.updated
            if not keep:
                raise _Discard
    except _Discard:
        pass
    except GridRejected as rejected:
        for key, error in rejected.errors.items():
            by_field = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
            for field, messages in by_field.items():
                column = {"phasing": "w1", "owner_user": "key", "owner_unit": "key"}.get(
                    field, field
                )
                verdict.errors.extend(RowError(lines[key], column, m) for m in messages)
        for key, message in rejected.conflicts.items():
            verdict.errors.append(RowError(lines[key], "version", message))
    return verdict
