"""Reading ahead (integrations/read_ahead.py): a sync's next page is fetched while the current
one is written, without changing what the caller sees: the same items in the same order, a
source's failure at the same place, and no thread left behind."""

from __future__ import annotations

import threading
import time

import pytest

from integrations.read_ahead import read_ahead


class SourceDown(Exception):
    pass


def threads_named_read_ahead() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "read-ahead"]


def test_items_arrive_in_order_and_are_produced_in_another_thread():
    producers = []

    def pages():
        for n in range(50):
            producers.append(threading.current_thread())
            yield n

    with read_ahead(pages()) as items:
        assert list(items) == list(range(50))
    assert {t.name for t in producers} == {"read-ahead"}
    assert threading.current_thread() not in producers


def test_a_failure_of_the_source_arrives_after_every_item_before_it():
    def pages():
        yield 1
        yield 2
        raise SourceDown("page 3 answered 500")

    seen = []
    with pytest.raises(SourceDown, match="page 3"), read_ahead(pages()) as items:
        for item in items:
            seen.append(item)
    assert seen == [1, 2]


def test_the_producer_stays_at_most_the_given_number_of_items_ahead():
    produced = []

    def pages():
        for n in range(100):
            produced.append(n)
            yield n

    with read_ahead(pages(), ahead=2) as items:
        assert next(items) == 0
        time.sleep(0.3)  # ample time to run ahead, were it not bounded
        # The item handed over, two waiting, one held by the producer until there is room.
        assert len(produced) <= 4


def test_leaving_early_stops_the_producer_and_leaves_no_thread():
    def endless():
        n = 0
        while True:
            n += 1
            yield n

    with pytest.raises(RuntimeError), read_ahead(endless()) as items:
        for item in items:
            if item == 5:
                raise RuntimeError("the database refused the batch")
    assert threads_named_read_ahead() == []


def test_items_are_made_in_the_language_of_the_caller():
    from django.utils import translation
    from django.utils.translation import gettext

    def messages():
        yield gettext("The amount cannot be negative.")

    with translation.override("zh-hans"), read_ahead(messages()) as items:
        made = list(items)
    with translation.override("zh-hans"):
        assert made == [gettext("The amount cannot be negative.")]
    assert made != ["The amount cannot be negative."]
