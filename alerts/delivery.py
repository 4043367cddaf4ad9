"""Delivering notices through the channels, per each user's preferences, with a log.

Every notice is in the inbox the moment it is written. Then, once the transaction commits,
each (notice, channel) the recipient wants "each" is queued as its own task: a channel
that fails is retried on its own and never holds up another channel, the inbox or the
recompute that raised the notice. Notices a user wants as a digest wait for the daily
digest (`digests_queue`). Every attempt, good or bad, is a `DeliveryAttempt` row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts import channels as registry
from alerts.models import (
    AlertKind,
    DeliveryAttempt,
    DeliveryMode,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from targets.errors import field_error
from targets.models import User

# Topics a user sets preferences for: each kind of notice, and each kind of alert (an
# alert's notice is filed under its alert's kind). "case_opened" is both: one topic.
TOPICS: list[tuple[str, object]] = [
    *((kind.value, kind.label) for kind in AlertKind),
    *(
        (kind.value, kind.label)
        for kind in NotificationKind
        if kind != NotificationKind.ALERT and kind.value not in AlertKind.values
    ),
]
TOPIC_CODES = frozenset(code for code, _label in TOPICS)
DEFAULT_MODE = DeliveryMode.EACH


def notice_topic(kind: str, alert_kind: str | None) -> str:
    return alert_kind or kind


# Preferences ---------------------------------------------------------------------------


def preferences_for(user_ids: Iterable[int]) -> dict[tuple[int, str, str], str]:
    """{(user id, topic, channel): mode} of the rows that exist (the rest are defaults)."""
    return {
        (user_id, topic, channel): mode
        for user_id, topic, channel, mode in NotificationPreference.objects.filter(
            user_id__in=set(user_ids)
        ).values_list("user_id", "topic", "channel", "mode")
    }


def preference_grid(user: User) -> list[dict]:
    """Rows of the settings page: each topic with each channel's mode and the modes
    that channel offers (a digest only where the channel can send one)."""
    chosen = preferences_for([user.pk])
    rows = []
    for topic, label in TOPICS:
        rows.append(
            {
                "topic": topic,
                "label": label,
                "cells": [
                    {
                        "channel": channel,
                        "name": f"{topic}__{channel.code}",
                        "mode": chosen.get((user.pk, topic, channel.code), DEFAULT_MODE),
                        "modes": channel_modes(channel),
                    }
                    for channel in registry.channels()
                ],
            }
        )
    return rows


def channel_modes(channel: registry.Channel) -> list[tuple[str, object]]:
    return [
        (mode.value, mode.label)
        for mode in DeliveryMode
        if mode != DeliveryMode.DIGEST or channel.digests
    ]


@transaction.atomic
def notification_preferences_save(*, user: User, modes: dict[tuple[str, str], str]) -> int:
    """Set the user's mode for each (topic, channel) given; others stay as they were. The
    default is stored as no row. Unknown topics, channels or modes are refused whole
    (nothing written)."""
    for (topic, code), mode in modes.items():
        channel = registry.channel_get(code)
        if topic not in TOPIC_CODES or channel is None:
            raise field_error("preferences", _("Unknown notice kind or channel."))
        if mode not in dict(channel_modes(channel)):
            raise field_error("preferences", _("Choose one of the offered modes."))
    if not modes:
        return 0
    given = Q()
    for topic, code in modes:
        given |= Q(topic=topic, channel=code)
    NotificationPreference.objects.filter(given, user=user).delete()
    NotificationPreference.objects.bulk_create(
        NotificationPreference(user=user, topic=topic, channel=code, mode=mode)
        for (topic, code), mode in modes.items()
        if mode != DEFAULT_MODE
    )
    return len(modes)


# Each notice ---------------------------------------------------------------------------


def deliveries_plan(notification_ids: Sequence[int]) -> list[tuple[int, str]]:
    """(notice id, channel) pairs to deliver now: channels that reach the recipient and
    that the recipient wants for this topic one by one. Three queries however many."""
    if not notification_ids:
        return []
    notices = list(
        Notification.objects.filter(pk__in=notification_ids).values_list(
            "pk", "recipient_id", "kind", "alert__kind"
        )
    )
    recipients = User.objects.filter(pk__in={r for _n, r, _k, _a in notices}, is_active=True)
    users = {user.pk: user for user in recipients}
    chosen = preferences_for(users)
    plan = []
    for channel in registry.channels():
        reached = {pk for pk, user in users.items() if channel.reaches(user)}
        for pk, recipient_id, kind, alert_kind in notices:
            if recipient_id not in reached:
                continue
            topic = notice_topic(kind, alert_kind)
            if chosen.get((recipient_id, topic, channel.code), DEFAULT_MODE) == DeliveryMode.EACH:
                plan.append((pk, channel.code))
    return plan


def deliveries_queue(notification_ids: Sequence[int]) -> int:
    """Queue the planned deliveries once the current transaction commits; returns how many.

    `robust`: a broker that is down is logged, never raised into the writer's request.
    """
    from alerts.tasks import deliver_notice

    plan = deliveries_plan(notification_ids)
    for notification_id, code in plan:
        transaction.on_commit(
            lambda n=notification_id, c=code: deliver_notice.delay(n, c), robust=True
        )
    return len(plan)


def _log(
    *,
    recipient_id: int,
    channel: str,
    attempt: int,
    error: Exception | None,
    notification_id: int | None = None,
    digest_day: date | None = None,
) -> DeliveryAttempt:
    return DeliveryAttempt.objects.create(
        notification_id=notification_id,
        recipient_id=recipient_id,
        channel=channel,
        digest_day=digest_day,
        attempt=attempt,
        ok=error is None,
        error="" if error is None else f"{type(error).__name__}: {error}"[:1000],
    )


def notice_deliver(*, notification_id: int, channel: str, attempt: int) -> bool:
    """One attempt to deliver one notice on one channel, logged. False when there is
    nothing to do (delivered already, channel gone, recipient no longer reached); a
    failure is logged and raised for the task to retry."""
    way = registry.channel_get(channel)
    notice = (
        Notification.objects.select_related(
            "recipient",
            "target",
            "target__owner_user",
            "target__owner_unit",
            "alert",
            "alert__connection",
        )
        .filter(pk=notification_id)
        .first()
    )
    if way is None or notice is None or not way.reaches(notice.recipient):
        return False
    if DeliveryAttempt.objects.filter(
        notification_id=notification_id, channel=channel, ok=True
    ).exists():
        return False
    try:
        sent = way.deliver(registry.notice_render(notice))
    except Exception as error:
        # Whatever a channel raises is that channel's failure: logged, retried, contained.
        _log(
            notification_id=notice.pk,
            recipient_id=notice.recipient_id,
            channel=channel,
            attempt=attempt,
            error=error,
        )
        raise
    if sent is False:
        return False  # nothing to send through this channel: not an attempt
    _log(
        notification_id=notice.pk,
        recipient_id=notice.recipient_id,
        channel=channel,
        attempt=attempt,
        error=None,
    )
    return True


# Daily digest --------------------------------------------------------------------------


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def digests_plan(*, day: date) -> dict[tuple[int, str], list[int]]:
    """{(user id, channel): notice ids} of `day` (company time) for every user who wants
    some topic as a digest on a channel that reaches them and has not had that day's
    digest on it yet."""
    wanted: dict[tuple[int, str], set[str]] = defaultdict(set)
    for user_id, topic, code in NotificationPreference.objects.filter(
        mode=DeliveryMode.DIGEST
    ).values_list("user_id", "topic", "channel"):
        way = registry.channel_get(code)
        if way is not None and way.digests:
            wanted[(user_id, code)].add(topic)
    if not wanted:
        return {}
    users = {u.pk: u for u in User.objects.filter(pk__in={u for u, _c in wanted}, is_active=True)}
    sent = set(
        DeliveryAttempt.objects.filter(digest_day=day, ok=True).values_list(
            "recipient_id", "channel"
        )
    )
    start, end = _day_bounds(day)
    notices = Notification.objects.filter(
        recipient_id__in=users, created_at__gte=start, created_at__lt=end
    ).values_list("pk", "recipient_id", "kind", "alert__kind")
    by_user: dict[int, list[tuple[str, set[str]]]] = defaultdict(list)
    for (user_id, code), topics in wanted.items():
        if (
            user_id in users
            and (user_id, code) not in sent
            and registry.channel_get(code).reaches(users[user_id])
        ):
            by_user[user_id].append((code, topics))
    plan: dict[tuple[int, str], list[int]] = defaultdict(list)
    for pk, user_id, kind, alert_kind in notices:
        topic = notice_topic(kind, alert_kind)
        for code, topics in by_user.get(user_id, ()):
            if topic in topics:
                plan[(user_id, code)].append(pk)
    return dict(plan)


def digests_queue(*, day: date) -> int:
    from alerts.tasks import deliver_digest

    plan = digests_plan(day=day)
    for (user_id, code), ids in plan.items():
        deliver_digest.delay(user_id, code, day.isoformat(), ids)
    return len(plan)


def digest_deliver(
    *, user_id: int, channel: str, day: date, notification_ids: Sequence[int], attempt: int
) -> bool:
    way = registry.channel_get(channel)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if way is None or not way.digests or user is None or not way.reaches(user):
        return False
    if DeliveryAttempt.objects.filter(
        recipient_id=user_id, channel=channel, digest_day=day, ok=True
    ).exists():
        return False
    notices = list(
        Notification.objects.filter(pk__in=notification_ids, recipient_id=user_id)
        .select_related(
            "recipient",
            "actor",
            "target",
            "target__owner_user",
            "target__owner_unit",
            "alert",
            "alert__connection",
        )
        .order_by("created_at", "pk")
    )
    if not notices:
        return False
    digest = registry.digest_render(recipient=user, day=day, notices=notices)
    try:
        sent = way.deliver_digest(digest)
    except Exception as error:
        _log(recipient_id=user_id, channel=channel, digest_day=day, attempt=attempt, error=error)
        raise
    if sent is False:
        return False
    _log(recipient_id=user_id, channel=channel, digest_day=day, attempt=attempt, error=None)
    return True
