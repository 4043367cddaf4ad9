"""Tests that need a real service (PostgreSQL, Redis and a Celery worker, Chromium).

On a developer's machine such a test skips when its service is missing. With
REQUIRE_SERVICES=1 (CI) it fails instead, so a missing install step or a service that did not
start cannot turn into a quietly green run.
"""

from __future__ import annotations

import os

import pytest


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes", "on"}


def require_service(name: str, available: bool, *, hint: str = "") -> None:
    """Skip (or, with REQUIRE_SERVICES=1, fail) the calling test unless `available`."""
    if available:
        return
    message = f"{name} is not available" + (f" ({hint})" if hint else "")
    if services_required():
        pytest.fail(f"{message}, and REQUIRE_SERVICES=1 requires it.", pytrace=False)
    pytest.skip(message)


def redis_available(url: str) -> bool:
    if not url:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False
