"""Large files are streamed, never held whole (issue 7 §4). Peak Python memory is measured
with tracemalloc while a file is checked: it follows the number of distinct ids (the duplicate
check keeps each id once) and a batch of rows, never the file's size or the width of its rows.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

from integrations.imports import deals_import
from integrations.imports_org import org_import

pytestmark = pytest.mark.django_db


def measure(run) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def deals_file(path, rows: int, pad: str):
    with path.open("w", encoding="gb18030") as out:
        out.write("external_id,account,owner_email,amount,stage,close_date\n")
        for n in range(rows):
            out.write(f"D-{n},客户{n},alice@example.com,{n + 1},{pad},2025-05-10\n")
    return path.stat().st_size


def test_a_file_of_wide_rows_is_checked_in_a_fraction_of_its_size(org, tmp_path):
    # 20,000 rows of ~1.8 KB: a 37 MB file. Held whole (as text, or as rows) it would cost
    # more than its size; streamed, it costs a batch of 2,000 rows and the decoding buffers.
    size = deals_file(tmp_path / "wide.csv", 20_000, "宽" * 900)
    result = None
    with (tmp_path / "wide.csv").open("rb") as stream:

        def run():
            nonlocal result
            result = deals_import(stream=stream, size=size, user=org.admin, dry_run=True)

        peak = measure(run)
    assert (result.rows, result.failed, result.encoding) == (20_000, 0, "gb18030")
    assert size > 30 * 1024 * 1024
    assert peak < size / 2, (peak, size)


def test_100k_people_are_checked_in_bounded_memory_and_time(org, tmp_path):
    path = tmp_path / "people.csv"
    rows = 100_000
    with path.open("w", encoding="utf-8") as out:
        out.write("username,display_name,email,team,role\n")
        for n in range(rows):
            out.write(f"user{n},姓名{n},user{n}@example.com,,\n")
    size = path.stat().st_size
    result = None
    started = time.perf_counter()
    with path.open("rb") as stream:

        def run():
            nonlocal result
            result = org_import(stream=stream, size=size, user=org.admin, dry_run=True)

        peak = measure(run)
    assert (result.rows, result.failed, result.created) == (rows, 0, rows)
    # What stays is one username per row for the duplicate check (~100 bytes each), not
    # the rows (each a dict of decoded cells, several hundred bytes).
    assert peak < rows * 160, (peak, size)
    assert time.perf_counter() - started < 90
