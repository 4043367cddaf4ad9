"""Ids from untrusted text (query strings, form fields)."""

from __future__ import annotations

# Ids are 64-bit: anything longer cannot name a row and must not reach the database.
MAX_ID_DIGITS = 18


def parse_id(raw: str | None) -> int | None:
    """The positive id `raw` spells in ASCII digits, or None.

    `str.isdigit` alone accepts superscripts and other scripts' digits ('²'), which `int`
    then rejects or the database overflows on.
    """
    if not raw or len(raw) > MAX_ID_DIGITS or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value or None
