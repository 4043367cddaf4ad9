from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from alerts.models import Alert
from tests.alerts.helpers import recompute, rep_target, set_actual

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _turn_red(owner):
    set_actual(owner, "900000")
    recompute()
    set_actual(owner, "100000")
    recompute()


@pytest.fixture
def alert(org):
    rep_target(org.alice)
    _turn_red(org.alice)
    return Alert.objects.get()


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("alice", True),
        ("bob", False),
        ("carol", False),
        ("dave", False),
        ("mgr_east", True),
        ("hrbp", True),
        ("director", True),
        ("admin", True),
    ],
)
def test_the_alert_list_is_scoped_to_what_each_person_may_see(org, api, alert, persona, sees):
    response = api(getattr(org, persona)).get("/api/v1/alerts/")
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == ([alert.pk] if sees else [])


def test_an_alert_reads_as_the_contract_names_it(org, api, alert):
    [row] = api(org.alice).get("/api/v1/alerts/").json()["results"]
    assert {"kind", "target", "metric", "state", "created_at", "acknowledged_at", "message"} <= (
        set(row)
    )
    assert (row["kind"], row["state"], row["metric"]) == ("status_worse", "open", None)


def test_the_list_needs_a_login(org, api, alert):
    assert api(None).get("/api/v1/alerts/").status_code in (401, 403)


def test_acknowledging_twice_answers_409(org, api, alert):
    client = api(org.mgr_east)
    first = client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    assert first.status_code == 200
    assert first.json()["state"] == "acknowledged"
    assert client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 409


def test_resolving_then_resolving_again_answers_409(org, api, alert):
    client = api(org.alice)
    assert client.post(f"/api/v1/alerts/{alert.pk}/resolve/").json()["state"] == "resolved"
    assert client.post(f"/api/v1/alerts/{alert.pk}/resolve/").status_code == 409
    assert client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 409


@pytest.mark.parametrize("persona", ["bob", "carol", "dave"])
@pytest.mark.parametrize("verb", ["acknowledge", "resolve"])
def test_someone_elses_alert_is_not_found(org, api, alert, persona, verb):
    response = api(getattr(org, persona)).post(f"/api/v1/alerts/{alert.pk}/{verb}/")
    assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.state == "open"


def test_actions_take_post_only(org, api, alert):
    assert api(org.alice).get(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 405
    assert api(org.alice).delete(f"/api/v1/alerts/{alert.pk}/").status_code == 405


def test_the_summary_counts_states_and_the_same_day_share_in_company_time(org, api):
    rep_target(org.alice)
    rep_target(org.carol)
    # Raised 23:00 on 10 June in Shanghai (15:00 UTC).
    with time_machine.travel(datetime(2025, 6, 10, 23, tzinfo=SHANGHAI), tick=False):
        _turn_red(org.alice)
        _turn_red(org.carol)
    alice_alert = Alert.objects.get(target__owner_user=org.alice)
    carol_alert = Alert.objects.get(target__owner_user=org.carol)
    client = api(org.mgr_east)
    # 23:30 the same evening: the same day in company time.
    with time_machine.travel(datetime(2025, 6, 10, 23, 30, tzinfo=SHANGHAI), tick=False):
        client.post(f"/api/v1/alerts/{alice_alert.pk}/acknowledge/")
    # 00:30 the next day in Shanghai, still 10 June in UTC: not the same day.
    with time_machine.travel(datetime(2025, 6, 11, 0, 30, tzinfo=SHANGHAI), tick=False):
        client.post(f"/api/v1/alerts/{carol_alert.pk}/acknowledge/")
        client.post(f"/api/v1/alerts/{carol_alert.pk}/resolve/")
    body = client.get("/api/v1/alerts/summary/?period=2025Q2").json()
    assert body == {
        "period": "2025Q2",
        "open": 0,
        "acknowledged": 1,
        "resolved": 1,
        "same_day_share": "50.0",
    }
    # A rep's summary covers only their own.
    mine = api(org.alice).get("/api/v1/alerts/summary/?period=2025Q2").json()
    assert (mine["acknowledged"], mine["resolved"], mine["same_day_share"]) == (1, 0, "100.0")
    # Another quarter has none: no share rather than a division by zero.
    assert (
        api(org.alice).get("/api/v1/alerts/summary/?period=2025Q3").json()["same_day_share"] is None
    )


def test_a_summary_of_a_bad_period_is_a_400(org, api):
    response = api(org.alice).get("/api/v1/alerts/summary/?period=2025Q9")
    assert response.status_code == 400
    assert "period" in response.json()
