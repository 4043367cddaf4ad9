"""Deal imports from CSV (UTF-8 or GBK/GB18030, detected) and XLSX files, streamed.

A file is read row by row, never loaded whole (`files.py`), and written a batch at a time
through the bulk upsert as it is read. A file with bad rows writes nothing unless
`keep_good_rows` is set: the whole import is then one transaction, taken back at the end, so
the file is read once and its rows are never held.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

from targets.errors import field_error
from targets.models import Deal, DealSource, User

from .files import FileRejected, Table, check_size, open_tables
from .models import FAILURES_KEPT, RunKind
from .read_ahead import read_ahead
from .records import People, RowError, check_rows, normalise_header
from .services import run_finish, run_start
from .upsert import BATCH_SIZE, Batch, deals_bulk_upsert


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


DEAL_COLUMNS = ("external_id", "account", "amount", "close_date")


@contextmanager
def _open_rows(stream: IO[bytes]) -> Iterator[tuple[str, Iterator[tuple[int, dict[str, Any]]]]]:
    with open_tables(stream) as (encoding, tables):
        if not tables:
            raise FileRejected(_("The file is empty."))
        table = tables[0]
        if not table.header:
            raise FileRejected(_("The file is empty."))
        yield encoding, _rows(table)


def _rows(table: Table) -> Iterator[tuple[int, dict[str, Any]]]:
    columns = normalise_header(table.header)
    present = set(columns)
    missing = [name for name in DEAL_COLUMNS if name not in present]
    if "owner" not in present and "owner_email" not in present:
        missing.append("owner / owner_email")
    if missing:
        raise FileRejected(
            _("The first row must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(missing)}
        )
    for number, values in table.numbered():
        yield number, {c: v for c, v in zip(columns, values, strict=False) if c is not None}


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
    check_size(size)
    try:
        if dry_run:
            return _check_file(stream)
        return _import_file(stream, user=user, keep_good_rows=keep_good_rows)
    except FileRejected as error:
        raise field_error("file", str(error)) from None


class _BadFile(Exception):
    """Raised inside the import's transaction to take every write of a bad file back."""


def _check_file(stream: IO[bytes]) -> ImportResult:
    """First pass: every row checked, nothing written; created/updated say what would be."""
    errors: list[RowError] = []
    batch: list[str] = []
    with _open_rows(stream) as (encoding, rows):
        result = ImportResult(encoding=encoding)
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


def _import_file(stream: IO[bytes], *, user: User | None, keep_good_rows: bool) -> ImportResult:
    """One pass: rows are checked and written a batch at a time. Unless `keep_good_rows`,
    the whole file is one transaction, taken back at the end if any row was bad, so a bad
    file writes nothing (its run log included) without being read twice; the counts then
    say what would have been written."""
    result = ImportResult()
    errors: list[RowError] = []
    unmapped: list[str] = []

    def good_batches(rows, people):
        batch = []
        for checked in check_rows(rows, people):
            result.rows += 1
            if checked.record is not None:
                batch.append(checked.record)
                if len(batch) == BATCH_SIZE:
                    yield Batch(batch)
                    batch = []
                continue
            result.failed += 1
            errors.extend(checked.errors)
            if checked.unmapped_owner:
                unmapped.append(checked.unmapped_owner)
        if batch:
            yield Batch(batch)

    def write(run):
        # The file is read and checked a batch ahead, in a thread, while the last batch is
        # written: the check needs no query once every user's id and e-mail is at hand.
        people = People.everyone()
        with (
            _open_rows(stream) as (encoding, rows),
            read_ahead(good_batches(rows, people)) as batches,
        ):
            result.encoding = encoding
            written = deals_bulk_upsert(source=DealSource.CSV, batches=batches, run=run)
        result.created, result.updated = written.created, written.updated
        if result.failed and not keep_good_rows:
            raise _BadFile

    run = None
    try:
        with nullcontext() if keep_good_rows else transaction.atomic():
            run = run_start(kind=RunKind.IMPORT, source=DealSource.CSV, started_by=user)
            write(run)
            run_finish(
                run=run,
                fetched=result.rows,
                failed=result.failed,
                unmapped_owners=unmapped,
                failures=[e.as_dict() for e in errors[:FAILURES_KEPT]],
            )
    except _BadFile:
        pass
    except FileRejected:
        raise
    except Exception as error:
        # The log says it failed, also when the transaction took the run back with it.
        if run is None or not keep_good_rows:
            run = run_start(kind=RunKind.IMPORT, source=DealSource.CSV, started_by=user)
        run_finish(run=run, fetched=result.rows, failed=result.rows, error=str(error))
        raise
    else:
        result.written = True
        result.run_id = run.pk
    result.errors = [e.as_dict() for e in errors]
    return result
