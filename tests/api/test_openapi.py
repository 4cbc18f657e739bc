"""/openapi.json: a valid OpenAPI 3.1 document describing every route the app serves."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from schemathesis.specs.openapi.definitions import OPENAPI_31

from custom_audiences.worker.runner import Worker

from .conftest import Api

UNDOCUMENTED_METHODS = {"OPTIONS", "HEAD"}


@pytest.fixture
def document(client: TestClient[Litestar]) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def schema_of(document: dict[str, Any], name: str) -> jsonschema_rs.Validator:
    """A validator for one component schema, resolving refs inside the document."""
    root = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema_rs.Draft202012Validator(root)


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    """It validates against the official OpenAPI 3.1 schema."""
    assert document["openapi"].startswith("3.1")
    jsonschema_rs.Draft202012Validator(OPENAPI_31).validate(document)


def test_every_route_of_the_app_is_documented_and_nothing_else(
    app: Litestar, document: dict[str, Any]
) -> None:
    """The documented (path, method) pairs are exactly the app's."""
    served = {
        (re.sub(r":\w+}", "}", route.path), method.lower())
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method in route.methods - UNDOCUMENTED_METHODS
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert served == documented


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    """No dangling $ref anywhere in the document."""
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert refs
    for ref in refs:
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]


def test_audience_operations_document_access_errors_and_rate_headers(
    document: dict[str, Any],
) -> None:
    """Each authenticated operation lists 401/403/429 in the envelope, with rate headers."""
    for path, item in document["paths"].items():
        if not path.startswith("/client/"):
            continue
        for operation in item.values():
            responses = operation["responses"]
            assert {"401", "403", "429", "500", "503"} <= set(responses)
            forbidden = responses["403"]["content"]["application/json"]
            assert forbidden["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
            assert set(forbidden["examples"]) == {"FORBIDDEN", "FEATURE_NOT_ENABLED"}
            assert "Retry-After" in responses["429"]["headers"]
            success = next(r for status, r in responses.items() if status.startswith("2"))
            assert "X-RateLimit-Reset" in success["headers"]


def test_live_responses_match_their_documented_schemas(
    api: Api, worker: Worker, document: dict[str, Any]
) -> None:
    """Bodies the API actually sends validate against the schemas it documents."""
    created = api.post(json={"custom_audience": {"vendor_id": "a", "name": "A"}}).json()
    accepted = api.post("/a/users", json={"add": ["x", "y"]}).json()
    worker.run_once()
    checks = [
        ("AudienceResponse", created),
        ("AudienceResponse", accepted),
        ("AudienceResponse", api.get("/a").json()),
        ("AudienceListResponse", api.get().json()),
        ("UserListResponse", api.get("/a/users", params={"limit": 1}).json()),
        ("ErrorResponse", api.get("/missing").json()),
    ]
    for name, body in checks:
        schema_of(document, name).validate(body)


def test_documented_request_schemas_accept_the_examples_of_the_api_text(
    document: dict[str, Any],
) -> None:
    """The request bodies shown in the public API text validate."""
    examples = [
        ("CreateAudienceRequest", {"custom_audience": {"vendor_id": "premium_users",
                                                        "name": "Premium Users",
                                                        "identifier_type": "user_id"}}),
        ("AddRemoveRequest", {"add": ["user_001", "user_002"], "remove": ["user_004"]}),
        ("ReplaceRequest", {"users": ["user_001", "user_002", "user_003"]}),
    ]  # fmt: skip
    for name, body in examples:
        schema_of(document, name).validate(body)
