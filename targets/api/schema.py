"""OpenAPI additions: the error answers every endpoint can give (SPEC §10)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

FIELD_ERRORS = {
    "type": "object",
    "description": (
        "Messages per field; `non_field_errors` for the request as a whole. A list or nested "
        "field (phasing, roles, splits) holds its items' errors keyed by position or field."
    ),
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
            {"type": "object"},
            # A body that is not JSON at all answers {"detail": "JSON parse error …"}.
            {"type": "string"},
        ]
    },
}
DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}


def _response(description: str, schema_name: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
    }


def add_error_responses(result, generator, request, public):
    """Document 400 / 401 / 403 / 404 / 409 so clients (and schema checks) expect them."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["FieldErrors"] = FIELD_ERRORS
    schemas["Detail"] = DETAIL
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if path.endswith("/auth/token/"):
                responses.setdefault("400", _response(str(_("Wrong credentials.")), "FieldErrors"))
                continue
            responses.setdefault("400", _response(str(_("Invalid input.")), "FieldErrors"))
            responses.setdefault("401", _response(str(_("Not signed in.")), "Detail"))
            responses.setdefault("403", _response(str(_("Not allowed.")), "Detail"))
            # Lists answer 404 too: a page past the end, an unknown unit.
            responses.setdefault(
                "404", _response(str(_("Not found, or not visible to you.")), "Detail")
            )
            if method != "get":
                responses.setdefault(
                    "409", _response(str(_("Conflicts with the current state.")), "Detail")
                )
    return result
