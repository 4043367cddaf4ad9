"""How long to wait before asking a remote system again (shared by the HTTP clients).

Exponential backoff with full jitter, so workers that failed together do not retry
together; a server's `Retry-After` is honoured when it asks for longer. Every wait is
bounded, and `SYNC_SLEEP_SCALE` (settings) shrinks the real sleeps in tests while the
waits asked for stay visible in `Backoff.waits`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from django.conf import settings


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class Backoff:
    max_retries: int = field(default_factory=lambda: settings.SYNC_MAX_RETRIES)
    base: float = field(default_factory=lambda: settings.SYNC_BACKOFF_BASE_SECONDS)
    cap: float = field(default_factory=lambda: settings.SYNC_BACKOFF_MAX_SECONDS)
    waits: list[float] = field(default_factory=list)

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """Sleep before retry number `attempt` (0-based); returns the wait asked for."""
        seconds = random.uniform(0, min(self.cap, self.base * 2**attempt))
        if retry_after is not None:
            # The server knows when it will take us again; a hostile value is still capped.
            seconds = max(seconds, min(retry_after, settings.SYNC_RETRY_AFTER_MAX_SECONDS))
        self.waits.append(seconds)
        time.sleep(seconds * settings.SYNC_SLEEP_SCALE)
        return seconds
