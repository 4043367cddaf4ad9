"""Notices to people. Every notice is written to the in-app inbox; delivery channels
(e-mail, DingTalk) read from there."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from alerts.models import Notification
from targets.models import Target, User


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    actor: User | None = None,
    target: Target | None = None,
    subject_id: int | None = None,
    note: str = "",
) -> list[Notification]:
    """Write one notice per distinct recipient (never to the actor themself)."""
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user.pk in seen or (actor is not None and user.pk == actor.pk):
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                recipient=user,
                kind=kind,
                actor=actor,
                target=target,
                subject_id=subject_id,
                note=note,
            )
        )
    with transaction.atomic():
        return Notification.objects.bulk_create(rows)
