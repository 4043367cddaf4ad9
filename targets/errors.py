"""Domain errors raised by services; API views and forms turn them into 400 / 409."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class StateConflict(Exception):
    """The object is no longer in a state that allows the action (HTTP 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


__all__ = ["StateConflict", "ValidationError", "field_error"]
