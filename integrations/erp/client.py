"""The only code that speaks HTTP to the ERP: a REST JSON pull of invoiced revenue.

Settings (SPEC §8): `url`, `page_param` (default `page`), `first_page` (1), optional
`page_size_param` + `page_size`, `results_key` (where the rows are in a page, dotted for
nesting; default `results`), `auth_header_name` (default `Authorization`) whose value is the
secret `auth_header`, optional `modified_since_param` for incremental pulls. Pages are read
until one comes back empty. Network errors, 429 and 5xx are retried with the same bounded,
jittered backoff as Salesforce (honouring Retry-After); anything else fails the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests
from django.conf import settings

from integrations.retry import Backoff, retry_after_seconds

# A server that ignores the page parameter would serve page 1 forever.
MAX_PAGES = 100_000


class ErpError(Exception):
    """The pull failed in a way retrying will not fix; the message is for the run log."""


class ErpClient:
    def __init__(
        self,
        *,
        url: str,
        auth_header: str = "",
        auth_header_name: str = "Authorization",
        page_param: str = "page",
        first_page: int = 1,
        page_size_param: str = "",
        page_size: int | None = None,
        results_key: str = "results",
        modified_since_param: str = "",
        session: requests.Session | None = None,
    ) -> None:
        if not url:
            raise ErpError("No url set for the ERP connection.")
        self.url = url
        self.headers = {"Accept": "application/json"}
        if auth_header:
            self.headers[auth_header_name or "Authorization"] = auth_header
        self.page_param = page_param or "page"
        self.first_page = int(first_page)
        self.page_size_param = page_size_param
        self.page_size = page_size
        self.results_key = results_key or "results"
        self.modified_since_param = modified_since_param
        self.session = session or requests.Session()
        self.backoff = Backoff()
        self.timeout = settings.SYNC_HTTP_TIMEOUT_SECONDS

    @classmethod
    def from_connection(cls, connection) -> ErpClient:
        s = connection.settings
        return cls(
            url=s.get("url") or "",
            auth_header=connection.secrets.get("auth_header") or "",
            auth_header_name=s.get("auth_header_name") or "Authorization",
            page_param=s.get("page_param") or "page",
            first_page=s.get("first_page", 1),
            page_size_param=s.get("page_size_param") or "",
            page_size=s.get("page_size"),
            results_key=s.get("results_key") or "results",
            modified_since_param=s.get("modified_since_param") or "",
        )

    def pages(self, *, modified_since: str | None = None) -> Iterator[list[dict[str, Any]]]:
        """The rows of each page in turn, until an empty page."""
        page = self.first_page
        for _ in range(MAX_PAGES):
            rows = self.page(page, modified_since=modified_since)
            if not rows:
                return
            yield rows
            page += 1
        raise ErpError(f"More than {MAX_PAGES} pages: does the ERP read '{self.page_param}'?")

    def page(self, number: int, *, modified_since: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {self.page_param: number}
        if self.page_size_param and self.page_size:
            params[self.page_size_param] = self.page_size
        if self.modified_since_param and modified_since:
            params[self.modified_since_param] = modified_since
        body = self._get(params)
        rows: Any = body
        for key in self.results_key.split("."):
            rows = rows.get(key) if isinstance(rows, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ErpError(f"The ERP's page has no list of rows under '{self.results_key}'.")
        return rows

    def check(self) -> int:
        return len(self.page(self.first_page))

    def _get(self, params: dict[str, Any]) -> Any:
        attempt = 0
        while True:
            try:
                response = self.session.get(
                    self.url,
                    params=params,
                    headers=self.headers,
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                attempt = self._retry_or_raise(attempt, None, f"network error: {error}")
                continue
            if response.status_code == 429 or response.status_code >= 500:
                hint = retry_after_seconds(response.headers.get("Retry-After"))
                attempt = self._retry_or_raise(attempt, hint, f"HTTP {response.status_code}")
                continue
            if response.status_code >= 400:
                raise ErpError(f"The ERP answered HTTP {response.status_code}: {response.reason}")
            try:
                return response.json()
            except ValueError:
                raise ErpError("The ERP's answer is not JSON.") from None

    def _retry_or_raise(self, attempt: int, retry_after: float | None, what: str) -> int:
        if attempt >= self.backoff.max_retries:
            raise ErpError(f"ERP unavailable after {attempt + 1} tries ({what}).")
        self.backoff.wait(attempt, retry_after)
        return attempt + 1
