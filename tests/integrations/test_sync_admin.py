"""The connection's admin page: "Test connection" and "Sync now" through the same services."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from integrations.models import SyncRun
from integrations.runs import run_claim
from targets.models import Deal
from tests.integrations.fake_salesforce import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Run logs are written in the worker's language; these tests read them in English."""
    with translation.override("en"):
        yield


@pytest.fixture
def admin_client(client, org):
    client.force_login(org.admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def change_page(connection) -> str:
    return reverse("admin:integrations_connection_change", args=[connection.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_change_page_offers_test_and_sync(
    admin_client, sf_connection, django_assert_max_num_queries
):
    with django_assert_max_num_queries(25):
        response = admin_client.get(change_page(sf_connection))
    html = response.content.decode()
    assert reverse("admin:integrations_connection_test", args=[sf_connection.pk]) in html
    assert reverse("admin:integrations_connection_sync", args=[sf_connection.pk]) in html


def test_testing_a_connection_shows_the_outcome(admin_client, salesforce, sf_connection):
    url = reverse("admin:integrations_connection_test", args=[sf_connection.pk])
    response = admin_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == change_page(sf_connection)
    assert any("Connected" in m for m in messages_of(response))
    salesforce.client_secret = "rotated"
    salesforce.expire_tokens()
    response = admin_client.post(url, follow=True)
    assert any("invalid client credentials" in m for m in messages_of(response))
    assert admin_client.get(url).status_code == 405


def test_sync_now_runs_the_connection_and_says_so(
    admin_client, salesforce, sf_connection, django_capture_on_commit_callbacks
):
    salesforce.add(stamp=at(0))
    url = reverse("admin:integrations_connection_sync", args=[sf_connection.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, follow=True)
    run = SyncRun.objects.get()
    assert any(f"run {run.pk}" in m for m in messages_of(response))
    assert (run.created, Deal.objects.count()) == (1, 1)


def test_sync_now_while_a_run_holds_the_connection_says_it_is_busy(admin_client, sf_connection):
    run_claim(connection=sf_connection)
    url = reverse("admin:integrations_connection_sync", args=[sf_connection.pk])
    response = admin_client.post(url, follow=True)
    assert any("running" in m for m in messages_of(response))
    assert SyncRun.objects.count() == 1


def test_the_buttons_are_for_administrators_only(client, org, sf_connection):
    client.force_login(org.director)
    for name in ("test", "sync"):
        url = reverse(f"admin:integrations_connection_{name}", args=[sf_connection.pk])
        response = client.post(url)
        assert response.status_code in (302, 403)
        assert "/login/" in response.get("Location", "/login/") or response.status_code == 403
    assert not SyncRun.objects.exists()


def test_the_buttons_speak_chinese(admin_client, sf_connection):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    html = admin_client.get(change_page(sf_connection)).content.decode()
    assert "检验连接" in html and "立即同步" in html


def test_a_second_salesforce_connection_on_one_source_is_a_form_error(admin_client, sf_connection):
    from integrations.models import Connection

    response = admin_client.post(
        reverse("admin:integrations_connection_add"),
        {
            "kind": "salesforce",
            "name": "Another org",
            "source": sf_connection.source,
            "enabled": "on",
            "schedule_minutes": 15,
            "settings": "{}",
            "new_secrets": "",
        },
    )
    assert response.status_code == 200
    assert (
        "A full resync of either would remove the deals of the other" in response.content.decode()
    )
    assert Connection.objects.count() == 1
