"""The team on a day has one rule in two spellings: `team_on` (an ORM subquery) and
`team_on_sql` (SQL text for the bulk write's raw statement). They must answer alike."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.models import DateField, OuterRef, Value

from targets import services
from targets.models import User
from targets.models.org import team_on, team_on_sql

pytestmark = pytest.mark.django_db

DAYS = [
    date(2023, 6, 1),  # before the first membership: the first team
    date(2024, 1, 1),  # the first day of the first team
    date(2024, 3, 31),  # the first team's last day
    date(2024, 4, 1),  # the first day of the second team
    date(2024, 9, 30),  # the second team's last day
    date(2024, 10, 1),  # the current team's first day
    date(2030, 1, 1),  # long after: the current team
]


def by_orm(user: User, day: date) -> int | None:
    return (
        User.objects.filter(pk=user.pk)
        .annotate(team_on_day=team_on(user=OuterRef("pk"), day=Value(day, DateField())))
        .values_list("team_on_day", flat=True)
        .get()
    )


def by_sql(user: User, day: date) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {team_on_sql(user='%s', day='%s')}", [user.pk, day])
        return cursor.fetchone()[0]


def test_both_spellings_give_the_team_of_every_day(org):
    rep = org.alice
    services.user_move_team(user=rep, team=org.east1, since=date(2024, 1, 1))
    services.user_move_team(user=rep, team=org.north1, since=date(2024, 4, 1))
    services.user_move_team(user=rep, team=org.east2, since=date(2024, 10, 1))
    expected = [org.east1, org.east1, org.east1, org.north1, org.north1, org.east2, org.east2]
    assert [by_sql(rep, day) for day in DAYS] == [team.pk for team in expected]
    assert [by_orm(rep, day) for day in DAYS] == [by_sql(rep, day) for day in DAYS]


def test_both_spellings_give_no_team_to_someone_never_in_one(org):
    outsider = User.objects.create(username="outsider")
    assert by_sql(outsider, date(2024, 5, 1)) is None
    assert by_orm(outsider, date(2024, 5, 1)) is None
