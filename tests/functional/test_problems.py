"""Every error is an RFC 9457 problem document: its type, title, status, detail, the request
id, and for bad input the faults and where they are. A rejected request leaves no row."""

from __future__ import annotations

from typing import Any

import pytest

from tests.common.actors import Admin, TenantHandle, assert_problem
from tests.plugins.contract_module import SECRET

UNKNOWN_ID = "0" * 32
WELL_FORMED_UNKNOWN_KEY = "alm_AAAAAAAAAAAA_" + "B" * 32


def problem(response: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    """Assert a complete problem document; return its body."""
    body = assert_problem(response, status, slug=slug)
    assert isinstance(body.get("detail"), str)
    assert body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def slugs(admin: Admin, all_items: Any) -> list[str]:
    return [item["slug"] for item in all_items(admin, "/v1/tenants")]


# -- 400 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"slug": 5, "name": "x"}, "/slug"),
        ({"slug": "ok-slug", "name": ["x"]}, "/name"),
        ({"slug": "Not A Slug", "name": "x"}, "/slug"),
        ({"slug": "ok-slug", "name": "x", "rate_limit": 100}, "/rate_limit"),
    ],
)
def test_wrong_types_name_the_pointer(
    admin: Admin, all_items: Any, unique: Any, body: dict[str, Any], pointer: str
) -> None:
    if body["slug"] == "ok-slug":
        body = {**body, "slug": unique("bad-type")}
    response = admin.request("POST", "/v1/tenants", json=body)
    result = problem(response, 400, slug="validation-error")
    assert pointer in {error["pointer"] for error in result["errors"]}, result
    assert all(error["detail"] for error in result["errors"])
    if isinstance(body["slug"], str):
        assert body["slug"] not in slugs(admin, all_items)


def test_every_fault_is_reported(admin: Admin) -> None:
    response = admin.request("POST", "/v1/tenants", json={"slug": 5, "name": ""})
    result = problem(response, 400, slug="validation-error")
    assert {error["pointer"] for error in result["errors"]} == {"/slug", "/name"}


def test_missing_field_is_named(admin: Admin, all_items: Any, unique: Any) -> None:
    name = unique("missing-slug")
    response = admin.request("POST", "/v1/tenants", json={"name": name})
    result = problem(response, 400, slug="validation-error")
    assert any("slug" in error["detail"] for error in result["errors"]), result
    assert all("pointer" in error for error in result["errors"])
    assert name not in {item["name"] for item in all_items(admin, "/v1/tenants")}


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"name": "x"}, "/slug"),
        ({"slug": "pointer-check", "name": "x", "extra": 1}, "/extra"),
    ],
)
def test_missing_or_extra_member_has_its_own_pointer(
    admin: Admin, body: dict[str, Any], pointer: str
) -> None:
    response = admin.request("POST", "/v1/tenants", json=body)
    result = problem(response, 400, slug="validation-error")
    assert [error["pointer"] for error in result["errors"]] == [pointer]


def test_extra_property_is_rejected(admin: Admin, all_items: Any, unique: Any) -> None:
    slug = unique("extra")
    response = admin.request("POST", "/v1/tenants", json={"slug": slug, "name": "x", "owner": 1})
    result = problem(response, 400, slug="validation-error")
    assert any("owner" in error["detail"] for error in result["errors"]), result
    assert slug not in slugs(admin, all_items)


def test_body_of_wrong_json_type(admin: Admin) -> None:
    response = admin.request("POST", "/v1/tenants", json=["slug", "name"])
    result = problem(response, 400, slug="validation-error")
    assert "object" in result["errors"][0]["detail"]


@pytest.mark.parametrize("raw", [b'{"slug": ', b"{'slug': 'x'}", b"\xff\xfe"])
def test_malformed_json(admin: Admin, raw: bytes) -> None:
    response = admin.request(
        "POST", "/v1/tenants", content=raw, headers={"Content-Type": "application/json"}
    )
    result = problem(response, 400, slug="bad-request")
    assert result["errors"][0]["pointer"] == ""
    assert "not valid JSON" in result["detail"]


def test_missing_body_is_a_fault_at_the_root(admin: Admin) -> None:
    response = admin.request("POST", "/v1/tenants", headers={"Content-Type": "application/json"})
    result = problem(response, 400, slug="validation-error")
    assert result["errors"] == [{"pointer": "", "detail": "missing"}]


def test_missing_body_is_a_problem(admin: Admin) -> None:
    response = admin.request("POST", "/v1/tenants", headers={"Content-Type": "application/json"})
    problem(response, 400, slug="validation-error")


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("limit=0", "minimum"),
        ("limit=501", "maximum"),
        ("limit=abc", "integer"),
        ("limit=-3", "minimum"),
    ],
)
def test_bad_query_parameter_is_named(admin: Admin, query: str, detail: str) -> None:
    response = admin.request("GET", f"/v1/tenants?{query}")
    result = problem(response, 400, slug="validation-error")
    assert result["errors"] == [
        {"parameter": "limit", "in": "query", "detail": result["errors"][0]["detail"]}
    ]
    assert detail in result["errors"][0]["detail"]


