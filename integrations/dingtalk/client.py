"""The only code that speaks to DingTalk.

Two APIs: the new one (`https://api.dingtalk.com/v1.0/…`, token in the
`x-acs-dingtalk-access-token` header, errors as HTTP statuses with `{code, message}`) for the
token and approvals, and the older `https://oapi.dingtalk.com/topapi/…` (token in the query,
`{errcode, errmsg}` in a 200) for work notifications and contacts; the group robot is a signed
webhook on the latter. Both base URLs come from the connection's settings, so a test (or a
proxy) can stand in for DingTalk.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import requests
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from integrations.models import Connection

from .models import RobotSend

API_BASE = "https://api.dingtalk.com"
OAPI_BASE = "https://oapi.dingtalk.com"
TIMEOUT = (5, 20)
ATTEMPTS = 3
# Robot: DingTalk refuses a robot's 21st message within a minute (and mutes it for a while).
ROBOT_LIMIT = 20
ROBOT_WINDOW = timedelta(minutes=1)
# Old-API codes meaning the token is no longer valid: fetch a new one once.
TOKEN_ERRCODES = {40001, 40014, 42001, 88}
# Old-API codes that pass with time: flow control.
BUSY_ERRCODES = {-1, 90018, 410100, 130101}
TOKEN_MARGIN = 300


class DingTalkError(Exception):
    """A failed call. `permanent` ones (bad settings, refused input) do not heal by retrying."""

    def __init__(self, message: str, *, permanent: bool, status: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.status = status


def robot_sign(*, secret: str, timestamp: str) -> str:
    """The robot's `sign`: HMAC-SHA256 keyed with the secret over "timestamp\\nsecret",
    base64, URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


