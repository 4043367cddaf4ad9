"""Storing figures and evaluating alert rules for the whole bench company (issue 8 item 5).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/tp_alerts_bench \
        .venv/bin/python -m benchmarks.alerts_bench

Uses the company `make bench` generates (generating it first if needed). Times, for every
target of the quarter: the store (two set-based statements) plus the status rule's
evaluation, (1) with nothing changed since the last store — must raise 0 alerts — and
(2) with 1 % of the targets turned from green to red — must raise one alert each.
"""

from __future__ import annotations

import sys
import time
import warnings

from benchmarks.run import AS_OF, database_url, log, prepare_database, setup_django

GOAL_SECONDS = 2.0


def main() -> int:
    warnings.filterwarnings("ignore", message="No directory at")
    url = database_url()
    prepare_database(url)
    setup_django(url)
    from django.conf import settings

    from benchmarks import generate as gen

    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    try:
        generation = gen.ensure(gen.BENCH, regenerate=False)
    except RuntimeError as exc:
        sys.exit(str(exc))
    log("data ready" if generation.skipped else f"generated in {generation.seconds:.1f} s")

    from alerts.models import Alert, Notification
    from alerts.services import alerts_evaluate_status
    from targets.figures import Status, figures_for
    from targets.models import FigureSnapshot, Target
    from targets.periods import Quarter
    from targets.recompute import figures_store

    Notification.objects.all().delete()
    Alert.objects.all().delete()
    FigureSnapshot.objects.all().delete()
    period = Quarter.of(AS_OF).label
    t = time.perf_counter()
    figures = figures_for(Target.objects.filter(period=period), as_of=AS_OF)
    compute = time.perf_counter() - t
    log(f"{len(figures):,} targets, figures computed in {compute:.2f} s")

    def store_and_evaluate(figs) -> tuple[float, int]:
        t = time.perf_counter()
        figures_store(period=period, as_of=AS_OF, figures=figs)
        raised = alerts_evaluate_status(period=period)
        return time.perf_counter() - t, raised

    first, raised0 = store_and_evaluate(figures)
    log(f"first store (empty table) + evaluation: {first:.2f} s, {raised0} alerts")
    same = []
    for _ in range(3):
        seconds, raised = store_and_evaluate(figures)
        same.append((seconds, raised))
        log(f"nothing changed: {seconds:.2f} s, {raised} alerts")
    greens = [pk for pk, f in figures.items() if f.status == Status.GREEN]
    turned = set(greens[: max(1, len(figures) // 100)])
    worse = {
        pk: (f._replace(status=Status.RED) if pk in turned else f) for pk, f in figures.items()
    }
    # The store keeps the status it finds as the previous one: store green first.
    store_and_evaluate(figures)
    changed, raised_changed = store_and_evaluate(worse)
    notices = Notification.objects.count()
    log(
        f"{len(turned):,} turned red: {changed:.2f} s, {raised_changed} alerts, "
        f"{notices} notices (e-mail to the dummy backend included)"
    )
    again, raised_again = store_and_evaluate(worse)
    log(f"the same again: {again:.2f} s, {raised_again} alerts")
    best_same = min(s for s, _ in same)
    ok = (
        best_same <= GOAL_SECONDS
        and all(r == 0 for _, r in same)
        and raised_changed == len(turned)
        and raised_again == 0
    )
    log(
        f"goal ≤ {GOAL_SECONDS:.0f} s with nothing changed and 0 alerts: {'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
