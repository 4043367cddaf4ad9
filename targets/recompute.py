"""Recompute the figures of the current quarter's targets, on demand or on a schedule.

Pace changes with the calendar even when no deal does, so a periodic pass over every open
target is needed; this is that pass. It computes, stores each target's current figures
(`FigureSnapshot`, read by list filters and alert rules), and announces
(`figures_recomputed`); what to raise from the result belongs to the apps listening.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from targets.figures import Figures, Status, figures_for
from targets.models import FigureSnapshot, Target
from targets.periods import Quarter
from targets.signals import figures_recomputed

NO_STATUS = "none"
# Rates beyond this are stored as "no value" rather than overflowing the column (a Base of
# one cent against millions of actual); no status threshold is anywhere near it.
_RATE_LIMIT = Decimal(10) ** 19
DEBOUNCE_KEY = "targets:recompute-queued"
DEBOUNCE_SECONDS = 60


def figures_recompute(*, as_of: date | None = None) -> dict[str, object]:
    """Figures of every target of the quarter containing `as_of` (default today).

    Returns a JSON-serialisable summary: the date and period, the number of targets and how
    many of them are red / yellow / green / without a status.
    """
    as_of = as_of or timezone.localdate()
    period = Quarter.of(as_of).label
    figures = figures_for(Target.objects.filter(period=period), as_of=as_of)
    # Stored before the signal: receivers compare the stored status with the previous one.
    figures_store(period=period, as_of=as_of, figures=figures)
    figures_recomputed.send(sender=Target, period=period, as_of=as_of, figures=figures)
    statuses = Counter(f.status or NO_STATUS for f in figures.values())
    return {
        "as_of": as_of.isoformat(),
        "period": period,
        "targets": len(figures),
        **{s: statuses[s] for s in (Status.RED, Status.YELLOW, Status.GREEN, NO_STATUS)},
    }


def _rate(value: Decimal | None) -> Decimal | None:
    if value is None or abs(value) >= _RATE_LIMIT:
        return None
    return value.quantize(Decimal("0.0001"))


_COLUMNS = ("actual", "completion", "pace", "stretch_progress", "status")
_SQLITE_BATCH = 2000


def figures_store(*, period: str, as_of: date, figures: Mapping[int, Figures]) -> int:
    """Store `figures` as the targets' current figures in one statement; returns the rows
    written (new or changed).

    A row is rewritten only when its figures, its date or its period differ, or when its
    previous status still differs from its status; a rewritten row keeps the status it had
    as `previous_status`. So each status change is seen by exactly one recompute, and a
    recompute that changes nothing writes nothing (no row is even locked). A new row starts
    with its previous status equal to its status: nothing to compare yet, nothing raised.
    """
    if not figures:
        return 0
    rows = [
        (
            target_id,
            f.actual,
            _rate(f.completion),
            _rate(f.pace),
            _rate(f.stretch_progress),
            f.status or "",
        )
        for target_id, f in figures.items()
    ]
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _store_postgresql(period=period, as_of=as_of, rows=rows, now=now)
        return _store_portable(period=period, as_of=as_of, rows=rows, now=now)


def _array(values) -> str:
    """A PostgreSQL array literal of numbers or of the fixed status words: one parameter
    instead of one adapted value per row (adapting 11,000 Decimals costs more than the
    statement)."""
    return "{" + ",".join("NULL" if v is None else (str(v) or '""') for v in values) + "}"


def _store_postgresql(*, period: str, as_of: date, rows: list[tuple], now) -> int:
    """The arrays travel once: an `UPDATE … FROM unnest(…)` of the rows that differ and an
    `INSERT` of the targets without a row, as two parts of one statement."""
    table = connection.ops.quote_name(FigureSnapshot._meta.db_table)
    columns = list(zip(*rows, strict=True))
    changed = " OR ".join(
        [
            "s.period IS DISTINCT FROM %(period)s",
            "s.as_of IS DISTINCT FROM %(as_of)s",
            "s.previous_status IS DISTINCT FROM s.status",
            *(f"s.{c} IS DISTINCT FROM v.{c}" for c in _COLUMNS),
        ]
    )
    sql = f"""
        WITH v AS (
            SELECT * FROM unnest(
                %(ids)s::bigint[], %(actual)s::numeric[], %(completion)s::numeric[],
                %(pace)s::numeric[], %(stretch_progress)s::numeric[], %(status)s::varchar[]
            ) AS v(target_id, {", ".join(_COLUMNS)})
        ),
        changed AS (
            UPDATE {table} AS s
            SET previous_status = s.status, period = %(period)s, as_of = %(as_of)s,
                {", ".join(f"{c} = v.{c}" for c in _COLUMNS)}, computed_at = %(now)s
            FROM v
            WHERE s.target_id = v.target_id AND ({changed})
            RETURNING 1
        ),
        added AS (
            INSERT INTO {table} (target_id, period, as_of, {", ".join(_COLUMNS)},
                                 previous_status, computed_at)
            SELECT v.target_id, %(period)s, %(as_of)s, {", ".join(f"v.{c}" for c in _COLUMNS)},
                   v.status, %(now)s
            FROM v
            WHERE NOT EXISTS (SELECT 1 FROM {table} AS s WHERE s.target_id = v.target_id)
            ON CONFLICT (target_id) DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM changed) + (SELECT count(*) FROM added)
    """
    params = {
        "period": period,
        "as_of": as_of,
        "now": now,
        "ids": _array(columns[0]),
        **{c: _array(values) for c, values in zip(_COLUMNS, columns[1:], strict=True)},
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _store_portable(*, period: str, as_of: date, rows: list[tuple], now) -> int:
    """SQLite (tests, `make run`): the same rule as one `INSERT … ON CONFLICT DO UPDATE …
    WHERE` per batch of rows."""
    table = connection.ops.quote_name(FigureSnapshot._meta.db_table)
    changed = " OR ".join(
        [f"s.{c} IS NOT excluded.{c}" for c in ("period", "as_of", *_COLUMNS)]
        + ["s.previous_status IS NOT s.status"]
    )
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _SQLITE_BATCH):
            batch = rows[start : start + _SQLITE_BATCH]
            cursor.execute(
                f"INSERT INTO {table} AS s (target_id, period, as_of, {', '.join(_COLUMNS)}, "
                "previous_status, computed_at) VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(batch))
                + " ON CONFLICT (target_id) DO UPDATE SET previous_status = s.status, "
                + ", ".join(
                    f"{c} = excluded.{c}" for c in ("period", "as_of", *_COLUMNS, "computed_at")
                )
                + f" WHERE {changed}",
                [
                    value
                    for t, a, c, p, sp, st in batch
                    for value in (t, period, as_of, a, c, p, sp, st, st, now)
                ],
            )
            written += cursor.rowcount
    return written


def recompute_soon() -> None:
    """Ask for a recompute once the current transaction commits (after a confirmation or a
    revision). Bursts are debounced: one recompute is queued per minute, run a minute later
    so it sees the whole burst. Without a broker (tests, `make run`) it runs at each commit.
    """
    from targets.tasks import recompute_figures

    # The app's own setting, not Django's: it is what decides whether a worker would run it.
    if recompute_figures.app.conf.task_always_eager:
        transaction.on_commit(lambda: recompute_figures.apply(), robust=True)
        return
    if cache.add(DEBOUNCE_KEY, 1, DEBOUNCE_SECONDS):
        transaction.on_commit(
            lambda: recompute_figures.apply_async(countdown=DEBOUNCE_SECONDS), robust=True
        )
