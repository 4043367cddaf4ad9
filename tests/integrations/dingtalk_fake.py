"""A DingTalk stand-in on 127.0.0.1 speaking DingTalk's documented formats.

New API (`/v1.0/…`): token from `POST /v1.0/oauth2/accessToken`, sent back in the
`x-acs-dingtalk-access-token` header; an unknown token is a 401 `{code, message}`. Old API
(`/topapi/…`, `/robot/send`): token in the query, failures as `{errcode, errmsg}` in a 200.
The robot checks its `timestamp` + `sign` like DingTalk does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

APP_KEY = "dingappkey0001"
APP_SECRET = "app-secret-for-tests"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
TOKEN = "callback-token"
ROBOT_SECRET = "SEC0123456789abcdef"
ROBOT_TOKEN = "robot-access-token"


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@dataclass
class FakeDingTalk:
    server: Any
    tokens: list[str] = field(default_factory=list)
    expire_in: int = 7200
    created: list[dict] = field(default_factory=list)
    instances: dict[str, dict] = field(default_factory=dict)
    notices: list[dict] = field(default_factory=list)
    robot: list[dict] = field(default_factory=list)
    departments: dict[int, dict] = field(default_factory=dict)
    users: dict[int, list[dict]] = field(default_factory=dict)
    page_size_seen: list[int] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self):
        self.server.expect_request("/v1.0/oauth2/accessToken", method="POST").respond_with_handler(
            self._token
        )
        self.server.expect_request(
            "/v1.0/workflow/processInstances", method="POST"
        ).respond_with_handler(self._guard_api(self._create))
        self.server.expect_request(
            "/v1.0/workflow/processInstances", method="GET"
        ).respond_with_handler(self._guard_api(self._get))
        self.server.expect_request(
            "/topapi/message/corpconversation/asyncsend_v2", method="POST"
        ).respond_with_handler(self._guard_oapi(self._notice))
        self.server.expect_request("/topapi/v2/department/get", method="POST").respond_with_handler(
            self._guard_oapi(self._department)
        )
        self.server.expect_request(
            "/topapi/v2/department/listsub", method="POST"
        ).respond_with_handler(self._guard_oapi(self._listsub))
        self.server.expect_request("/topapi/v2/user/list", method="POST").respond_with_handler(
            self._guard_oapi(self._user_list)
        )
        self.server.expect_request("/robot/send", method="POST").respond_with_handler(self._robot)

    @property
    def base(self) -> str:
        return self.server.url_for("").rstrip("/")

    def requests_to(self, path: str) -> int:
        return sum(1 for request, _response in self.server.log if request.path == path)

    # --- endpoints ----------------------------------------------------------------------

    def _failure(self) -> Response | None:
        if self.fail_next:
            return _json({"code": "ServiceUnavailable"}, status=self.fail_next.pop(0))
        return None

    def _token(self, request: Request) -> Response:
        if failure := self._failure():
            return failure
        body = request.get_json()
        if body != {"appKey": APP_KEY, "appSecret": APP_SECRET}:
            return _json(
                {"code": "invalidClientIdOrSecret", "message": "无效的appKey或appSecret"}, 400
            )
        token = f"token-{len(self.tokens) + 1}"
        self.tokens.append(token)
        return _json({"accessToken": token, "expireIn": self.expire_in})

    def revoke_tokens(self) -> None:
        self.tokens = [f"revoked-{t}" for t in self.tokens]

    def _guard_api(self, handler):
        def guarded(request: Request) -> Response:
            if failure := self._failure():
                return failure
            if request.headers.get("x-acs-dingtalk-access-token") not in self.tokens:
                return _json(
                    {"code": "InvalidAuthentication", "message": "不合法的access_token"}, 401
                )
            return handler(request)

        return guarded

    def _guard_oapi(self, handler):
        def guarded(request: Request) -> Response:
            if failure := self._failure():
                return failure
            if request.args.get("access_token") not in self.tokens:
                return _json({"errcode": 40014, "errmsg": "不合法的access_token"})
            return handler(request)

        return guarded

    def _create(self, request: Request) -> Response:
        body = request.get_json()
        self.created.append(body)
        instance_id = f"inst-{next(self._ids)}"
        self.instances[instance_id] = {
            "processInstanceId": instance_id,
            "status": "RUNNING",
            "result": "",
            "originatorUserId": body["originatorUserId"],
            "tasks": [],
            "operationRecords": [
                {
                    "userId": body["originatorUserId"],
                    "type": "START_PROCESS_INSTANCE",
                    "result": "NONE",
                }
            ],
        }
        return _json({"instanceId": instance_id})

    def _get(self, request: Request) -> Response:
        instance = self.instances.get(request.args.get("processInstanceId", ""))
        if instance is None:
            return _json({"code": "processInstanceNotExist", "message": "审批实例不存在"}, 400)
        return _json({"success": True, "result": instance})

    def finish(self, instance_id: str, *, approver: str, result: str, remark: str = "") -> None:
        """The approver decides in DingTalk."""
        instance = self.instances[instance_id]
        instance.update(status="COMPLETED", result=result)
        instance["tasks"].append(
            {"taskId": 1, "userId": approver, "status": "COMPLETED", "result": result.upper()}
        )
        instance["operationRecords"].append(
            {
                "userId": approver,
                "type": "EXECUTE_TASK_NORMAL",
                "result": result.upper(),
                "remark": remark,
            }
        )

    def _notice(self, request: Request) -> Response:
        self.notices.append(request.get_json())
        return _json({"errcode": 0, "errmsg": "ok", "task_id": 256271667526, "request_id": "r1"})

    def _department(self, request: Request) -> Response:
        dept_id = request.get_json()["dept_id"]
        department = self.departments.get(dept_id)
        if department is None:
            return _json({"errcode": 60003, "errmsg": "部门不存在"})
        return _json({"errcode": 0, "errmsg": "ok", "result": department})

    def _listsub(self, request: Request) -> Response:
        dept_id = request.get_json()["dept_id"]
        children = [d for d in self.departments.values() if d.get("parent_id") == dept_id]
        return _json({"errcode": 0, "errmsg": "ok", "result": children})

    def _user_list(self, request: Request) -> Response:
        body = request.get_json()
        people = self.users.get(body["dept_id"], [])
        cursor, size = int(body["cursor"]), int(body["size"])
        self.page_size_seen.append(size)
        page = people[cursor : cursor + size]
        more = cursor + size < len(people)
        result = {"has_more": more, "list": page}
        if more:
            result["next_cursor"] = cursor + size
        return _json({"errcode": 0, "errmsg": "ok", "result": result})

    def _robot(self, request: Request) -> Response:
        if failure := self._failure():
            return failure
        timestamp, sign = request.args.get("timestamp", ""), request.args.get("sign", "")
        digest = hmac.new(
            ROBOT_SECRET.encode(), f"{timestamp}\n{ROBOT_SECRET}".encode(), hashlib.sha256
        ).digest()
        if request.args.get("access_token") != ROBOT_TOKEN:
            return _json({"errcode": 300001, "errmsg": "token is not exist"})
        if not hmac.compare_digest(sign, base64.b64encode(digest).decode()):
            return _json({"errcode": 310000, "errmsg": "sign not match"})
        self.robot.append({"timestamp": int(timestamp), "body": request.get_json()})
        return _json({"errcode": 0, "errmsg": "ok"})


def dingtalk_settings(fake: FakeDingTalk, **extra) -> dict[str, Any]:
    return {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "aes_key": AES_KEY,
        "token": TOKEN,
        "robot_secret": ROBOT_SECRET,
        "robot_access_token": ROBOT_TOKEN,
        "agent_id": "2900001",
        "api_base": fake.base,
        "oapi_base": fake.base,
        "retry_backoff": 0,
        **extra,
    }
