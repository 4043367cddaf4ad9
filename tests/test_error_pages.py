"""Error pages (SPEC §2): styled, in both languages, with a way back; the API answers JSON.

pytest-django runs with DEBUG off, as production does: these are the pages users see.
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import BadRequest, PermissionDenied
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from config import error_views

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def page(response) -> str:
    return response.content.decode()


def test_debug_is_off_in_the_tests_as_in_production(settings):
    assert settings.DEBUG is False


@pytest.mark.parametrize(
    ("headers", "title", "explanation"),
    [
        (EN, "Bad request", "is not a quarter like 2025Q2"),
        (ZH, "请求有误", "不是形如 2025Q2 的季度"),
    ],
)
def test_a_bad_period_shows_the_styled_400_page_with_its_message(
    client, org, headers, title, explanation
):
    client.force_login(org.director)
    response = client.get("/?period=garbage", **headers)
    assert response.status_code == 400
    html = page(response)
    assert title in html
    assert explanation in html
    assert "garbage" in html
    assert 'class="card error-card"' in html
    assert f'href="{reverse("home")}"' in html


@pytest.mark.parametrize(
    ("headers", "title", "home"),
    [(EN, "Page not found", "Go to the dashboard"), (ZH, "页面不存在", "返回仪表盘")],
)
def test_an_unknown_address_shows_the_styled_404_page(client, org, headers, title, home):
    client.force_login(org.alice)
    response = client.get("/no/such/page/", **headers)
    assert response.status_code == 404
    html = page(response)
    assert title in html
    assert home in html
    assert "/no/such/page/" in html
    # The user's own navigation is there: the page extends the site's layout.
    assert 'class="topbar"' in html


def test_a_target_the_user_may_not_see_is_a_404_page_that_names_no_model(client, org):
    client.force_login(org.alice)
    response = client.get("/targets/999999/", **EN)
    assert response.status_code == 404
    assert "Page not found" in page(response)
    assert "matches the given query" not in page(response)


@pytest.mark.parametrize(
    ("headers", "title", "reason"),
    [(EN, "Not allowed", "You may not enter deals."), (ZH, "无权访问", "您无权录入商机。")],
)
def test_a_forbidden_page_shows_the_styled_403_page_with_the_reason(
    client, org, headers, title, reason
):
    client.force_login(org.finance)
    response = client.get(reverse("deals-new"), **headers)
    assert response.status_code == 403
    assert title in page(response)
    assert reason in page(response)


def test_the_way_back_offers_the_previous_page_of_this_site_only(client, org):
    client.force_login(org.alice)
    inside = client.get("/nope/", HTTP_REFERER="http://testserver/deals/", **EN)
    assert 'href="http://testserver/deals/"' in page(inside)
    assert "Back to the previous page" in page(inside)
    outside = client.get("/nope/", HTTP_REFERER="https://evil.example/", **EN)
    assert "evil.example" not in page(outside)
    assert "Back to the previous page" not in page(outside)


@pytest.mark.parametrize(
    ("language", "title", "sentence"),
    [("en", "Server error", "Something went wrong"), ("zh-hans", "服务器出错", "系统出了问题")],
)
def test_the_500_page_renders_without_the_database_or_a_request_context(
    django_assert_num_queries, language, title, sentence
):
    request = RequestFactory().get("/targets/1/")
    with translation.override(language), django_assert_num_queries(0):
        response = error_views.server_error(request)
    assert response.status_code == 500
    html = page(response)
    assert title in html
    assert sentence in html
    assert 'href="/"' in html
    assert f'lang="{language}"' in html


def test_the_csrf_failure_page_is_styled(client, org):
    csrf_client = type(client)(enforce_csrf_checks=True)
    response = csrf_client.post(reverse("login"), {"username": "x", "password": "y"}, **EN)
    assert response.status_code == 403
    assert "Form expired" in page(response)
    assert "error-card" in page(response)


# The API keeps answering JSON -----------------------------------------------------------


def test_an_unknown_api_address_answers_json_404(api, org):
    response = api(org.alice).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


@pytest.mark.parametrize(
    ("handler", "args", "status"),
    [
        (error_views.bad_request, (BadRequest("Bad period."),), 400),
        (error_views.permission_denied, (PermissionDenied("No."),), 403),
        (error_views.server_error, (), 500),
    ],
)
def test_error_handlers_answer_json_under_the_api(handler, args, status):
    response = handler(RequestFactory().get("/api/v1/targets/"), *args)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["detail"]


def test_an_unknown_host_gets_the_400_page_without_echoing_internals(client):
    response = client.get("/", HTTP_HOST="evil.example", **EN)
    assert response.status_code == 400
    html = page(response)
    assert "Bad request" in html
    assert "ALLOWED_HOSTS" not in html