class DingTalkClient:
    def __init__(
        self,
        connection: Connection,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.connection = connection
        self.settings = connection.settings or {}
        self.secrets = connection.secrets or {}
        self.api_base = str(self.settings.get("api_base") or API_BASE).rstrip("/")
        self.oapi_base = str(self.settings.get("oapi_base") or OAPI_BASE).rstrip("/")
        self.session = session or requests.Session()
        self.sleep = sleep
        self.backoff = float(self.settings.get("retry_backoff", 0.5))

    # --- transport --------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        """One call with bounded retries on network errors, 429 and 5xx."""
        last: Exception | None = None
        for attempt in range(ATTEMPTS):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.session.request(method, url, timeout=TIMEOUT, **kwargs)
            except requests.RequestException as error:
                last = DingTalkError(f"DingTalk unreachable: {error}", permanent=False)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = DingTalkError(
                    f"DingTalk answered {response.status_code}",
                    permanent=False,
                    status=response.status_code,
                )
                continue
            return response
        assert last is not None
        raise last

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise DingTalkError(
                f"DingTalk answered {response.status_code} without JSON",
                permanent=response.status_code < 500,
                status=response.status_code,
            ) from None
        return body if isinstance(body, dict) else {}

    # --- access token -----------------------------------------------------------------

    def _token_key(self) -> str:
        return f"dingtalk:token:{self.connection.pk}:{self.settings.get('app_key', '')}"

    def access_token(self, *, fresh: bool = False) -> str:
        """The app's access token, from the cache until shortly before it expires."""
        key = self._token_key()
        if not fresh:
            cached = cache.get(key)
            # The expiry is kept in the value too: the cache's own clock (Redis) is not ours.
            if isinstance(cached, dict) and cached.get("until", 0) > time.time():
                return cached["token"]
        app_key, app_secret = self.settings.get("app_key"), self.secrets.get("app_secret")
        if not app_key or not app_secret:
            raise DingTalkError("The connection needs app_key and app_secret.", permanent=True)
        response = self._send(
            "POST",
            f"{self.api_base}/v1.0/oauth2/accessToken",
            json={"appKey": app_key, "appSecret": app_secret},
        )
        body = self._json(response)
        token = body.get("accessToken")
        if response.status_code != 200 or not token:
            raise DingTalkError(
                f"DingTalk refused the app credentials: {body.get('message') or body}",
                permanent=True,
                status=response.status_code,
            )
        lifetime = max(int(body.get("expireIn") or 7200) - TOKEN_MARGIN, 60)
        cache.set(key, {"token": token, "until": time.time() + lifetime}, timeout=lifetime)
        return token

    def _api(self, method: str, path: str, **kwargs) -> dict[str, Any]:
        """A call to the new API; a token DingTalk no longer accepts is replaced once."""
        for fresh in (False, True):
            headers = {"x-acs-dingtalk-access-token": self.access_token(fresh=fresh)}
            response = self._send(method, f"{self.api_base}{path}", headers=headers, **kwargs)
            if response.status_code == 401 and not fresh:
                continue
            body = self._json(response)
            if response.status_code >= 400:
                raise DingTalkError(
                    f"DingTalk {path}: {body.get('code', '')} {body.get('message', '')}".strip(),
                    permanent=True,
                    status=response.status_code,
                )
            return body
        raise AssertionError("unreachable")

    def _oapi(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A call to the old API, which reports failures as an `errcode` in a 200."""
        for fresh in (False, True):
            params = {"access_token": self.access_token(fresh=fresh)}
            response = self._send("POST", f"{self.oapi_base}{path}", params=params, json=payload)
            body = self._json(response)
            code = body.get("errcode", 0 if response.status_code == 200 else None)
            if code in TOKEN_ERRCODES and not fresh:
                continue
            if code != 0:
                raise DingTalkError(
                    f"DingTalk {path}: {code} {body.get('errmsg', '')}".strip(),
                    permanent=code not in BUSY_ERRCODES,
                    status=response.status_code,
                )
            return body
        raise AssertionError("unreachable")

    # --- approvals --------------------------------------------------------------------

    def approval_create(
        self,
        *,
        process_code: str,
        originator_userid: str,
        form: list[tuple[str, str]],
        dept_id: int | None = None,
    ) -> str:
        """Start an approval; its instance id."""
        payload: dict[str, Any] = {
            "processCode": process_code,
            "originatorUserId": originator_userid,
            "formComponentValues": [{"name": n, "value": v} for n, v in form],
        }
        if dept_id is not None:
            payload["deptId"] = dept_id
        body = self._api("POST", "/v1.0/workflow/processInstances", json=payload)
        instance_id = body.get("instanceId")
        if not instance_id:
            raise DingTalkError(f"DingTalk returned no instance id: {body}", permanent=False)
        return str(instance_id)

    def approval_get(self, instance_id: str) -> dict[str, Any]:
        """The instance: `status` RUNNING / COMPLETED / TERMINATED, `result` agree / refuse,
        `tasks` and `operationRecords` saying who did what."""
        body = self._api(
            "GET", "/v1.0/workflow/processInstances", params={"processInstanceId": instance_id}
        )
        result = body.get("result")
        if not isinstance(result, dict):
            raise DingTalkError(f"DingTalk returned no instance: {body}", permanent=False)
        return result

    # --- messages ---------------------------------------------------------------------

    def work_notice_send(self, *, userids: list[str], msg: dict[str, Any]) -> str:
        """A work notification from the app to people; DingTalk's task id."""
        agent_id = self.settings.get("agent_id")
        if not agent_id:
            raise DingTalkError("The connection needs agent_id for notices.", permanent=True)
        body = self._oapi(
            "/topapi/message/corpconversation/asyncsend_v2",
            {"agent_id": int(agent_id), "userid_list": ",".join(userids), "msg": msg},
        )
        return str(body.get("task_id", ""))

    def robot_send(self, msg: dict[str, Any]) -> None:
        """Post to the group robot, signed; waits for a free slot of the per-minute limit
        rather than dropping the message."""
        token = self.secrets.get("robot_access_token")
        secret = self.secrets.get("robot_secret")
        if not token or not secret:
            raise DingTalkError(
                "The connection needs robot_access_token and robot_secret.", permanent=True
            )
        self._robot_slot()
        timestamp = str(int(timezone.now().timestamp() * 1000))
        # The sign is already URL-encoded, as DingTalk documents: the query is built by hand.
        url = (
            f"{self.oapi_base}/robot/send?access_token={urllib.parse.quote(token)}"
            f"&timestamp={timestamp}&sign={robot_sign(secret=secret, timestamp=timestamp)}"
        )
        body = self._json(self._send("POST", url, json=msg))
        code = body.get("errcode")
        if code != 0:
            raise DingTalkError(
                f"DingTalk robot: {code} {body.get('errmsg', '')}".strip(),
                permanent=code not in BUSY_ERRCODES,
            )

    def _robot_slot(self) -> None:
        """Claim one of the robot's 20 sends of the last minute, waiting for the oldest to
        age out when all are taken. The connection row lock makes workers take turns."""
        while True:
            with transaction.atomic():
                Connection.objects.select_for_update().filter(pk=self.connection.pk).first()
                now = timezone.now()
                recent = RobotSend.objects.filter(connection_id=self.connection.pk)
                recent.filter(sent_at__lte=now - ROBOT_WINDOW).delete()
                times = list(recent.order_by("sent_at").values_list("sent_at", flat=True))
                if len(times) < ROBOT_LIMIT:
                    RobotSend.objects.create(connection_id=self.connection.pk, sent_at=now)
                    return
                wait = (times[-ROBOT_LIMIT] + ROBOT_WINDOW - now).total_seconds()
            self.sleep(max(wait, 0.01))

    # --- contacts ---------------------------------------------------------------------

    def department_get(self, dept_id: int) -> dict[str, Any]:
        body = self._oapi("/topapi/v2/department/get", {"dept_id": dept_id, "language": "zh_CN"})
        return body.get("result") or {}

    def departments_below(self, dept_id: int) -> list[dict[str, Any]]:
        """The direct sub-departments of one department."""
        body = self._oapi(
            "/topapi/v2/department/listsub", {"dept_id": dept_id, "language": "zh_CN"}
        )
        return list(body.get("result") or [])

    def users_in(self, dept_id: int, *, size: int = 100) -> Iterator[dict[str, Any]]:
        """The people directly in one department, page by page."""
        cursor = 0
        while True:
            body = self._oapi(
                "/topapi/v2/user/list",
                {"dept_id": dept_id, "cursor": cursor, "size": size, "language": "zh_CN"},
            )
            result = body.get("result") or {}
            yield from result.get("list") or []
            if not result.get("has_more"):
                return
            cursor = result.get("next_cursor")
