"""The DingTalk client against a stand-in speaking DingTalk's formats: token, retries,
work notices, the signed robot and its 20-a-minute limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from integrations.dingtalk.client import DingTalkClient, DingTalkError, robot_sign
from integrations.models import ConnectionKind
from integrations.services import connection_save
from tests.integrations.dingtalk_fake import APP_KEY, FakeDingTalk, dingtalk_settings

pytestmark = pytest.mark.django_db
NOTICE = "/topapi/message/corpconversation/asyncsend_v2"


def test_the_token_is_fetched_once_and_reused_until_shortly_before_it_expires(dingtalk):
    start = datetime(2025, 5, 20, 9, tzinfo=ZoneInfo("UTC"))
    text = {"msgtype": "text", "text": {"content": "x"}}
    with time_machine.travel(start, tick=False) as clock:
        DingTalkClient(dingtalk.connection).work_notice_send(userids=["u1"], msg=text)
        clock.shift(7200 - 301)
        DingTalkClient(dingtalk.connection).work_notice_send(userids=["u1"], msg=text)
        assert dingtalk.requests_to("/v1.0/oauth2/accessToken") == 1
        # Five minutes before DingTalk's 7,200 s run out, a new one is fetched.
        clock.shift(2)
        DingTalkClient(dingtalk.connection).work_notice_send(userids=["u1"], msg=text)
    assert dingtalk.requests_to("/v1.0/oauth2/accessToken") == 2
    assert len(dingtalk.notices) == 3


def test_a_token_dingtalk_no_longer_accepts_is_replaced_once(dingtalk):
    client = DingTalkClient(dingtalk.connection)
    client.work_notice_send(userids=["u1"], msg={"msgtype": "text", "text": {"content": "a"}})
    dingtalk.revoke_tokens()
    client.work_notice_send(userids=["u1"], msg={"msgtype": "text", "text": {"content": "b"}})
    client.approval_create(process_code="P", originator_userid="u1", form=[("a", "b")])
    assert dingtalk.tokens[-1] == "token-2"
    assert dingtalk.requests_to("/v1.0/oauth2/accessToken") == 2
    assert len(dingtalk.notices) == 2 and len(dingtalk.created) == 1


def test_wrong_app_credentials_are_a_permanent_error(dingtalk, httpserver):
    connection = connection_save(
        kind=ConnectionKind.DINGTALK,
        name="wrong",
        settings=dingtalk_settings(dingtalk, app_secret="nope"),
    )
    with pytest.raises(DingTalkError) as error:
        DingTalkClient(connection).access_token()
    assert error.value.permanent


def test_server_errors_are_retried_a_bounded_number_of_times(dingtalk):
    dingtalk.fail_next = [500, 503]
    client = DingTalkClient(dingtalk.connection)
    assert client.access_token() == "token-1"
    dingtalk.fail_next = [500, 502, 503, 500]
    with pytest.raises(DingTalkError) as error:
        client.access_token(fresh=True)
    assert not error.value.permanent and error.value.status == 503
    assert dingtalk.requests_to("/v1.0/oauth2/accessToken") == 6


def test_a_work_notice_goes_to_the_app_agent_with_the_users_and_message(dingtalk):
    msg = {"msgtype": "markdown", "markdown": {"title": "标题", "text": "### 标题\n\n正文"}}
    task_id = DingTalkClient(dingtalk.connection).work_notice_send(userids=["u1", "u2"], msg=msg)
    assert task_id == "256271667526"
    assert dingtalk.notices == [{"agent_id": 2900001, "userid_list": "u1,u2", "msg": msg}]
    request = next(r for r, _ in dingtalk.server.log if r.path == NOTICE)
    assert request.args["access_token"] == "token-1"


def test_the_robot_signs_as_dingtalk_documents():
    # sign = urlencode(base64(HMAC-SHA256(secret, timestamp + "\n" + secret)))
    secret, timestamp = "SECxyz", "1700000000000"
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    expected = urllib.parse.quote_plus(base64.b64encode(digest.digest()).decode())
    assert robot_sign(secret=secret, timestamp=timestamp) == expected


def test_the_robot_posts_a_signed_message_dingtalk_accepts(dingtalk):
    msg = {"msgtype": "markdown", "markdown": {"title": "t", "text": "x"}}
    DingTalkClient(dingtalk.connection).robot_send(msg)
    assert [sent["body"] for sent in dingtalk.robot] == [msg]


def test_a_robot_with_the_wrong_secret_is_refused(dingtalk):
    connection = connection_save(
        kind=ConnectionKind.DINGTALK,
        name="wrong robot",
        settings=dingtalk_settings(dingtalk, robot_secret="SECwrong"),
    )
    with pytest.raises(DingTalkError, match="310000"):
        DingTalkClient(connection).robot_send({"msgtype": "text", "text": {"content": "x"}})
    assert dingtalk.robot == []


def test_a_robot_500_raises_after_the_retries(dingtalk):
    dingtalk.fail_next = [500, 500, 500]
    with pytest.raises(DingTalkError) as error:
        DingTalkClient(dingtalk.connection).robot_send(
            {"msgtype": "text", "text": {"content": "x"}}
        )
    assert not error.value.permanent
    assert dingtalk.robot == []


def test_the_robot_sends_at_most_20_a_minute_and_waits_for_the_21st(dingtalk):
    start = datetime(2025, 5, 20, 9, tzinfo=ZoneInfo("UTC"))
    waits: list[float] = []
    with time_machine.travel(start, tick=False) as clock:

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            clock.shift(seconds)

        client = DingTalkClient(dingtalk.connection, sleep=sleep)
        for n in range(25):
            client.robot_send({"msgtype": "text", "text": {"content": str(n)}})
            if n < 19:
                clock.shift(1)
    assert [m["body"]["text"]["content"] for m in dingtalk.robot] == [str(n) for n in range(25)]
    # Sent at 0 … 19 s; the 21st waits until the first is a minute old, then one a second.
    assert waits == pytest.approx([41, 1, 1, 1, 1])
    times = [m["timestamp"] / 1000 for m in dingtalk.robot]
    for i in range(len(times) - 20):
        assert times[i + 20] - times[i] >= 60


def test_two_connections_have_a_limit_each(dingtalk):
    other = connection_save(
        kind=ConnectionKind.DINGTALK, name="other", settings=dingtalk_settings(dingtalk)
    )
    with time_machine.travel(datetime(2025, 5, 20, 9, tzinfo=ZoneInfo("UTC")), tick=False):
        for connection in (dingtalk.connection, other):
            client = DingTalkClient(connection, sleep=lambda s: pytest.fail("waited"))
            for _ in range(20):
                client.robot_send({"msgtype": "text", "text": {"content": "x"}})
    assert len(dingtalk.robot) == 40


def test_users_are_read_page_by_page(dingtalk):
    dingtalk.users[1] = [{"userid": f"u{n}", "name": f"人{n}"} for n in range(250)]
    users = list(DingTalkClient(dingtalk.connection).users_in(1))
    assert [u["userid"] for u in users] == [f"u{n}" for n in range(250)]
    assert dingtalk.requests_to("/topapi/v2/user/list") == 3


def test_an_unknown_connection_setting_leaves_the_real_dingtalk_as_default(dingtalk):
    connection = connection_save(
        kind=ConnectionKind.DINGTALK, name="plain", settings={"app_key": APP_KEY}
    )
    client = DingTalkClient(connection)
    assert (client.api_base, client.oapi_base) == (
        "https://api.dingtalk.com",
        "https://oapi.dingtalk.com",
    )
    assert isinstance(dingtalk, FakeDingTalk)
