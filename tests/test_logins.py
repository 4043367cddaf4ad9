"""Logins (SPEC §2): a username is locked for 15 minutes after 10 failures; tokens are throttled."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
TOKEN = "/api/v1/auth/token/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def log_in(client, password: str, username: str = "alice", **headers):
    return client.post(LOGIN, {"username": username, "password": password}, **headers)


def get_token(client, password: str, username: str = "alice", **extra):
    return client.post(
        TOKEN,
        {"username": username, "password": password},
        content_type="application/json",
        **extra,
    )


def test_the_right_password_logs_in(client, org):
    response = log_in(client, "password")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_nine_failures_do_not_lock_the_username(client, org):
    for _ in range(9):
        assert log_in(client, "wrong").status_code == 200
    assert log_in(client, "password").status_code == 302


@pytest.mark.parametrize(
    ("headers", "title", "sentence"),
    [
        (EN, "Login locked", "After 10 failed logins, this username is locked"),
        (ZH, "登录已锁定", "登录失败 10 次后，该用户名已被暂时锁定"),
    ],
)
def test_ten_failures_lock_the_username_even_against_the_right_password(
    client, org, headers, title, sentence
):
    for _ in range(9):
        assert log_in(client, "wrong", **headers).status_code == 200
    tenth = log_in(client, "wrong", **headers)
    assert tenth.status_code == 429
    response = log_in(client, "password", **headers)
    assert response.status_code == 429
    html = response.content.decode()
    assert title in html
    assert sentence in html
    assert f'href="{LOGIN}"' in html
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_username_not_per_browser(client, org):
    for _ in range(10):
        log_in(client, "wrong")
    assert log_in(client, "password", username="bob").status_code == 302


def test_the_lock_ends_after_15_minutes(client, org):
    for _ in range(10):
        log_in(client, "wrong")
    with time_machine.travel(timezone.now() + timedelta(minutes=14), tick=False):
        assert log_in(client, "password").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        assert log_in(client, "password").status_code == 302


def test_a_locked_username_gets_no_token_and_hears_why(client, org):
    for _ in range(10):
        get_token(client, "wrong")
    response = get_token(client, "password", **EN)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert "locked for 15 minutes" in response.json()["detail"]
    zh = get_token(client, "password", **ZH)
    assert "已锁定 15 分钟" in zh.json()["detail"]


def test_failures_on_the_token_endpoint_lock_the_login_page_too(client, org):
    for _ in range(10):
        get_token(client, "wrong")
    assert log_in(client, "password").status_code == 429


def test_forced_logins_of_the_tests_are_not_counted(client, org):
    client.force_login(org.alice)
    assert client.get(reverse("home")).status_code == 200


@pytest.fixture
def own_address():
    """A client address of its own: the throttle's counts live in the cache, not the database."""
    address = "203.0.113.77"
    yield {"REMOTE_ADDR": address}
    cache.delete_many([f"throttle_auth-token_{address}"])


def test_the_token_endpoint_answers_429_json_past_20_requests_a_minute(client, org, own_address):
    # Many usernames: the per-username lock must not be what stops them.
    for n in range(20):
        assert get_token(client, "wrong", username=f"nobody{n}", **own_address).status_code == 400
    response = get_token(client, "password", **own_address, **EN)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert "throttled" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    # Another address is not held back.
    assert get_token(client, "password", REMOTE_ADDR="203.0.113.78").status_code == 200
    cache.delete("throttle_auth-token_203.0.113.78")


def test_the_throttle_clears_after_a_minute(client, org, own_address):
    for n in range(20):
        get_token(client, "wrong", username=f"nobody{n}", **own_address)
    assert get_token(client, "password", **own_address).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        assert get_token(client, "password", **own_address).status_code == 200
