"""Per-user preferences: each notice, a daily digest instead, or nothing, per kind and
channel; the inbox always gets everything. The settings page in both languages."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from alerts.delivery import notification_preferences_save, preference_grid
from alerts.models import AlertKind, DeliveryAttempt, Notification, NotificationKind
from alerts.tasks import send_digests
from targets.errors import ValidationError
from tests.alerts.helpers import recompute, rep_target, set_actual

SHANGHAI = ZoneInfo("Asia/Shanghai")
RAISED = datetime(2025, 6, 30, 15, 0, tzinfo=SHANGHAI)
NEXT_MORNING = datetime(2025, 7, 1, 8, 0, tzinfo=SHANGHAI)


def _turn_red(owner):
    set_actual(owner, "900000")
    recompute()
    set_actual(owner, "100000")
    recompute()


@pytest.fixture
def target(org):
    return rep_target(org.alice)


def _raise_on_the_day(org, capture):
    with time_machine.travel(RAISED, tick=False), capture(execute=True):
        _turn_red(org.alice)


def test_by_default_each_notice_is_emailed_as_it_comes(
    org, target, django_capture_on_commit_callbacks
):
    _raise_on_the_day(org, django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "mgr_east@example.com"]


def test_a_digest_preference_holds_the_email_until_the_next_morning(
    org, target, django_capture_on_commit_callbacks
):
    org.alice.language = "en"
    org.alice.save(update_fields=["language"])
    notification_preferences_save(
        user=org.alice, modes={(AlertKind.STATUS_WORSE, "email"): "digest"}
    )
    _raise_on_the_day(org, django_capture_on_commit_callbacks)
    # The manager still gets it at once; alice only in her inbox.
    assert [m.to[0] for m in mail.outbox] == ["mgr_east@example.com"]
    assert Notification.objects.filter(recipient=org.alice).count() == 1
    mail.outbox.clear()
    with time_machine.travel(NEXT_MORNING, tick=False):
        assert send_digests.apply().get() == 1
    assert [m.to[0] for m in mail.outbox] == ["alice@example.com"]
    digest = mail.outbox[0]
    assert digest.subject == "TargetPilot: 1 notice of 2025-06-30"
    assert "went from" in digest.body
    assert "Alice" in digest.body and "/inbox/" in digest.body
    assert "/settings/notifications/" in digest.body
    logged = DeliveryAttempt.objects.get(recipient=org.alice)
    assert (logged.channel, logged.digest_day, logged.ok, logged.notification) == (
        "email",
        date(2025, 6, 30),
        True,
        None,
    )
    # Beat firing twice sends nothing more.
    with time_machine.travel(NEXT_MORNING, tick=False):
        assert send_digests.apply().get() == 0
    assert len(mail.outbox) == 1


def test_a_digest_gathers_every_notice_of_the_day_in_the_readers_language(
    org, target, django_capture_on_commit_callbacks
):
    org.alice.language = "zh-hans"
    org.alice.save(update_fields=["language"])
    notification_preferences_save(
        user=org.alice,
        modes={
            (AlertKind.STATUS_WORSE, "email"): "digest",
            (NotificationKind.PROPOSAL_APPROVED, "email"): "digest",
        },
    )
    _raise_on_the_day(org, django_capture_on_commit_callbacks)
    from alerts.services import notify

    with time_machine.travel(RAISED, tick=False), django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[org.alice], kind=NotificationKind.PROPOSAL_APPROVED, target=target)
    mail.outbox.clear()
    with time_machine.travel(NEXT_MORNING, tick=False):
        send_digests.apply()
    (digest,) = mail.outbox
    assert "2025-06-30" in digest.subject
    assert "红色预警" in digest.body
    assert "目标调整建议已批准" in digest.body
    assert "Adjustment proposal approved" not in digest.body
    assert digest.body.count("/targets/") == 2


def test_off_means_inbox_only(org, target, django_capture_on_commit_callbacks):
    notification_preferences_save(user=org.alice, modes={(AlertKind.STATUS_WORSE, "email"): "off"})
    _raise_on_the_day(org, django_capture_on_commit_callbacks)
    assert [m.to[0] for m in mail.outbox] == ["mgr_east@example.com"]
    assert Notification.objects.filter(recipient=org.alice).count() == 1
    with time_machine.travel(NEXT_MORNING, tick=False):
        assert send_digests.apply().get() == 0


def test_unknown_kinds_channels_or_modes_are_refused_whole(org):
    notification_preferences_save(user=org.alice, modes={(AlertKind.STATUS_WORSE, "email"): "off"})
    for modes in (
        {("nonsense", "email"): "off"},
        {(AlertKind.STATUS_WORSE, "carrier-pigeon"): "off"},
        {(AlertKind.STATUS_WORSE, "email"): "hourly"},
        {(AlertKind.SYNC_FAILED, "email"): "digest", (AlertKind.STATUS_WORSE, "email"): "x"},
    ):
        with pytest.raises(ValidationError):
            notification_preferences_save(user=org.alice, modes=modes)
    grid = {row["topic"]: row["cells"][0]["mode"] for row in preference_grid(org.alice)}
    assert grid[AlertKind.STATUS_WORSE] == "off"
    assert grid[AlertKind.SYNC_FAILED] == "each"


# The settings page ---------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_settings_page_shows_every_kind_and_saves(
    client, org, language, django_assert_max_num_queries
):
    client.force_login(org.alice)
    client.cookies["django_language"] = language
    with django_assert_max_num_queries(12):
        page = client.get("/settings/notifications/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="status_worse__email"' in html
    assert 'name="proposal_submitted__email"' in html
    assert ("每日汇总" if language == "zh-hans" else "Daily digest") in html
    saved = client.post(
        "/settings/notifications/",
        {"status_worse__email": "digest", "sync_failed__email": "off"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert saved.status_code == 302
    grid = {row["topic"]: row["cells"][0]["mode"] for row in preference_grid(org.alice)}
    assert grid["status_worse"] == "digest" and grid["sync_failed"] == "off"


def test_a_bad_mode_on_the_settings_page_is_a_form_error_and_saves_nothing(client, org):
    client.force_login(org.alice)
    page = client.post(
        "/settings/notifications/", {"status_worse__email": "digest", "sync_failed__email": "?"}
    )
    assert page.status_code == 400
    assert 'role="alert"' in page.content.decode()
    grid = {row["topic"]: row["cells"][0]["mode"] for row in preference_grid(org.alice)}
    assert grid["status_worse"] == "each"


def test_the_settings_page_needs_a_login_and_allows_get_and_post_only(client, org):
    assert client.get("/settings/notifications/").status_code == 302
    client.force_login(org.alice)
    assert client.put("/settings/notifications/").status_code == 405


def test_the_header_links_to_the_settings(client, org):
    client.force_login(org.alice)
    assert 'href="/settings/notifications/"' in client.get("/inbox/").content.decode()


def test_saving_some_preferences_keeps_the_others(org):
    notification_preferences_save(user=org.alice, modes={(AlertKind.STATUS_WORSE, "email"): "off"})
    notification_preferences_save(
        user=org.alice, modes={(AlertKind.SYNC_FAILED, "email"): "digest"}
    )
    notification_preferences_save(user=org.alice, modes={(AlertKind.SYNC_FAILED, "email"): "each"})
    grid = {row["topic"]: row["cells"][0]["mode"] for row in preference_grid(org.alice)}
    assert (grid["status_worse"], grid["sync_failed"]) == ("off", "each")


# The API -------------------------------------------------------------------------------


def test_the_api_reads_and_sets_ones_own_preferences(api, org):
    client = api(org.alice)
    read = client.get("/api/v1/me/notification-preferences/")
    assert read.status_code == 200
    rows = {(p["topic"], p["channel"]): p for p in read.json()["preferences"]}
    assert rows[("status_worse", "email")]["mode"] == "each"
    assert rows[("status_worse", "email")]["modes"] == ["each", "digest", "off"]
    put = client.put(
        "/api/v1/me/notification-preferences/",
        {"preferences": [{"topic": "status_worse", "channel": "email", "mode": "digest"}]},
        format="json",
    )
    assert put.status_code == 200
    rows = {(p["topic"], p["channel"]): p["mode"] for p in put.json()["preferences"]}
    assert rows[("status_worse", "email")] == "digest"
    # Nobody else's changed.
    bob = {
        (p["topic"], p["channel"]): p["mode"]
        for p in api(org.bob).get("/api/v1/me/notification-preferences/").json()["preferences"]
    }
    assert bob[("status_worse", "email")] == "each"


@pytest.mark.parametrize(
    "body",
    [
        {"preferences": [{"topic": "nope", "channel": "email", "mode": "off"}]},
        {"preferences": [{"topic": "status_worse", "channel": "email", "mode": "hourly"}]},
        {"preferences": [{"topic": "status_worse"}]},
        {"preferences": "all"},
        {},
    ],
)
def test_bad_preferences_are_a_400_with_field_messages(api, org, body):
    answer = api(org.alice).put("/api/v1/me/notification-preferences/", body, format="json")
    assert answer.status_code == 400
    assert "preferences" in answer.json()


def test_the_preferences_api_needs_a_login_and_takes_get_and_put_only(api, org):
    assert api(None).get("/api/v1/me/notification-preferences/").status_code in (401, 403)
    assert api(org.alice).post("/api/v1/me/notification-preferences/", {}).status_code == 405