def test_bad_path_parameter_is_named(admin: Admin) -> None:
    response = admin.request("GET", "/v1/tenants/not-a-tenant-id")
    result = problem(response, 400, slug="validation-error")
    assert [(e["parameter"], e["in"]) for e in result["errors"]] == [("tenant_id", "path")]


def test_module_bodies_are_validated_too(contract) -> None:
    tenant = contract.new_tenant()
    response = tenant.post("/v1/contract/things", json={"name": ""})
    result = problem(response, 400, slug="validation-error")
    assert [error["pointer"] for error in result["errors"]] == ["/name"]
    assert contract.plugin.calls_of(tenant.id) == []


def test_wrong_content_type_is_415(admin: Admin) -> None:
    response = admin.request(
        "POST", "/v1/tenants", content=b"slug=x", headers={"Content-Type": "text/plain"}
    )
    problem(response, 415, slug="unsupported-media-type")


# -- 401 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": ""},
        {"X-API-Key": WELL_FORMED_UNKNOWN_KEY},
        {"X-API-Key": "not-a-key"},
        {"X-API-Key": "alm_short_key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": f"Bearer {WELL_FORMED_UNKNOWN_KEY}"},
    ],
    ids=["none", "empty", "unknown", "malformed", "malformed-prefix", "basic", "bearer-unknown"],
)
def test_missing_or_bad_key_is_401(client: Any, headers: dict[str, str]) -> None:
    response = client.get("/v1/me", headers=headers)
    problem(response, 401, slug="unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_other_tenants_key_with_a_wrong_secret_is_401(tenant: TenantHandle) -> None:
    forged = tenant.key[:-4] + ("AAAA" if not tenant.key.endswith("AAAA") else "BBBB")
    response = tenant.client.get("/v1/me", headers={"X-API-Key": forged})
    problem(response, 401, slug="unauthenticated")
    assert tenant.get("/v1/me").status_code == 200


def test_bearer_form_works(tenant: TenantHandle) -> None:
    for scheme in ("Bearer", "bearer"):
        response = tenant.client.get("/v1/me", headers={"Authorization": f"{scheme} {tenant.key}"})
        assert response.status_code == 200, response.text
        assert response.json()["id"] == tenant.id


def test_revoked_key_is_401(admin: Admin, tenant: TenantHandle) -> None:
    assert tenant.get("/v1/me").status_code == 200
    response = admin.request("DELETE", f"/v1/tenants/{tenant.id}/keys/{tenant.key_id}")
    assert response.status_code == 200, response.text
    problem(tenant.get("/v1/me"), 401, slug="unauthenticated")


def test_suspended_tenant_is_401(admin: Admin, tenant: TenantHandle) -> None:
    assert tenant.get("/v1/me").status_code == 200
    response = admin.request("PATCH", f"/v1/tenants/{tenant.id}", json={"status": "suspended"})
    assert response.status_code == 200, response.text
    problem(tenant.get("/v1/me"), 401, slug="unauthenticated")
    bearer = tenant.client.get("/v1/me", headers={"Authorization": f"Bearer {tenant.key}"})
    problem(bearer, 401, slug="unauthenticated")


# -- 403 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/tenants"),
        ("POST", "/v1/tenants"),
        ("GET", "/v1/plugins"),
        ("GET", "/v1/tenants/{id}"),
        ("PATCH", "/v1/tenants/{id}"),
        ("GET", "/v1/tenants/{id}/keys"),
        ("POST", "/v1/tenants/{id}/keys"),
    ],
)
def test_tenant_key_on_admin_endpoint_is_403(
    admin: Admin, all_items: Any, unique: Any, tenant: TenantHandle, method: str, path: str
) -> None:
    slug = unique("sneaky")
    payloads = {
        "POST /v1/tenants": {"slug": slug, "name": slug},
        "PATCH /v1/tenants/{id}": {"status": "suspended"},
        "POST /v1/tenants/{id}/keys": {"name": "sneaky"},
    }
    response = tenant.client.request(
        method,
        path.format(id=tenant.id),
        headers=tenant.headers,
        json=payloads.get(f"{method} {path}"),
    )
    problem(response, 403, slug="forbidden")
    keys = all_items(admin, f"/v1/tenants/{tenant.id}/keys")
    assert [key["id"] for key in keys] == [tenant.key_id]
    assert admin.request("GET", f"/v1/tenants/{tenant.id}").json()["status"] == "active"
    assert slug not in slugs(admin, all_items)


def test_admin_key_on_tenant_endpoint_is_403(admin: Admin) -> None:
    problem(admin.request("GET", "/v1/me"), 403, slug="forbidden")


def test_admin_key_on_module_endpoint_is_403(contract) -> None:
    problem(contract.admin.request("GET", "/v1/contract/things"), 403, slug="forbidden")


