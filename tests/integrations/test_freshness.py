"""Data freshness on every dashboard (issue 7 §1): "Salesforce: 3 min ago · ERP: failed 2 h
ago", in both languages, red when failed or over 24 h old, at most one statement more."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from integrations.freshness import ago, data_freshness
from integrations.models import Connection, RunKind, SyncRun
from integrations.services import connection_save, run_finish, run_start

pytestmark = pytest.mark.django_db


def connections(now):
    sf = connection_save(kind="salesforce", name="Salesforce", settings={})
    erp = connection_save(kind="erp", name="ERP", settings={})
    old = connection_save(kind="webhook", name="Shop", settings={})
    connection_save(kind="erp", name="Off", settings={}, enabled=False)
    connection_save(kind="dingtalk", name="DingTalk", settings={})
    Connection.objects.filter(pk=sf.pk).update(last_success_at=now - timedelta(minutes=3))
    Connection.objects.filter(pk=old.pk).update(last_success_at=now - timedelta(days=3))
    with time_machine.travel(now - timedelta(hours=2), tick=False):
        run = run_start(kind=RunKind.SYNC, source="erp", connection=erp)
        run_finish(run=run, fetched=0, failed=0, error="503 Service Unavailable")
    return sf, erp, old


def test_each_enabled_data_connection_says_how_old_its_data_is():
    now = timezone.now()
    connections(now)
    with translation.override("en"):
        items = {f.name: f for f in data_freshness(now=now)}
    assert list(items) == ["ERP", "Salesforce", "Shop"]  # no disabled, no DingTalk
    assert (items["Salesforce"].text, items["Salesforce"].alarming) == ("3 min ago", False)
    assert (items["ERP"].text, items["ERP"].failed) == ("failed 2 h ago", True)
    assert (items["Shop"].text, items["Shop"].stale) == ("3 days ago", True)


def test_the_words_are_chinese_in_chinese():
    now = timezone.now()
    connections(now)
    with translation.override("zh-hans"):
        items = {f.name: f.text for f in data_freshness(now=now)}
    assert items == {"ERP": "2 小时前失败", "Salesforce": "3 分钟前", "Shop": "3 天前"}


def test_ages_read_in_minutes_hours_and_days():
    now = timezone.now()
    with translation.override("en"):
        assert ago(now - timedelta(seconds=20), now) == "just now"
        assert ago(now - timedelta(minutes=59), now) == "59 min ago"
        assert ago(now - timedelta(hours=47), now) == "47 h ago"
        assert ago(now - timedelta(days=1, hours=23, minutes=59), now) == "47 h ago"
        assert ago(now - timedelta(days=9), now) == "9 days ago"


def test_a_success_after_a_failure_clears_it():
    now = timezone.now()
    _sf, erp, _old = connections(now)
    run = run_start(kind=RunKind.SYNC, source="erp", connection=erp)
    run_finish(run=run, fetched=1, failed=0)
    item = {f.name: f for f in data_freshness()}["ERP"]
    assert (item.failed, item.stale) == (False, False)


@pytest.mark.parametrize(
    ("language", "fresh", "failed"),
    [
        ("en", "Salesforce</a>: 3 min ago", "failed 2 h ago"),
        ("zh-hans", "3 分钟前", "2 小时前失败"),
    ],
)
def test_the_dashboard_shows_it_with_a_link_for_admins(client, org, language, fresh, failed):
    now = timezone.now()
    _sf, erp, _old = connections(now)
    client.force_login(org.admin)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert 'data-testid="data-freshness"' in page
    assert fresh in page and failed in page
    assert reverse("admin:integrations_connection_change", args=[erp.pk]) in page
    assert "is-alarming" in page


def test_others_see_it_without_the_admin_link(client, org):
    connections(timezone.now())
    client.force_login(org.mgr_east)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Salesforce: 3 min ago" in page
    assert "/admin/" not in page.split('data-testid="data-freshness"')[1].split("</p>")[0]


def test_without_connections_nothing_is_shown(client, org):
    client.force_login(org.director)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="data-freshness"' not in page


def test_it_costs_the_dashboard_at_most_one_statement(client, org, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(org.director)
    client.get(reverse("home"))  # warm the session and caches
    with CaptureQueriesContext(connection) as without:
        client.get(reverse("home"))
    connections(timezone.now())
    with django_assert_max_num_queries(len(without.captured_queries) + 1):
        response = client.get(reverse("home"))
    assert 'data-testid="data-freshness"' in response.content.decode()


def test_pages_that_do_not_show_it_do_not_read_it(client, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connections(timezone.now())
    client.force_login(org.director)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("deals"))
    assert not any("integrations_connection" in q["sql"] for q in queries.captured_queries)


def test_the_target_page_shows_it_too(client, org):
    from decimal import Decimal

    from targets.services import target_create

    target = target_create(
        period="2025Q2",
        measure="revenue",
        owner_unit=org.east,
        owner_user=None,
        base=Decimal(1),
        stretch=Decimal(2),
        created_by=org.director,
    )
    connections(timezone.now())
    client.force_login(org.director)
    page = client.get(reverse("target-page", args=[target.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Salesforce: 3 min ago" in page.content.decode()


def test_a_run_log_row_keeps_the_failure_time():
    now = timezone.now()
    _sf, erp, _old = connections(now)
    assert SyncRun.objects.get(connection=erp).error


def test_it_is_read_once_per_request_however_often_a_page_shows_it(
    rf, org, django_assert_num_queries
):
    from django.template import engines

    from integrations.freshness import freshness_context

    connections(timezone.now())
    request = rf.get("/")
    request.user = org.director
    template = engines["django"].from_string(
        "{% for f in data_freshness %}{{ f.name }}{% endfor %}"
        "{% if data_freshness %}{{ data_freshness|length }}{% endif %}"
    )
    with django_assert_num_queries(1):
        first = template.render(freshness_context(request))
        second = template.render(freshness_context(request))
    assert first == second == "ERPSalesforceShop3"
