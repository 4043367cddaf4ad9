"""Reading ahead: a source's next items are fetched and parsed while the database writes the
current ones.

A sync or import alternates between work that waits on the source or burns Python (an HTTP
page, JSON, CSV, checking rows) and work that waits on PostgreSQL (the bulk write). Done one
after the other, each waits for the other; on two cores they can run side by side, since
psycopg2, sockets and file reads release the GIL. The producing thread must not use the
database: Django gives each thread its own connection, outside the caller's transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from queue import Full, Queue
from typing import TypeVar

from django.utils import translation

T = TypeVar("T")

_DONE = object()
# How long a full hand-over waits before the producer looks again whether the caller stopped.
_POLL_SECONDS = 0.1


@contextmanager
def read_ahead(items: Iterable[T], *, ahead: int = 2) -> Iterator[Iterator[T]]:
    """`items` in order, produced up to `ahead` items in advance by a thread of their own.

    An exception raised while producing is raised by the iterator at the item it stopped
    before, so the caller has handled every item before it, exactly as without reading
    ahead. Leaving the block (done, an error) stops the producer at its next item and waits
    for it, so no thread outlives the block. Hand over batches, not single rows: each
    hand-over takes a lock.
    """
    hand_over: Queue = Queue(maxsize=ahead)
    stopped = threading.Event()
    # The active language is the thread's own: messages made ahead (a row's error) are in
    # the caller's.
    language = translation.get_language()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stopped.is_set():
            try:
                hand_over.put(entry, timeout=_POLL_SECONDS)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        if language:
            translation.activate(language)
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as error:  # raised again in the caller's thread
            put((_DONE, error))
        else:
            put((_DONE, None))

    def consume() -> Iterator[T]:
        while True:
            item, error = hand_over.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item  # type: ignore[misc]

    producer = threading.Thread(target=produce, name="read-ahead", daemon=True)
    producer.start()
    try:
        yield consume()
    finally:
        stopped.set()
        producer.join()