def test_unsubscribed_module_is_403(contract) -> None:
    outsider = contract.new_tenant(subscribed=False)
    response = outsider.post("/v1/contract/things", json={"name": "x"})
    body = problem(response, 403, slug="module-not-subscribed")
    assert body["module"] == "contract"
    assert contract.plugin.calls_of(outsider.id) == []


# -- 404, 405 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/nope",
        "/v2/tenants",
        "/",
        "/v1/contract/nope",
        # A decoded line break in a path parameter: no route to connexion, one to Flask.
        "/v1/contract/things/a%0Ab",
        "/v1/tenants/a%0Ab",
    ],
)
def test_unknown_path_is_404(contract, path: str) -> None:
    tenant = contract.new_tenant()
    problem(tenant.get(path), 404, slug="not-found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/tenants/{id}"),
        ("PATCH", "/v1/tenants/{id}"),
        ("GET", "/v1/tenants/{id}/keys"),
        ("POST", "/v1/tenants/{id}/keys"),
        ("GET", "/v1/tenants/{id}/subscriptions"),
    ],
)
def test_unknown_tenant_is_404(admin: Admin, method: str, path: str) -> None:
    json = {"name": "x"} if method in ("PATCH", "POST") else None
    response = admin.request(method, path.format(id=UNKNOWN_ID), json=json)
    body = problem(response, 404, slug="not-found")
    assert UNKNOWN_ID in body["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/v1/tenants"), ("PUT", "/v1/me"), ("POST", "/v1/healthz")],
)
def test_wrong_method_is_405(tenant: TenantHandle, method: str, path: str) -> None:
    response = tenant.client.request(method, path, headers=tenant.headers)
    problem(response, 405, slug="method-not-allowed")


# -- 409, 422 ------------------------------------------------------------------------------


def test_duplicate_slug_is_409(admin: Admin, all_items: Any, tenant: TenantHandle) -> None:
    response = admin.request("POST", "/v1/tenants", json={"slug": tenant.slug, "name": "again"})
    body = problem(response, 409, slug="conflict")
    assert body["errors"][0]["pointer"] == "/slug"
    assert slugs(admin, all_items).count(tenant.slug) == 1


def test_invalid_rate_limit_on_create_is_422(admin: Admin, all_items: Any, unique: Any) -> None:
    slug = unique("lots")
    response = admin.request(
        "POST", "/v1/tenants", json={"slug": slug, "name": slug, "rate_limit": "lots"}
    )
    body = problem(response, 422, slug="unprocessable")
    assert body["errors"][0]["pointer"] == "/rate_limit"
    assert slug not in slugs(admin, all_items)


def test_invalid_rate_limit_on_patch_is_422(admin: Admin, tenant: TenantHandle) -> None:
    path = f"/v1/tenants/{tenant.id}"
    response = admin.request("PATCH", path, json={"rate_limit": "lots", "name": "renamed"})
    body = problem(response, 422, slug="unprocessable")
    assert body["errors"][0]["pointer"] == "/rate_limit"
    unchanged = admin.request("GET", path).json()
    assert (unchanged["rate_limit"], unchanged["name"]) == (None, tenant.slug)


def test_rejected_module_configuration_is_422(contract) -> None:
    tenant = contract.new_tenant(subscribed=False)
    response = contract.admin.subscribe(tenant.id, "contract", {"limit": "many", "colour": "red"})
    body = problem(response, 422, slug="invalid-configuration")
    assert body["module"] == "contract"
    assert {error["pointer"] for error in body["errors"]} == {"/config/limit", "/config/colour"}
    listing = contract.admin.request("GET", f"/v1/tenants/{tenant.id}/subscriptions")
    assert listing.json()["items"] == []
    problem(tenant.get("/v1/contract/things"), 403, slug="module-not-subscribed")


def test_rejected_reconfiguration_keeps_the_old_one(contract) -> None:
    tenant = contract.new_tenant(subscribed=False)
    assert contract.admin.subscribe(tenant.id, "contract", {"greeting": "hola"}).status_code == 200
    response = contract.admin.subscribe(tenant.id, "contract", {"greeting": 7})
    problem(response, 422, slug="invalid-configuration")
    listing = contract.admin.request("GET", f"/v1/tenants/{tenant.id}/subscriptions")
    assert [(s["module"], s["config"]) for s in listing.json()["items"]] == [
        ("contract", {"greeting": "hola"})
    ]


# -- 500 -----------------------------------------------------------------------------------


def test_plugin_handler_that_raises_is_a_bare_500(contract, all_items: Any) -> None:
    tenant = contract.new_tenant()
    response = tenant.post("/v1/contract/boom")
    body = problem(response, 500, slug="internal-error")
    assert set(body) <= {"type", "title", "status", "detail", "request_id"}
    for leak in (SECRET, "RuntimeError", "Traceback", "File ", "api.py", "boom"):
        assert leak not in response.text
    # The handler wrote a key before it failed; the transaction was rolled back.
    keys = all_items(contract.admin, f"/v1/tenants/{tenant.id}/keys")
    assert [key["id"] for key in keys] == [tenant.key_id]
    assert tenant.get("/v1/me").status_code == 200
