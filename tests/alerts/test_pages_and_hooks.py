from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from alerts.models import Alert, AlertKind, Notification
from reviews.deviations import case_open
from targets import services
from targets.models import FigureSnapshot
from tests.alerts.helpers import recompute, rep_target, set_actual
from tests.factories import DealFactory


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alert(org):
    rep_target(org.alice)
    set_actual(org.alice, "900000")
    recompute()
    set_actual(org.alice, "100000")
    recompute()
    return Alert.objects.get()


def test_the_header_badge_counts_unread_notices(org, alert):
    html = _client(org.alice).get("/inbox/badge/").content.decode()
    assert 'data-testid="unread-count"' in html and ">1</span>" in html
    html = _client(org.bob).get("/inbox/badge/").content.decode()
    assert "unread-count" not in html


def test_every_page_loads_the_badge_with_htmx(org):
    html = _client(org.alice).get("/inbox/").content.decode()
    assert 'hx-get="/inbox/badge/"' in html


def test_the_inbox_lists_alerts_and_acknowledging_there_works(org, alert):
    client = _client(org.mgr_east)
    page = client.get("/inbox/").content.decode()
    assert page.count('data-testid="notice"') == 1
    assert f"/alerts/{alert.pk}/acknowledge/" in page
    client.post(f"/alerts/{alert.pk}/acknowledge/")
    alert.refresh_from_db()
    assert (alert.state, alert.acknowledged_by) == ("acknowledged", org.mgr_east)
    # A second click tells, rather than failing.
    response = client.post(f"/alerts/{alert.pk}/acknowledge/", follow=True)
    assert response.status_code == 200
    client.post(f"/alerts/{alert.pk}/resolve/")
    alert.refresh_from_db()
    assert alert.state == "resolved"


def test_marking_read_clears_the_badge_for_that_person_only(org, alert):
    notice = Notification.objects.get(recipient=org.alice)
    _client(org.alice).post(f"/inbox/{notice.pk}/read/")
    notice.refresh_from_db()
    assert notice.read_at is not None
    # Another's notice is not touched by someone else's click.
    other = Notification.objects.get(recipient=org.mgr_east)
    _client(org.alice).post(f"/inbox/{other.pk}/read/")
    other.refresh_from_db()
    assert other.read_at is None
    _client(org.mgr_east).post("/inbox/read/")
    other.refresh_from_db()
    assert other.read_at is not None


def test_outsiders_get_404_and_wrong_methods_405(org, alert):
    assert _client(org.dave).post(f"/alerts/{alert.pk}/acknowledge/").status_code == 404
    assert _client(org.dave).post(f"/alerts/{alert.pk}/resolve/").status_code == 404
    assert _client(org.alice).get(f"/alerts/{alert.pk}/acknowledge/").status_code == 405
    assert _client(org.alice).post("/inbox/").status_code == 405
    assert Client().get("/inbox/").status_code == 302


def test_an_adjustment_case_opening_raises_a_case_alert_for_the_owner(org):
    target = rep_target(org.alice)
    case = case_open(target=target, indicator="revenue_pace", week="2025-W20", weeks=[])
    alert = Alert.objects.get(kind=AlertKind.CASE_OPENED)
    assert (alert.target, alert.details["case"]) == (target, case.pk)
    assert Notification.objects.filter(alert=alert, recipient=org.alice).exists()


def test_the_status_filter_reads_stored_figures_of_today(org, api, in_may_2025):
    red = rep_target(org.alice)
    green = rep_target(org.bob, base="100")
    DealFactory(owner=org.bob, amount=Decimal("1000"), close_date=date(2025, 5, 10))
    recompute(as_of=date(2025, 5, 20))
    assert FigureSnapshot.objects.count() == 2
    client = api(org.admin)
    assert [t["id"] for t in client.get("/api/v1/targets/?status=red").json()["results"]] == [
        red.pk
    ]
    assert [t["id"] for t in client.get("/api/v1/targets/?status=green").json()["results"]] == [
        green.pk
    ]


def test_a_confirmation_recomputes_the_stored_figures(
    org, in_may_2025, django_capture_on_commit_callbacks
):
    target = rep_target(org.alice, base="100")
    recompute(as_of=date(2025, 5, 20))
    assert FigureSnapshot.objects.get(target=target).status == "red"
    deal = services.deal_create_manual(
        author=org.alice,
        owner=org.alice,
        account="手工客户",
        amount=Decimal("1000"),
        close_date=date(2025, 5, 10),
        external_id="",
        today=date(2025, 5, 20),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.deal_confirm(deal=deal, confirmed_by=org.mgr_east)
    assert FigureSnapshot.objects.get(target=target).status == "green"


def test_the_status_filter_answers_from_the_stored_row_not_a_recompute(org, api, in_may_2025):
    target = rep_target(org.alice)
    recompute(as_of=date(2025, 5, 20))
    FigureSnapshot.objects.filter(target=target).update(status="yellow")
    client = api(org.admin)
    assert client.get("/api/v1/targets/?status=yellow").json()["count"] == 1
    # A target changed since the store is not trusted: computed again.
    with time_machine.travel(datetime(2025, 5, 20, 13, tzinfo=ZoneInfo("Asia/Shanghai"))):
        services.target_revise(
            target=target,
            base=Decimal("2000000"),
            stretch=Decimal("3000000"),
            reason="市场变化",
            decided_by=org.hrbp,
        )
        assert client.get("/api/v1/targets/?status=yellow").json()["count"] == 0
        assert client.get("/api/v1/targets/?status=red").json()["count"] == 1
