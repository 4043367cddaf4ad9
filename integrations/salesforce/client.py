"""The only code that speaks HTTP to Salesforce (REST API, OAuth 2.0).

Plain `requests.Session`, not simple-salesforce. A sync has to see every response, not
just its body: the `Sforce-Limit-Info: api-usage=N/M` header of each one (to stop at our
share of the org's daily API limit before the org runs dry), `Retry-After` on 429/503, and
the difference between an expired session (401: authenticate again, once), the org being out
of API calls (403 `REQUEST_LIMIT_EXCEEDED`: stop, retrying only burns what is left), a
throttle or outage (429/5xx/network: bounded backoff) and a bad query (400: fail). simple-
salesforce folds these into a few exception types, retries nothing itself, re-reads the
limit header only on some calls, and its `query_all` gathers every page in memory, while a
first sync may be a million rows: we stream page by page through `nextRecordsUrl`. What it
would save us is a token call and URL joining, about thirty lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
import requests
from django.conf import settings

from integrations.retry import Backoff, retry_after_seconds

DEFAULT_API_VERSION = "62.0"
DEFAULT_LOGIN_URL = "https://login.salesforce.com"
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


class SalesforceError(Exception):
    """A call failed in a way retrying will not fix; the message is for the run log."""


class AuthenticationFailed(SalesforceError):
    pass


class RequestLimitExceeded(SalesforceError):
    """The org has no API calls left today (403 REQUEST_LIMIT_EXCEEDED)."""


class ApiShareReached(SalesforceError):
    """We used our configured share of the org's daily API limit: stop cleanly."""


class Unavailable(SalesforceError):
    """Network errors, 429 or 5xx outlasted the bounded retries."""


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    total_size: int
    done: bool


