"""Storing every target's figures and evaluating every alert rule (issue 8 item 5).

Part of `make bench` (`benchmarks.run`), and alone: `python -m benchmarks.alerts_bench`.
Run inside one transaction rolled back at the end, like the deviation evaluation, so every
bench run starts from the same state. Deliveries are the (notice, channel) tasks queued to
run once the transaction commits — counted, never sent.
"""

from __future__ import annotations

import statistics
import time
from datetime import date

GOAL_SECONDS = 2.0
UNCHANGED_RUNS = 3


class _Undo(Exception):
    pass


def alert_evaluations(*, as_of: date) -> dict:
    """Figures of every target of every period, then: store into an empty table and
    evaluate every rule; the same again with nothing changed (three times); with 1 % of the
    targets turned green → red; and that again. Each step: seconds, SQL statements, rows
    written, alerts, notices and deliveries queued."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from alerts.connection_rules import alerts_evaluate_data_stale
    from alerts.models import Alert, Notification
    from alerts.services import alerts_evaluate_status
    from targets.figures import Status, figures_for
    from targets.models import FigureSnapshot, Target
    from targets.recompute import figures_store

    periods = list(Target.objects.order_by().values_list("period", flat=True).distinct())
    started = time.perf_counter()
    figures = {
        p: figures_for(Target.objects.filter(period=p), as_of=as_of) for p in sorted(periods)
    }
    computed = time.perf_counter() - started
    targets = sum(len(f) for f in figures.values())

    from benchmarks.run import _process_cpu

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def step(name: str, by_period: dict) -> dict:
        alerts, notices = Alert.objects.count(), Notification.objects.count()
        queued = len(connection.run_on_commit)
        with CaptureQueriesContext(connection) as captured:
            client, server = time.process_time(), _process_cpu(backend)
            started = time.perf_counter()
            written = sum(
                figures_store(period=p, as_of=as_of, figures=f) for p, f in by_period.items()
            )
            raised = sum(alerts_evaluate_status(period=p) for p in by_period)
            raised += alerts_evaluate_data_stale()
            seconds = time.perf_counter() - started
            server_after = _process_cpu(backend)
            cpu = (
                None
                if server is None or server_after is None
                else time.process_time() - client + server_after - server
            )
        return {
            "name": name,
            "seconds": seconds,
            "cpu": cpu,
            "queries": len(captured),
            "written": written,
            "raised": raised,
            "alerts": Alert.objects.count() - alerts,
            "notices": Notification.objects.count() - notices,
            "deliveries": len(connection.run_on_commit) - queued,
        }

    greens = [
        (p, pk) for p, f in figures.items() for pk, fig in f.items() if fig.status == Status.GREEN
    ]
    # The open quarter is the one whose status moves between recomputes.
    last = max(figures)
    turned = {pk for p, pk in greens if p == last}
    turned = set(sorted(turned)[: max(1, targets // 100)])
    worse = {
        p: {pk: (fig._replace(status=Status.RED) if pk in turned else fig) for pk, fig in f.items()}
        for p, f in figures.items()
    }
    steps: list[dict] = []
    try:
        with transaction.atomic():
            FigureSnapshot.objects.all().delete()
            Alert.objects.all().delete()
            steps.append(step("first store (empty table) + every rule", figures))
            for run in range(UNCHANGED_RUNS):
                steps.append(step(f"nothing changed ({run + 1})", figures))
            steps.append(step(f"{len(turned):,} targets (1 %) green → red", worse))
            steps.append(step("the same again", worse))
            raise _Undo
    except _Undo:
        pass
    return {
        "targets": targets,
        "periods": len(figures),
        "computed": computed,
        "turned": len(turned),
        "steps": steps,
    }


def unchanged_median(result: dict) -> float:
    return statistics.median(
        s["seconds"] for s in result["steps"] if s["name"].startswith("nothing changed")
    )


def goals(result: dict) -> list[tuple[str, str, bool]]:
    steps = result["steps"]
    unchanged = [s for s in steps if s["name"].startswith("nothing changed")]
    median = unchanged_median(result)
    cpus = [s["cpu"] for s in unchanged if s["cpu"] is not None]
    cpu = f", CPU {statistics.median(cpus):.2f} s" if cpus else ""
    changed, again = steps[-2], steps[-1]
    nothing = [*unchanged, again]
    return [
        (
            f"storing the figures of all {result['targets']:,} targets + evaluating every "
            f"rule ≤ {GOAL_SECONDS:.0f} s (nothing changed, median of {len(unchanged)})",
            f"{median:.2f} s{cpu}",
            median <= GOAL_SECONDS,
        ),
        (
            "a second evaluation with nothing changed creates 0 alerts and 0 deliveries",
            ", ".join(f"{s['alerts']} alerts / {s['deliveries']} deliveries" for s in nothing),
            all(not (s["alerts"] or s["notices"] or s["deliveries"]) for s in nothing),
        ),
        (
            "each target turned red raises one alert",
            f"{changed['alerts']:,} of {result['turned']:,}",
            changed["alerts"] == result["turned"],
        ),
    ]


def failed(result: dict) -> bool:
    return not all(ok for _goal, _measured, ok in goals(result)[1:])


def lines(result: dict) -> list[str]:
    out = [
        "## Stored figures and alert rules (every target, every rule)",
        "",
        f"After a recompute: the figures of all {result['targets']:,} targets "
        f"({result['periods']} quarters; computed once beforehand in "
        f"{result['computed']:.2f} s, not counted) stored with `figures_store` — one "
        "statement per quarter, its arrays sent once: `UPDATE … FROM unnest(…)` of the rows "
        "whose figures or status differ plus `INSERT` of the targets without a row, so a "
        "recompute that changes nothing writes (and locks) nothing — then every periodic rule "
        "evaluated (status worsened per quarter, data stale). Inside one transaction rolled "
        "back at the end; deliveries are the (notice, channel) tasks queued for the commit.",
        "",
        "| step | seconds | CPU (this process + its PostgreSQL backend) | SQL statements "
        "| rows written | alerts | notices | deliveries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in result["steps"]:
        out.append(
            f"| {s['name']} | {s['seconds']:.2f} | "
            f"{'' if s['cpu'] is None else format(s['cpu'], '.2f')} | {s['queries']} | "
            f"{s['written']:,} | "
            f"{s['alerts']:,} | {s['notices']:,} | {s['deliveries']:,} |"
        )
    out += [
        "",
        "Wall-clock seconds stretch with the machine's load (see the load average above); "
        "the CPU column is what the work costs. Statements: one store and the status rule "
        "(its rule row, one `SELECT` of the targets that got worse) per quarter, the "
        "data-stale rule (its rule row, two `SELECT`s of connections, one `UPDATE` "
        "resolving what is fresh again), and the savepoints around them.",
        "",
    ]
    return out
