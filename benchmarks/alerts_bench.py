"""Storing figures and evaluating every alert rule alone, without the rest of `make bench`:

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/tp_bench \
        .venv/bin/python -m benchmarks.alerts_bench

Uses the company `make bench` generates (generating it first if needed) and prints the
table `make bench` writes into docs/benchmarks.md.
"""

from __future__ import annotations

import sys
import warnings

from benchmarks.alerts_eval import alert_evaluations, failed, goals, lines
from benchmarks.run import AS_OF, database_url, log, prepare_database, setup_django


def main() -> int:
    warnings.filterwarnings("ignore", message="No directory at")
    url = database_url()
    prepare_database(url)
    setup_django(url)
    from benchmarks import generate as gen

    try:
        generation = gen.ensure(gen.BENCH, regenerate=False)
    except RuntimeError as exc:
        sys.exit(str(exc))
    log("data ready" if generation.skipped else f"generated in {generation.seconds:.1f} s")
    result = alert_evaluations(as_of=AS_OF)
    print("\n".join(lines(result)))
    for goal, measured, ok in goals(result):
        print(f"  [{'x' if ok else ' '}] {goal}: {measured}")
    return 1 if failed(result) else 0


if __name__ == "__main__":
    sys.exit(main())
