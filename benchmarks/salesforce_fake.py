"""A Salesforce org of any size on 127.0.0.1 for the ingest benchmark, in its own process.

It speaks the same REST wire format as the test suite's fake (the client-credentials token,
`queryAll` with `nextRecordsUrl` pages of 2,000 records, `Sforce-Limit-Info`), but holds no
records: opportunity n is derived from n by integer arithmetic when its page is served, so a
million rows cost the server no memory and the benchmark process measures only the sync.

`POST /bench/change?first=&count=` changes opportunities [first, first + count): a new
amount and a `SystemModstamp` after every other record, as a user editing them would.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
import socket
from datetime import UTC, date, datetime, timedelta

import orjson
from werkzeug import Request, Response
from werkzeug.serving import make_server

VERSION = "62.0"
DATA = f"/services/data/v{VERSION}"
PAGE = 2_000
SOQL_STAMP = re.compile(r"SystemModstamp >= (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")
FIRST_CLOSE = date(2026, 1, 1)
CLOSE_DAYS = 330


def opportunity_email(n: int, reps: int) -> str:
    return f"ingest_rep_{(n * 7919) % reps}@example.com"


class Org:
    def __init__(self, *, rows: int, reps: int, base: datetime) -> None:
        self.rows, self.reps, self.base = rows, reps, base
        self.changed = range(0)

    def stamp(self, n: int) -> datetime:
        if n in self.changed:
            # After every original record, a few per second as an editing user makes them.
            return self.base + timedelta(seconds=self.rows + 10 + (n - self.changed.start) // 100)
        return self.base + timedelta(seconds=n)

    def record(self, n: int) -> dict:
        cents = 100_000 + (n * 37) % 9_000_000 + (1 if n in self.changed else 0)
        won = n % 4 != 0
        stamp = self.stamp(n)
        return {
            "attributes": {"type": "Opportunity", "url": f"{DATA}/sobjects/Opportunity/{n}"},
            "Id": f"006{n:015d}",
            "OwnerId": f"005{(n * 7919) % self.reps:015d}",
            "Owner": {
                "attributes": {"type": "User", "url": f"{DATA}/sobjects/User/x"},
                "Email": opportunity_email(n, self.reps),
            },
            "AccountId": f"001{n % 20_000:015d}",
            "Account": {
                "attributes": {"type": "Account", "url": f"{DATA}/sobjects/Account/x"},
                "Name": f"客户{n % 20_000}",
            },
            "Amount": cents / 100,
            "StageName": "Closed Won" if won else "Prospecting",
            "Probability": 100.0 if won else 20.0,
            "ForecastCategoryName": "Closed" if won else "Pipeline",
            "IsWon": won,
            "IsClosed": won,
            "CloseDate": (FIRST_CLOSE + timedelta(days=n % CLOSE_DAYS)).isoformat(),
            "SystemModstamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "IsDeleted": False,
        }

    def ordered(self, floor: datetime | None) -> tuple[range, range]:
        """The originals, then the changed ones, from `floor` on: (SystemModstamp, Id) order."""
        first = 0
        if floor is not None:
            first = max(0, min(self.rows, -(-int((floor - self.base).total_seconds()) // 1)))
        originals = range(first, self.changed.start if self.changed else self.rows)
        changed = self.changed
        if floor is not None and changed and self.stamp(changed.stop - 1) < floor:
            changed = range(0)
        return originals, changed


def _json(body, status: int = 200) -> Response:
    response = Response(orjson.dumps(body), status, mimetype="application/json")
    response.headers["Sforce-Limit-Info"] = "api-usage=1/1000000"
    return response


def app_for(org: Org):
    cursors: dict[str, tuple[range, range]] = {}

    def page(cursor: str, offset: int) -> Response:
        originals, changed = cursors[cursor]
        total = len(originals) + len(changed)
        indexes = [
            originals[p] if p < len(originals) else changed[p - len(originals)]
            for p in range(offset, min(offset + PAGE, total))
        ]
        done = offset + PAGE >= total
        body = {"totalSize": total, "done": done, "records": [org.record(n) for n in indexes]}
        if not done:
            body["nextRecordsUrl"] = f"{DATA}/query/{cursor}-{offset + PAGE}"
        return _json(body)

    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/services/oauth2/token":
            host = f"http://{request.host}"
            return _json(
                {"access_token": "00DX!bench", "instance_url": host, "token_type": "Bearer"}
            )
        if request.path == "/bench/change":
            first, count = int(request.args["first"]), int(request.args["count"])
            org.changed = range(first, first + count)
            return _json({"changed": count})
        if request.path in (f"{DATA}/query", f"{DATA}/queryAll"):
            since = SOQL_STAMP.search(request.args.get("q", ""))
            floor = (
                datetime.strptime(since.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                if since
                else None
            )
            cursor = f"01gX{len(cursors):011d}"
            cursors[cursor] = org.ordered(floor)
            return page(cursor, 0)
        if request.path.startswith(f"{DATA}/query/"):
            cursor, _dash, offset = request.path.rsplit("/", 1)[1].rpartition("-")
            return page(cursor, int(offset))
        return _json([{"message": "not found", "errorCode": "NOT_FOUND"}], 404)

    return app


def _serve(port: int, rows: int, reps: int, base: datetime) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    make_server("127.0.0.1", port, app_for(Org(rows=rows, reps=reps, base=base))).serve_forever()


def start(*, rows: int, reps: int, base: datetime) -> tuple[str, multiprocessing.Process]:
    """Serve in a child process; returns its URL and the process (terminate it when done)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(port, rows, reps, base), daemon=True
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return url, process
        except OSError:
            process.join(0.1)
    raise RuntimeError("the fake Salesforce did not start")
