"""The OpenAPI document of API v1, shaped for clients generated from it (SPEC §10).

What a generator (openapi-python-client, openapi-generator …) needs from us:
- one language: names and descriptions never follow the caller's language;
- one media type per request body: JSON (the API still parses forms, for the browsable API);
- the token call open to anonymous callers, and the `Token` prefix said where clients read it;
- shared enums for the same choices, in bodies and query parameters alike;
- the error answers every endpoint can give.
"""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular import generators, openapi
from inflection import camelize
from rest_framework.parsers import JSONParser

# The language the document is written in, whoever asks for it.
SCHEMA_LANGUAGE = "en"

TOKEN_AUTH = {
    "type": "apiKey",
    "in": "header",
    "name": "Authorization",
    "description": (
        "`Token <key>`: the word Token, a space, then the key from `POST /api/v1/auth/token/`. "
        'Generated clients: `AuthenticatedClient(base_url=..., token=key, prefix="Token")`.'
    ),
}
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


class SchemaGenerator(generators.SchemaGenerator):
    """Writes the document in English for every caller (and for `manage.py spectacular`).

    Component and enum names derive from labels and help texts, which are translated: a
    Chinese caller used to get other names than an English one, so a client generated from
    one did not match the other.
    """

    def get_schema(self, request=None, public=False):
        with translation.override(SCHEMA_LANGUAGE):
            return super().get_schema(request=request, public=public)


class AutoSchema(openapi.AutoSchema):
    def map_parsers(self):
        # Views read JSON, and DRF's form parsers stay for the browsable API; documenting
        # them too made generators build one model for three media types, which they cannot
        # send. A view that takes no JSON (an upload) documents what it does take.
        parsers = self.view.get_parsers()
        if any(isinstance(parser, JSONParser) for parser in parsers):
            return ["application/json"]
        return super().map_parsers()

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and not self.view.get_authenticators():
            # Open to anyone (the token call): say so, or clients demand a token to get one.
            operation["security"] = []
        return operation


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
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if operation.get("security") == []:
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


def describe_token_auth(result, generator, request, public):
    """The token scheme says which prefix the Authorization header takes."""
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["tokenAuth"] = TOKEN_AUTH
    return result


def share_query_enums(result, generator, request, public):
    """Query parameters with choices point at the enum component of the same choices.

    drf-spectacular leaves them inline, so generators made one enum per operation
    (`V1TargetsListStatus`, `V1TargetsRevisionsListStatus` …) beside `StatusEnum`.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    by_values = {
        (schema.get("type"), frozenset(schema["enum"])): name
        for name, schema in schemas.items()
        if schema.get("enum") and None not in schema["enum"] and "" not in schema["enum"]
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if "enum" not in schema:
                    continue
                key = (schema.get("type"), frozenset(schema["enum"]))
                name = by_values.get(key)
                if name is None:
                    base = camelize(re.sub(r"[^0-9a-zA-Z_]", "_", parameter["name"]))
                    name, n = f"{base}Enum", 1
                    while name in schemas:
                        n += 1
                        name = f"{base}{n}Enum"
                    component = {"enum": list(schema["enum"]), "type": schema.get("type")}
                    if parameter.get("description", "").startswith("*"):
                        component["description"] = parameter["description"]
                    schemas[name] = component
                    by_values[key] = name
                parameter["schema"] = {"$ref": f"#/components/schemas/{name}"}
                if parameter.get("description", "").startswith("*"):
                    del parameter["description"]
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result
