"""Racing requests end in 400/409 for the losers, never a 500 or a silent overwrite (issue 5 §1.5).

Real threads, each with its own database connection, against a database they share: a file
on SQLite (WAL, IMMEDIATE transactions, a busy timeout: config/settings.py), or PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from targets import services
from targets.models import Deal, DealSource, Target, User
from targets.periods import Quarter

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 20
# A quarter that has not started: its targets' amounts may still change.
FUTURE = Quarter.of(timezone.localdate()).next().next().label


def in_parallel(n: int, request: Callable[[int], object]) -> list:
    """Run request(0) … request(n-1) in n threads released at the same instant."""
    start = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = request(i)
        except BaseException as error:  # a 500 raises in the test client: report it
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    crashed = [r for r in results if isinstance(r, BaseException)]
    assert not crashed, crashed[:3]
    return results


def api_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def statuses(responses) -> Counter:
    return Counter(r.status_code for r in responses)


def test_racing_creates_of_one_target_give_one_201_and_400s(org):
    clients = [api_for(org.director) for _ in range(RACERS)]

    def create(i: int):
        return clients[i].post(
            "/api/v1/targets/",
            {"period": FUTURE, "owner_unit": org.east.pk, "base": "1000", "stretch": "2000"},
            format="json",
        )

    responses = in_parallel(RACERS, create)
    assert statuses(responses) == {201: 1, 400: RACERS - 1}
    assert all("period" in r.json() for r in responses if r.status_code == 400)
    assert Target.objects.filter(owner_unit=org.east, period=FUTURE).count() == 1


def test_racing_patches_with_one_version_give_one_200_and_409s(org):
    target = services.target_create(
        period=FUTURE, owner_unit=org.east, base=Decimal(1000), stretch=Decimal(2000)
    )
    clients = [api_for(org.director) for _ in range(RACERS)]

    def patch(i: int):
        return clients[i].patch(
            f"/api/v1/targets/{target.pk}/",
            {"base": str(1000 + i), "stretch": "5000", "version": target.version},
            format="json",
        )

    responses = in_parallel(RACERS, patch)
    assert statuses(responses) == {200: 1, 409: RACERS - 1}
    winner = next(r for r in responses if r.status_code == 200).json()
    target.refresh_from_db()
    assert target.version == winner["version"] == 2
    assert str(target.base) == winner["base"]


def test_racing_manual_deals_with_one_id_keep_the_first_authors_content(org):
    authors = [org.director, org.mgr_east, org.alice]
    clients = [api_for(authors[i % len(authors)]) for i in range(RACERS)]
    today = timezone.localdate()

    def enter(i: int):
        author = authors[i % len(authors)]
        return clients[i].post(
            "/api/v1/deals/",
            {
                "external_id": "RACE-1",
                "account": f"{author.username} #{i}",
                "owner": org.alice.pk,
                "amount": str(1000 + i),
                "close_date": today.isoformat(),
            },
            format="json",
        )

    responses = in_parallel(RACERS, enter)
    counts = statuses(responses)
    assert counts[201] == 1
    assert counts[400] + counts[409] == RACERS - 1
    deal = Deal.objects.select_related("created_by").get(
        source=DealSource.MANUAL, external_id="RACE-1"
    )
    # The row is one author's entry throughout: their account text, their name as author.
    assert deal.account.startswith(f"{deal.created_by.username} #")
    winner = next(r for r in responses if r.status_code == 201).json()
    assert winner["account"] == deal.account


def test_racing_allocations_of_one_parent_never_fail(org):
    parent = services.target_create(
        period=FUTURE, owner_unit=org.east, base=Decimal(5_000_000), stretch=Decimal(7_000_000)
    )
    racers = 8
    clients = []
    for _ in range(racers):
        client = Client()
        client.force_login(org.director)
        clients.append(client)

    def allocate(i: int):
        amount = str(1_000_000 + i)
        return clients[i].post(
            reverse("target-allocate", args=[parent.pk]),
            {
                f"unit-{org.east1.pk}-base": amount,
                f"unit-{org.east1.pk}-stretch": amount,
                f"unit-{org.east2.pk}-base": amount,
                f"unit-{org.east2.pk}-stretch": amount,
            },
        )

    responses = in_parallel(racers, allocate)
    assert set(statuses(responses)) <= {200, 302, 409}
    assert 302 in statuses(responses)
    for unit in (org.east1, org.east2):
        assert Target.objects.filter(owner_unit=unit, period=FUTURE).count() == 1
