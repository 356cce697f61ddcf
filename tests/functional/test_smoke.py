"""The shortest path a new user takes: health, an operator, a tenant, its key."""

from __future__ import annotations

from tests.common.actors import Admin, TenantHandle, assert_problem


def test_healthz_is_public(client) -> None:
    response = client.get("/v1/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_tenant_sees_itself(tenant: TenantHandle) -> None:
    response = tenant.get("/v1/me")
    assert response.status_code == 200
    assert response.json()["id"] == tenant.id


def test_unknown_key_is_401(client) -> None:
    response = client.get("/v1/me", headers={"X-API-Key": "alm_AAAAAAAAAAAA_" + "B" * 32})
    assert_problem(response, 401, slug="unauthenticated")


def test_admin_lists_tenants(admin: Admin, tenant: TenantHandle) -> None:
    response = admin.request("GET", "/v1/tenants?limit=500")
    assert response.status_code == 200
    assert tenant.id in {t["id"] for t in response.json()["items"]}