class SalesforceClient:
    def __init__(
        self,
        *,
        login_url: str = DEFAULT_LOGIN_URL,
        instance_url: str = "",
        client_id: str = "",
        client_secret: str = "",
        access_token: str = "",
        api_version: str = DEFAULT_API_VERSION,
        daily_api_share: float = 0.5,
        session: requests.Session | None = None,
    ) -> None:
        self.login_url = (login_url or DEFAULT_LOGIN_URL).rstrip("/")
        self.instance_url = (instance_url or "").rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token = access_token
        self.api_version = str(api_version or DEFAULT_API_VERSION).lstrip("vV")
        self.daily_api_share = float(daily_api_share)
        self.session = session or requests.Session()
        self.backoff = Backoff()
        self.timeout = settings.SYNC_HTTP_TIMEOUT_SECONDS
        # The last `api-usage=N/M` seen: (calls used today, the org's daily limit).
        self.usage: tuple[int, int] | None = None

    @classmethod
    def from_connection(cls, connection) -> SalesforceClient:
        s, secrets = connection.settings, connection.secrets
        return cls(
            login_url=s.get("login_url") or DEFAULT_LOGIN_URL,
            instance_url=s.get("instance_url") or "",
            client_id=s.get("client_id") or "",
            client_secret=secrets.get("client_secret") or "",
            access_token=secrets.get("access_token") or "",
            api_version=s.get("api_version") or DEFAULT_API_VERSION,
            daily_api_share=s.get("daily_api_share", 0.5),
        )

    @property
    def can_authenticate(self) -> bool:
        return bool(self.client_id and self.client_secret)

    # -- OAuth 2.0 client credentials -------------------------------------------------------

    def authenticate(self) -> None:
        if not self.can_authenticate:
            raise AuthenticationFailed("No client_id/client_secret to obtain a token with.")
        response = self._send(
            "POST",
            f"{self.login_url}/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            authorised=False,
        )
        if response.status_code != 200:
            body = _json(response)
            detail = ""
            if isinstance(body, dict):
                detail = body.get("error_description") or body.get("error") or ""
            raise AuthenticationFailed(
                f"Token request refused ({response.status_code}): {detail or response.reason}"
            )
        body = response.json()
        self.access_token = body["access_token"]
        self.instance_url = (body.get("instance_url") or self.instance_url).rstrip("/")

    # -- REST calls ----------------------------------------------------------------------------

    def query_pages(self, soql: str, *, include_deleted: bool = False) -> Iterator[Page]:
        """The result of `soql` one page at a time (at most 2,000 records each), following
        `nextRecordsUrl`. `include_deleted` uses queryAll: deleted records come with
        `IsDeleted = true` while they are in the recycle bin. Before asking for the next
        page it stops (ApiShareReached) once our share of the daily limit is used."""
        endpoint = "queryAll" if include_deleted else "query"
        url = f"{self._data_url()}/{endpoint}?q={quote(soql, safe='')}"
        while True:
            body = self.get_json(url)
            yield Page(
                records=body.get("records", []),
                total_size=body.get("totalSize", 0),
                done=bool(body.get("done", True)),
            )
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            self.check_share()
            url = f"{self.instance_url}{next_url}"

    def limits(self) -> dict[str, Any]:
        return self.get_json(f"{self._data_url()}/limits")

    def check(self) -> str:
        """The cheapest proof the settings work: a token (if needed) and the limits call."""
        body = self.limits()
        daily = body.get("DailyApiRequests") or {}
        if "Max" in daily:
            used = daily["Max"] - daily.get("Remaining", 0)
            return f"{used}/{daily['Max']}"
        return ""

    def check_share(self) -> None:
        if self.usage is None:
            return
        used, limit = self.usage
        if limit and used >= self.daily_api_share * limit:
            raise ApiShareReached(
                f"Stopped at {used} of the org's {limit} daily API calls "
                f"(share {self.daily_api_share:.0%}); the next run resumes."
            )

    def get_json(self, url: str) -> dict[str, Any]:
        response = self._send("GET", url)
        return orjson.loads(response.content)

    def _data_url(self) -> str:
        if not self.access_token:
            self.authenticate()
        if not self.instance_url:
            raise SalesforceError("No instance_url: set it, or use the client-credentials flow.")
        return f"{self.instance_url}/services/data/v{self.api_version}"

    def _send(
        self, method: str, url: str, *, authorised: bool = True, **kwargs
    ) -> requests.Response:
        """One call with the distinct handling each failure needs (see the module's note)."""
        reauthenticated = False
        attempt = 0
        while True:
            headers = {"Accept": "application/json"}
            if authorised:
                if not self.access_token:
                    self.authenticate()
                headers["Authorization"] = f"Bearer {self.access_token}"
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    timeout=self.timeout,
                    **kwargs,
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                attempt = self._retry_or_raise(attempt, None, f"network error: {error}")
                continue
            self._read_usage(response)
            status = response.status_code
            if status == 401 and authorised:
                if reauthenticated or not self.can_authenticate:
                    raise AuthenticationFailed(
                        f"Salesforce refused the session: {_error_text(response)}"
                    )
                # The token expired (or was revoked): one fresh token, then give up.
                reauthenticated = True
                self.access_token = ""
                continue
            if status == 403 and _error_code(response) == "REQUEST_LIMIT_EXCEEDED":
                raise RequestLimitExceeded(
                    f"The org's daily API limit is used up: {_error_text(response)}"
                )
            if status == 429 or status >= 500:
                wait_hint = retry_after_seconds(response.headers.get("Retry-After"))
                attempt = self._retry_or_raise(
                    attempt, wait_hint, f"HTTP {status}: {_error_text(response)}"
                )
                continue
            if status >= 400 and authorised:
                raise SalesforceError(f"HTTP {status}: {_error_text(response)}")
            return response

    def _retry_or_raise(self, attempt: int, retry_after: float | None, what: str) -> int:
        if attempt >= self.backoff.max_retries:
            raise Unavailable(f"Salesforce unavailable after {attempt + 1} tries ({what}).")
        self.backoff.wait(attempt, retry_after)
        return attempt + 1

    def _read_usage(self, response: requests.Response) -> None:
        match = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.usage = (int(match.group(1)), int(match.group(2)))


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_code(response: requests.Response) -> str:
    body = _json(response)
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("errorCode", ""))
    return ""


def _error_text(response: requests.Response) -> str:
    """Salesforce's error bodies are `[{"message", "errorCode"}]`; others get the reason."""
    body = _json(response)
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        return f"{first.get('errorCode', '')}: {first.get('message', '')}".strip(": ")
    if isinstance(body, dict) and ("error" in body or "message" in body):
        return str(body.get("error_description") or body.get("message") or body.get("error"))
    return response.reason or str(response.status_code)
