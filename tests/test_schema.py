"""The OpenAPI document describes what the endpoints really answer."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import jsonschema
import pytest

from targets import services
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


# One tag per resource: what integrators (and generated clients) group operations by.
RESOURCE_TAGS = frozenset(
    {
        "alerts",
        "auth",
        "cases",
        "connections",
        "dashboard",
        "deals",
        "disputes",
        "imports",
        "integrations",
        "me",
        "metric-values",
        "metrics",
        "org-units",
        "proposals",
        "reviews",
        "sync-runs",
        "targets",
        "users",
    }
)


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


# What generated clients need (openapi-python-client and the like) -----------------------


def _raw_schema(client, language: str) -> dict:
    response = client.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_the_schema_is_the_same_document_for_chinese_and_english_callers(client, org):
    chinese = _raw_schema(client, "zh-hans")
    assert chinese == _raw_schema(client, "en")
    # A signed-in Chinese user (language from the profile) gets it too, in English.
    client.force_login(org.alice)
    assert _raw_schema(client, "zh-hans") == chinese
    # Written in English throughout; only Chinese's own name for itself stays Chinese.
    text = json.dumps(chinese, ensure_ascii=False).replace("简体中文", "")
    assert not re.search(r"[\u4e00-\u9fff]", text)


def test_request_bodies_are_documented_as_json_only(schema):
    bodies = [
        (path, method, operation["requestBody"]["content"])
        for path, method, operation in _operations(schema)
        if "requestBody" in operation
    ]
    assert bodies
    for path, method, content in bodies:
        # Files come as multipart, by the contract (SPEC §10 `imports/`, a proposal's attachment).
        uploads = {"/api/v1/imports/", "/api/v1/proposals/{id}/attachment/"}
        expected = ["multipart/form-data"] if path in uploads else ["application/json"]
        assert list(content) == expected, (path, method)


def test_the_token_call_is_open_and_says_how_to_send_the_key(schema):
    operation = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert operation["operationId"] == "auth_token_create"
    assert operation["security"] == []
    token_auth = schema["components"]["securitySchemes"]["tokenAuth"]
    assert (token_auth["type"], token_auth["in"], token_auth["name"]) == (
        "apiKey",
        "header",
        "Authorization",
    )
    assert "Token <key>" in token_auth["description"]
    # Every other call needs a signed-in caller; the webhook is authenticated by its signature.
    webhook = schema["paths"]["/api/v1/integrations/webhook/{connection_id}/"]["post"]
    assert webhook["security"] == []
    open_paths = {"/api/v1/auth/token/", "/api/v1/integrations/webhook/{connection_id}/"}
    others = [op for path, _, op in _operations(schema) if path not in open_paths]
    assert all(op["security"] == [{"tokenAuth": []}, {"cookieAuth": []}] for op in others)


def test_operations_are_tagged_and_named_by_resource(schema):
    operations = list(_operations(schema))
    tags = {tag for _, _, operation in operations for tag in operation["tags"]}
    assert tags == RESOURCE_TAGS
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids))
    assert not [i for i in ids if i.startswith("v1")]
    assert {"targets_create", "targets_partial_update", "deals_list", "users_create"} <= set(ids)


@pytest.mark.parametrize(
    ("component", "fields"),
    [
        (
            "Figures",
            [
                "actual",
                "completion",
                "pace",
                "stretch_progress",
                "allocation_coverage",
                "incentive",
                "expected_base",
                "allocated_base",
                "unallocated",
            ],
        ),
        ("MonthFigures", ["actual", "completion"]),
        ("Target", ["base", "stretch", "original_base", "base_bonus", "stretch_bonus"]),
        ("TargetInputRequest", ["base", "stretch", "base_bonus", "stretch_bonus"]),
        ("Deal", ["amount"]),
        ("DealInputRequest", ["amount"]),
        ("Split", ["percent"]),
        ("TrendPoint", ["actual_cumulative", "base_expected", "stretch_expected"]),
        ("Volatility", ["value"]),
    ],
)
def test_money_and_figures_are_decimal_strings(schema, component, fields):
    properties = schema["components"]["schemas"][component]["properties"]
    for name in fields:
        field = properties[name]
        field = field.get("anyOf", [field])[0]
        assert (field["type"], field["format"]) == ("string", "decimal"), name


@pytest.mark.parametrize(
    ("path", "parameter", "component"),
    [
        ("/api/v1/targets/", "status", "StatusEnum"),
        ("/api/v1/targets/{id}/trend/", "grain", "GrainEnum"),
        ("/api/v1/deals/", "source", "DealSourceEnum"),
        ("/api/v1/org-units/", "kind", "KindEnum"),
    ],
)
def test_query_parameters_with_choices_use_the_shared_enum(schema, path, parameter, component):
    parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
    assert parameters[parameter]["schema"] == {"$ref": f"#/components/schemas/{component}"}
    assert schema["components"]["schemas"][component]["enum"]


def test_the_same_choices_in_a_body_point_at_the_same_enum(client):
    schemas = _raw_schema(client, "en")["components"]["schemas"]
    status = schemas["Figures"]["properties"]["status"]
    assert {"$ref": "#/components/schemas/StatusEnum"} in status["oneOf"]
    assert schemas["Trend"]["properties"]["grain"] == {"$ref": "#/components/schemas/GrainEnum"}


def test_revisions_document_no_target_filters(schema):
    names = {
        p["name"] for p in schema["paths"]["/api/v1/targets/{id}/revisions/"]["get"]["parameters"]
    }
    assert names == {"id", "page", "page_size"}


def test_target_filters_sent_to_revisions_and_trend_do_not_hide_the_target(api, org, data):
    # Alice has made her Base by 2 April: her target is green, so ?status=red would hide it.
    DealFactory(owner=org.alice, amount=Decimal(300000), close_date=date(2025, 4, 1))
    client = api(org.director)
    red = client.get("/api/v1/targets/", {"status": "red", "as_of": "2025-04-02"}).json()
    assert data.pk not in [t["id"] for t in red["results"]]
    for url in [f"/api/v1/targets/{data.pk}/revisions/", f"/api/v1/targets/{data.pk}/trend/"]:
        response = client.get(url, {"status": "red", "period": "2099Q1", "as_of": "2025-04-02"})
        assert response.status_code == 200, url
