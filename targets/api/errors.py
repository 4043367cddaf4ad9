"""Domain errors → HTTP: field errors are 400, conflicting state changes 409."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from targets.errors import StateConflict


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {
                field: [str(m) for m in messages] for field, messages in exc.message_dict.items()
            }
        else:
            body = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StateConflict):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
