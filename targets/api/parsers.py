"""Request parsers for API v1."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, also answering 400 to a document nested too deep to decode.

    Python's decoder raises RecursionError (not ValueError) for something like "[" * 100000,
    which DRF lets through as a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError() from None
