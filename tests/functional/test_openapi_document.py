"""The API document a caller downloads: valid OpenAPI 3, only the caller's modules, no admin
operations for tenants, unique operationIds, resolvable references, problems for errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator import validate

from almacen.gateway.app import gateway_of, registry_of
from almacen.gateway.specs import load_document
from almacen.openapi import GATEWAY
from tests.common.actors import Admin, TenantHandle

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PROBLEM_JSON = "application/problem+json"
ADMIN_PATHS = {
    "/plugins",
    "/tenants",
    "/tenants/{tenant_id}",
    "/tenants/{tenant_id}/keys",
    "/tenants/{tenant_id}/keys/{key_id}",
    "/tenants/{tenant_id}/subscriptions",
    "/tenants/{tenant_id}/subscriptions/{module}",
    "/admin/events",
    "/admin/events/{event_id}/replay",
}
TENANT_GATEWAY_PATHS = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/me",
    "/actions",
    "/events",
    "/events/types",
    "/events/{event_id}",
    "/webhooks",
    "/webhooks/{webhook_id}",
    "/webhooks/{webhook_id}/rotate-secret",
    "/webhooks/{webhook_id}/deliveries",
    "/webhooks/{webhook_id}/deliveries/{delivery_id}",
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    "/services",
    "/services/{name}",
    "/services/{name}/versions",
    "/services/{name}/versions/{version}/restore",
    "/services/{name}/simulate",
    "/services/{name}/runs",
    "/services/{name}/experiments",
}


def gateway_paths() -> set[str]:
    return set(load_document(GATEWAY)["paths"])


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(document: dict[str, Any], ref: str) -> Any:
    """Follow a local ``#/...`` reference; fail on any other kind or a dangling one."""
    assert ref.startswith("#/"), f"non-local reference {ref}"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"dangling reference {ref}"
        node = node[part]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def deref(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(document, node["$ref"])
    return node


def assert_sound(document: dict[str, Any]) -> None:
    """Valid OpenAPI 3, unique operationIds, every reference resolves, errors are problems."""
    validate(document)
    assert document["openapi"].startswith("3.")
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for ref in refs(document):
        resolve(document, ref)
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if not str(status).startswith(("4", "5")):
                continue
            content = deref(document, response).get("content", {})
            assert list(content) == [PROBLEM_JSON], (method, path, status)
            schema = deref(document, content[PROBLEM_JSON]["schema"])
            assert {"type", "title", "status"} <= set(schema["required"]), (method, path)


@pytest.fixture
def subscribed(contract) -> TenantHandle:
    return contract.new_tenant()


@pytest.fixture
def unsubscribed(contract) -> TenantHandle:
    return contract.new_tenant(subscribed=False)


def test_tenant_document_is_valid_and_has_only_its_modules(
    contract, subscribed: TenantHandle
) -> None:
    response = subscribed.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    assert_sound(document)
    paths = set(document["paths"])
    assert paths == TENANT_GATEWAY_PATHS | {"/contract/things", "/contract/boom"}
    assert not paths & ADMIN_PATHS
    assert "admin" not in {tag["name"] for tag in document["tags"]}
    post = document["paths"]["/contract/things"]["post"]
    assert post["operationId"] == "contract.create"
    assert post["tags"] == ["contract"]
    body = deref(document, post["requestBody"]["content"]["application/json"]["schema"])
    assert body["required"] == ["name"]


def test_document_of_a_tenant_without_modules(unsubscribed: TenantHandle) -> None:
    document = unsubscribed.get("/v1/openapi.json").json()
    assert_sound(document)
    assert set(document["paths"]) == TENANT_GATEWAY_PATHS


def test_bearer_caller_gets_its_document(subscribed: TenantHandle) -> None:
    response = subscribed.client.get(
        "/v1/openapi.json", headers={"Authorization": f"Bearer {subscribed.key}"}
    )
    assert "/contract/things" in response.json()["paths"]


def everything(contract) -> set[str]:
    """Every gateway path and every mounted module's paths under ``/<module>``."""
    expected = set(gateway_paths())
    for name in registry_of(contract.app).modules:
        expected |= {f"/{name}{path}" for path in module_document(contract.client, name)["paths"]}
    return expected


def test_document_without_a_key_has_everything(contract) -> None:
    document = contract.client.get("/v1/openapi.json").json()
    assert_sound(document)
    assert set(document["paths"]) == everything(contract)
    assert set(document["paths"]) >= ADMIN_PATHS
    assert {"/contract/things", "/contract/boom"} <= set(document["paths"])


def test_operator_key_gets_everything(contract) -> None:
    response = contract.admin.request("GET", "/v1/openapi.json")
    assert response.status_code == 200, response.text
    assert set(response.json()["paths"]) == everything(contract)


def test_bad_key_gets_no_document(client: Any) -> None:
    response = client.get("/v1/openapi.json", headers={"X-API-Key": "alm_AAAAAAAAAAAA_" + "B" * 32})
    assert response.status_code == 401


def test_document_follows_subscription_changes(contract, subscribed: TenantHandle) -> None:
    contract.admin.request("DELETE", f"/v1/tenants/{subscribed.id}/subscriptions/contract")
    assert set(subscribed.get("/v1/openapi.json").json()["paths"]) == TENANT_GATEWAY_PATHS


def test_calendar_only_for_its_subscribers(admin: Admin, app: Any) -> None:
    pytest.importorskip("almacen_calendar")
    if "calendar" not in registry_of(app).modules:
        pytest.skip("almacen_calendar is importable but its module is not mounted")
    with_calendar = admin.new_tenant(modules=["calendar"])
    without = admin.new_tenant()
    document = with_calendar.get("/v1/openapi.json").json()
    assert_sound(document)
    calendar_paths = {path for path in document["paths"] if path.startswith("/calendar/")}
    assert calendar_paths
    assert not set(document["paths"]) & ADMIN_PATHS
    other = without.get("/v1/openapi.json").json()
    assert not [path for path in other["paths"] if path.startswith("/calendar")]


def module_document(client: Any, name: str) -> dict[str, Any]:
    response = client.get(f"/v1/{name}/openapi.json")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_every_module_document_is_valid(app: Any, client: Any, contract) -> None:
    served = [(client, name) for name in registry_of(app).modules]
    served.append((contract.client, "contract"))
    for module_client, name in served:
        document = module_document(module_client, name)
        assert_sound(document)
        assert document["paths"], name
        assert not set(document["paths"]) & ADMIN_PATHS


def test_gateway_document_as_mounted_is_valid(app: Any) -> None:
    assert_sound(gateway_of(app).documents[None])


def test_operations_that_validate_input_document_400(client: Any) -> None:
    document = client.get("/v1/openapi.json").json()
    missing = []
    for path, method, operation in operations(document):
        item = document["paths"][path]
        validated = operation.get("parameters", []) + item.get("parameters", [])
        if (validated or "requestBody" in operation) and "400" not in operation["responses"]:
            missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_secured_operations_document_401(client: Any) -> None:
    document = client.get("/v1/openapi.json").json()
    for path, method, operation in operations(document):
        security = operation.get("security", document.get("security", []))
        if security and {} not in security:
            assert "401" in operation["responses"], (method, path)
