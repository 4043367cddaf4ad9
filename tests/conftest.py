"""Personas: one small company that every test can reason about by name.

ACME (company)
├── 华东 East (region)          mgr_east manages it
│   ├── East-1 (team)            alice, bob
│   └── East-2 (team)            carol
└── 华北 North (region)
    └── North-1 (team)           dave
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from targets.models import OrgUnit, Role, User
from tests.factories import make_rep, make_unit, make_user

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@dataclass
class Org:
    company: OrgUnit
    east: OrgUnit
    east1: OrgUnit
    east2: OrgUnit
    north: OrgUnit
    north1: OrgUnit
    admin: User
    director: User
    hrbp: User
    finance: User
    mgr_east: User
    alice: User
    bob: User
    carol: User
    dave: User


@pytest.fixture
def org(db) -> Org:
    company = make_unit("ACME", "company")
    east = make_unit("华东 East", "region", company)
    east1 = make_unit("East-1", "team", east)
    east2 = make_unit("East-2", "team", east)
    north = make_unit("华北 North", "region", company)
    north1 = make_unit("North-1", "team", north)
    return Org(
        company=company,
        east=east,
        east1=east1,
        east2=east2,
        north=north,
        north1=north1,
        admin=make_user("admin", roles=[(Role.ADMIN, None)]),
        director=make_user("director", roles=[(Role.SALES_DIRECTOR, company)]),
        hrbp=make_user("hrbp", roles=[(Role.HRBP, company)]),
        finance=make_user("finance", roles=[(Role.FINANCE, company)]),
        mgr_east=make_user("mgr_east", roles=[(Role.SALES_MANAGER, east)]),
        alice=make_rep("alice", east1),
        bob=make_rep("bob", east1),
        carol=make_rep("carol", east2),
        dave=make_rep("dave", north1),
    )


@pytest.fixture
def api():
    def client_for(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.1 s per user; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _celery_tasks_run_in_process():
    # With REDIS_URL set (CI) settings make Celery send tasks to the broker; tests should not
    # depend on a worker picking them up, so they run in-process as they do without Redis.
    # The one test that needs a real worker turns this off (tests/targets/test_tasks.py).
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture
def in_may_2025():
    """Today is 20 May 2025 (company time): manual deals of 2025Q1–Q2 may be entered."""
    import time_machine

    with time_machine.travel(
        datetime(2025, 5, 20, 12, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    ):
        yield


@pytest.fixture(autouse=True)
def _token_throttle_starts_afresh():
    # The token endpoint's throttle counts requests per address in the cache, which outlives a
    # test's database transaction; every test starts with the test client's count at zero.
    from django.core.cache import cache

    yield
    cache.delete("throttle_auth-token_127.0.0.1")


@pytest.fixture
def dingtalk(httpserver, db):
    """A DingTalk stand-in and a connection to it (approvals, notices, robot, contacts)."""
    from django.core.cache import cache

    from integrations.dingtalk.client import DingTalkClient
    from integrations.models import ConnectionKind
    from integrations.services import connection_save
    from tests.integrations.dingtalk_fake import FakeDingTalk, dingtalk_settings

    fake = FakeDingTalk(httpserver)
    fake.connection = connection_save(
        kind=ConnectionKind.DINGTALK,
        name="钉钉",
        settings=dingtalk_settings(fake, approval_process_code="PROC-TP-ADJUST"),
    )
    # Tokens are cached per connection id, and ids come round again in a fresh test.
    token_key = DingTalkClient(fake.connection)._token_key()
    cache.delete(token_key)
    yield fake
    cache.delete(token_key)
