"""CI runs on PostgreSQL and Redis; these make sure it cannot quietly fall back to less."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from tests.services import redis_available, require_service

pytestmark = pytest.mark.services


@pytest.mark.django_db
def test_the_database_is_postgresql():
    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        hint="set DATABASE_URL=postgres://…; the suite is on " + connection.vendor,
    )


def test_redis_answers():
    require_service(
        "Redis", redis_available(settings.REDIS_URL), hint="set REDIS_URL to a running server"
    )
