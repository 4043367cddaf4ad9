"""Reads of the organisation for the API."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from targets.models import TeamMembership, User


def users_with_team_since(users: QuerySet[User]) -> QuerySet[User]:
    """Users with `team_since`: the day their current team applies from (None without one)."""
    current = TeamMembership.objects.filter(user=OuterRef("pk"), valid_to__isnull=True)
    return (
        users.annotate(team_since=Subquery(current.values("valid_from")[:1]))
        .prefetch_related("role_assignments")
        .order_by("pk")
    )
