"""A Salesforce org on 127.0.0.1 speaking the documented REST wire format, so the real client
runs in tests: the OAuth 2.0 client-credentials token endpoint, `query` / `queryAll` with
`totalSize` / `done` / `nextRecordsUrl` / `records` (each with `attributes`), `limits`,
error bodies `[{"message", "errorCode"}]` and `Sforce-Limit-Info: api-usage=N/M` on every
REST answer. Faults queued in `faults` are served, in order, instead of the next REST answers.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count
from urllib.parse import parse_qs

from werkzeug import Request, Response

VERSION = "62.0"
DATA = f"/services/data/v{VERSION}"
SOQL_STAMP = re.compile(r"SystemModstamp >= (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")
SOQL_LIMIT = re.compile(r"LIMIT (\d+)")


def sf_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{value.microsecond // 1000:03d}+0000"
    )


@dataclass
class Fault:
    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Opportunity:
    id: str
    owner_id: str
    owner_email: str | None
    account: str | None
    amount: float | None
    stage: str
    won: bool
    closed: bool
    close_date: date
    stamp: datetime
    deleted: bool = False

    def as_json(self) -> dict:
        owner = {"attributes": {"type": "User", "url": f"{DATA}/sobjects/User/{self.owner_id}"}}
        owner["Email"] = self.owner_email
        account = None
        if self.account is not None:
            account = {
                "attributes": {"type": "Account", "url": f"{DATA}/sobjects/Account/001X"},
                "Name": self.account,
            }
        return {
            "attributes": {"type": "Opportunity", "url": f"{DATA}/sobjects/Opportunity/{self.id}"},
            "Id": self.id,
            "OwnerId": self.owner_id,
            "Owner": owner,
            "AccountId": "001X" if self.account is not None else None,
            "Account": account,
            "Amount": self.amount,
            "StageName": self.stage,
            "Probability": 100.0 if self.won else 10.0,
            "ForecastCategoryName": "Closed" if self.won else "Pipeline",
            "IsWon": self.won,
            "IsClosed": self.closed,
            "CloseDate": self.close_date.isoformat(),
            "SystemModstamp": sf_stamp(self.stamp),
            "IsDeleted": self.deleted,
        }


class FakeSalesforce:
    def __init__(
        self,
        httpserver,
        *,
        client_id: str = "cid",
        client_secret: str = "csecret",
        page_size: int = 2000,
        api_limit: int = 100_000,
    ) -> None:
        self.server = httpserver
        self.client_id = client_id
        self.client_secret = client_secret
        self.page_size = page_size
        self.api_limit = api_limit
        self.api_used = 0
        self.opportunities: dict[str, Opportunity] = {}
        self.faults: list[Fault] = []
        self.tokens: set[str] = set()
        self.tokens_issued = 0
        self.queries: list[str] = []
        self.pages_served = 0
        self.last_pages_served = 0  # pages with done = true: a query read to its end
        self.page_delay = 0.0
        self.page_served = threading.Condition()
        self._cursors: dict[str, list[Opportunity]] = {}
        self._ids = count(1)
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    # -- the org's data -----------------------------------------------------------------------

    @property
    def login_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def add(self, *, owner: str = "alice", stamp: datetime, **changes) -> Opportunity:
        number = next(self._ids)
        values = {
            "id": f"006{number:015d}",
            "owner_id": f"005{owner[:8]:0>15}",
            "owner_email": f"{owner}@example.com",
            "account": f"Account {number}",
            "amount": 1000.0 + number,
            "stage": "Closed Won",
            "won": True,
            "closed": True,
            "close_date": date(2025, 5, 1),
            "stamp": stamp,
        }
        values.update(changes)
        opportunity = Opportunity(**values)
        self.opportunities[opportunity.id] = opportunity
        return opportunity

    def change(self, opportunity_id: str, *, stamp: datetime, **changes) -> None:
        opportunity = self.opportunities[opportunity_id]
        for name, value in changes.items():
            setattr(opportunity, name, value)
        opportunity.stamp = stamp

    def delete(self, opportunity_id: str, *, stamp: datetime) -> None:
        self.change(opportunity_id, stamp=stamp, deleted=True)

    def purge(self, opportunity_id: str) -> None:
        """Emptied from the recycle bin: not even queryAll sees it any more."""
        del self.opportunities[opportunity_id]

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def wait_for_pages(self, n: int, timeout: float = 30, *, last: bool = False) -> bool:
        """Until `n` pages (with `last`: `n` final pages of a query) have been served."""
        with self.page_served:
            return self.page_served.wait_for(
                lambda: (self.last_pages_served if last else self.pages_served) >= n, timeout
            )

    # -- the wire -----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path == "/services/oauth2/token":
            return self._token(request)
        if not request.path.startswith(DATA):
            return _json([{"message": "Not found", "errorCode": "NOT_FOUND"}], 404)
        if self.faults:
            fault = self.faults.pop(0)
            return self._rest(fault.body, fault.status, fault.headers)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return self._rest(
                [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
                401,
            )
        self.api_used += 1
        rest = request.path[len(DATA) :]
        if rest == "/limits":
            remaining = self.api_limit - self.api_used
            return self._rest({"DailyApiRequests": {"Max": self.api_limit, "Remaining": remaining}})
        if rest in ("/query", "/queryAll"):
            return self._query(request.args.get("q", ""), include_deleted=rest == "/queryAll")
        if rest.startswith("/query/"):
            return self._next(rest.removeprefix("/query/"))
        return self._rest([{"message": "Not found", "errorCode": "NOT_FOUND"}], 404)

    def _token(self, request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        given = (form.get("client_id", [""])[0], form.get("client_secret", [""])[0])
        if form.get("grant_type") != ["client_credentials"] or given != (
            self.client_id,
            self.client_secret,
        ):
            return _json(
                {"error": "invalid_client", "error_description": "invalid client credentials"},
                400,
            )
        self.tokens_issued += 1
        token = f"00DX!token-{self.tokens_issued}"
        self.tokens.add(token)
        return _json(
            {
                "access_token": token,
                "instance_url": self.login_url,
                "id": f"{self.login_url}/id/00DX/005X",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
                "signature": "c2lnbmF0dXJl",
            }
        )

    def _query(self, soql: str, *, include_deleted: bool) -> Response:
        self.queries.append(soql)
        rows = [o for o in self.opportunities.values() if include_deleted or not o.deleted]
        since = SOQL_STAMP.search(soql)
        if since:
            floor = datetime.strptime(since.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            rows = [o for o in rows if o.stamp >= floor]
        rows.sort(key=lambda o: (o.stamp, o.id))
        limit = SOQL_LIMIT.search(soql)
        if limit:
            rows = rows[: int(limit.group(1))]
        cursor = f"01gX{len(self._cursors):011d}"
        self._cursors[cursor] = rows
        return self._page(cursor, 0)

    def _next(self, locator: str) -> Response:
        cursor, _dash, offset = locator.rpartition("-")
        if cursor not in self._cursors or not offset.isdigit():
            return self._rest(
                [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}], 400
            )
        return self._page(cursor, int(offset))

    def _page(self, cursor: str, offset: int) -> Response:
        rows = self._cursors[cursor]
        chunk = rows[offset : offset + self.page_size]
        done = offset + self.page_size >= len(rows)
        body = {
            "totalSize": len(rows),
            "done": done,
            "records": [o.as_json() for o in chunk],
        }
        if not done:
            body["nextRecordsUrl"] = f"{DATA}/query/{cursor}-{offset + self.page_size}"
        if self.page_delay:
            time.sleep(self.page_delay)
        response = self._rest(body)
        with self.page_served:
            self.pages_served += 1
            self.last_pages_served += done
            self.page_served.notify_all()
        return response

    def _rest(self, body, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        response = _json(body, status)
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_used}/{self.api_limit}"
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response


def _json(body, status: int = 200) -> Response:
    return Response(
        json.dumps(body) if body is not None else "",
        status=status,
        content_type="application/json;charset=UTF-8",
    )


# Recent: a watermark older than the recycle bin's 15 days would make every sync a full one.
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
