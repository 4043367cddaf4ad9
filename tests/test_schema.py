"""The OpenAPI document describes what the endpoints really answer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import jsonschema
import pytest

from targets import services
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


def _nullable_to_json_schema(node):
    """OpenAPI 3.0 `nullable: true` → JSON Schema's null alternative."""
    if isinstance(node, dict):
        node = {k: _nullable_to_json_schema(v) for k, v in node.items()}
        if node.pop("nullable", False):
            return {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_nullable_to_json_schema(v) for v in node]
    return node


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return _nullable_to_json_schema(response.json())


def assert_matches(schema, path, method, status, body):
    operation = schema["paths"][path][method]
    response_schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    validator_schema = {**response_schema, "components": schema["components"]}
    jsonschema.validate(body, validator_schema)


@pytest.fixture
def data(org):
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(300000), stretch=Decimal(450000)
    )
    services.target_create(
        period="2025Q2", owner_unit=org.east1, base=Decimal(600000), stretch=Decimal(700000)
    )
    DealFactory(owner=org.alice, amount=Decimal(1000), close_date=date(2025, 5, 2))
    return target


def test_the_schema_lists_every_v1_resource(schema):
    paths = set(schema["paths"])
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/org-units/",
        "/api/v1/users/",
        "/api/v1/targets/",
        "/api/v1/targets/{id}/revisions/",
        "/api/v1/targets/{id}/trend/",
        "/api/v1/deals/",
        "/api/v1/deals/{id}/confirm/",
        "/api/v1/dashboard/summary/",
    ]:
        assert path in paths


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("/api/v1/me/", "/api/v1/me/"),
        ("/api/v1/targets/", "/api/v1/targets/?as_of=2025-05-20"),
        ("/api/v1/targets/{id}/", "/api/v1/targets/{id}/"),
        ("/api/v1/targets/{id}/trend/", "/api/v1/targets/{id}/trend/?as_of=2025-05-20"),
        ("/api/v1/targets/{id}/revisions/", "/api/v1/targets/{id}/revisions/"),
        ("/api/v1/deals/", "/api/v1/deals/"),
        ("/api/v1/org-units/", "/api/v1/org-units/"),
        ("/api/v1/users/", "/api/v1/users/"),
        ("/api/v1/dashboard/summary/", "/api/v1/dashboard/summary/?period=2025Q2&as_of=2025-05-20"),
    ],
)
def test_responses_match_the_schema(api, org, schema, data, path, url):
    response = api(org.director).get(url.format(id=data.pk))
    assert response.status_code == 200
    assert_matches(schema, path, "get", 200, response.json())


def test_the_docs_page_loads_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html


def test_error_answers_match_the_documented_error_shapes(api, org, schema, data):
    client = api(org.director)
    bad = client.post("/api/v1/targets/", {"period": "2025Q9", "base": "x"}, format="json")
    assert bad.status_code == 400
    assert_matches(schema, "/api/v1/targets/", "post", 400, bad.json())
    missing = client.get("/api/v1/targets/999999/")
    assert missing.status_code == 404
    assert_matches(schema, "/api/v1/targets/{id}/", "get", 404, missing.json())
    forbidden = api(org.alice).post(
        "/api/v1/org-units/", {"name": "X", "kind": "team"}, format="json"
    )
    assert forbidden.status_code == 403
    assert_matches(schema, "/api/v1/org-units/", "post", 403, forbidden.json())
    deal = DealFactory(owner=org.alice)
    conflict = client.post(f"/api/v1/deals/{deal.pk}/confirm/")
    assert conflict.status_code == 409
    assert_matches(schema, "/api/v1/deals/{id}/confirm/", "post", 409, conflict.json())
