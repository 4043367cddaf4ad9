"""The demo company's alerts: one in every state, the same-day share moved, idempotent."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings

from alerts.demo import demo_alerts_seed
from alerts.models import Alert, AlertState, Notification
from alerts.selectors import alert_summary
from targets.demo import demo_company_seed
from targets.periods import Quarter

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=hashers),
        time_machine.travel(NOW, tick=False),
        transaction.atomic(),
    ):
        demo_company_seed(today=TODAY)
        yield demo_alerts_seed(today=TODAY)
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_demo_has_alerts_in_every_state_with_notices(demo):
    assert demo.created == 5
    states = sorted(Alert.objects.values_list("state", flat=True))
    assert states.count(AlertState.OPEN) == 2
    assert states.count(AlertState.ACKNOWLEDGED) == 2
    assert states.count(AlertState.RESOLVED) == 1
    assert Notification.objects.filter(alert__isnull=False).count() >= 5
    # One acknowledged the day it was raised, one the next day; the resolved one the same day.
    summary = alert_summary(alerts=Alert.objects.all(), quarter=Quarter.of(TODAY))
    assert summary.same_day_share is not None and 0 < summary.same_day_share < 100
    assert all(a.created_at <= NOW for a in Alert.objects.all())


@pytest.mark.django_db
def test_seeding_the_demo_alerts_again_adds_nothing(demo):
    with time_machine.travel(NOW, tick=False):
        again = demo_alerts_seed(today=TODAY)
    assert (again.created, again.alerts) == (0, 5)
