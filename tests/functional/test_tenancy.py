"""The admin API's lifecycle of tenants, keys and subscriptions, and the wall between tenants
on every gateway endpoint a tenant can reach."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from tests.common.actors import Admin, TenantHandle, assert_problem

UNKNOWN_ID = "0" * 32


# -- tenants -------------------------------------------------------------------------------


def test_create_get_and_list_tenant(admin: Admin, all_items: Any, unique: Any) -> None:
    slug = unique("acme")
    response = admin.request(
        "POST", "/v1/tenants", json={"slug": slug, "name": "Acme Cobranzas", "rate_limit": None}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["slug"] == slug
    assert created["name"] == "Acme Cobranzas"
    assert created["status"] == "active"
    assert created["rate_limit"] is None
    assert len(created["id"]) == 32
    when = dt.datetime.fromisoformat(created["created_at"])
    assert when.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - when) < dt.timedelta(minutes=5)

    fetched = admin.request("GET", f"/v1/tenants/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created
    assert created in all_items(admin, "/v1/tenants")


def test_cursor_pagination_visits_every_tenant_once(admin: Admin, unique: Any) -> None:
    mine = [admin.create_tenant(unique("page"))["id"] for _ in range(3)]
    seen: list[str] = []
    cursor = None
    for _ in range(5000):
        params: dict[str, Any] = {"limit": 1}
        if cursor is not None:
            params["cursor"] = cursor
        response = admin.request("GET", "/v1/tenants", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) == 1
        seen.append(page["items"][0]["id"])
        cursor = page["next"]
        if cursor is None:
            break
    assert cursor is None
    assert len(seen) == len(set(seen)), "a tenant was served twice"
    # Creation order: the three appear in the order they were made.
    assert [tenant_id for tenant_id in seen if tenant_id in mine] == mine
    # The last page says so, and a full page of everything agrees with the walk.
    everything = admin.request("GET", "/v1/tenants", params={"limit": 500}).json()
    if everything["next"] is None:
        assert [t["id"] for t in everything["items"]] == seen


def test_page_size_is_respected(admin: Admin, unique: Any) -> None:
    for _ in range(3):
        admin.create_tenant(unique("size"))
    page = admin.request("GET", "/v1/tenants", params={"limit": 2}).json()
    assert len(page["items"]) == 2
    assert isinstance(page["next"], str)
    following = admin.request(
        "GET", "/v1/tenants", params={"limit": 2, "cursor": page["next"]}
    ).json()
    assert not {t["id"] for t in page["items"]} & {t["id"] for t in following["items"]}


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "!!!", "W10", "WyJhIl0", "eyJhIjogMX0", "WyJub3QgYSBkYXRlIiwgIngiXQ"],
    ids=["garbage", "not-base64", "empty-list", "one-value", "object", "not-a-date"],
)
def test_garbage_cursor_is_400(admin: Admin, cursor: str) -> None:
    response = admin.request("GET", "/v1/tenants", params={"cursor": cursor})
    body = assert_problem(response, 400, slug="validation-error")
    assert body["errors"][0]["parameter"] == "cursor"


@pytest.mark.parametrize(
    "values",
    [[1, 2], ["2026-01-01T00:00:00", "x"], [True, "x"]],
    ids=["numbers", "naive-date", "boolean"],
)
def test_crafted_cursor_is_400_not_500(admin: Admin, values: list[Any]) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
    response = admin.request("GET", "/v1/tenants", params={"cursor": cursor})
    body = assert_problem(response, 400, slug="validation-error")
    assert body["errors"][0]["parameter"] == "cursor"


def test_patch_tenant(admin: Admin, tenant: TenantHandle) -> None:
    path = f"/v1/tenants/{tenant.id}"
    response = admin.request("PATCH", path, json={"name": "Renamed", "rate_limit": "50/minute"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed"
    assert response.json()["rate_limit"] == "50/minute"
    fetched = admin.request("GET", path).json()
    assert (fetched["name"], fetched["rate_limit"], fetched["slug"]) == (
        "Renamed",
        "50/minute",
        tenant.slug,
    )
    cleared = admin.request("PATCH", path, json={"rate_limit": None})
    assert cleared.json()["rate_limit"] is None
    assert tenant.get("/v1/me").json()["name"] == "Renamed"


def test_patch_cannot_change_slug_or_id(admin: Admin, tenant: TenantHandle) -> None:
    path = f"/v1/tenants/{tenant.id}"
    for change in ({"slug": "other"}, {"id": UNKNOWN_ID}, {}):
        assert_problem(admin.request("PATCH", path, json=change), 400)
    assert admin.request("GET", path).json()["slug"] == tenant.slug


def test_suspend_then_reactivate(admin: Admin, tenant: TenantHandle) -> None:
    path = f"/v1/tenants/{tenant.id}"
    assert tenant.get("/v1/me").status_code == 200
    suspended = admin.request("PATCH", path, json={"status": "suspended"})
    assert suspended.json()["status"] == "suspended"
    assert_problem(tenant.get("/v1/me"), 401, slug="unauthenticated")
    reactivated = admin.request("PATCH", path, json={"status": "active"})
    assert reactivated.json()["status"] == "active"
    response = tenant.get("/v1/me")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == tenant.id


def test_suspended_tenant_stays_manageable(admin: Admin, tenant: TenantHandle) -> None:
    admin.request("PATCH", f"/v1/tenants/{tenant.id}", json={"status": "suspended"})
    listing = admin.request("GET", f"/v1/tenants/{tenant.id}/keys")
    assert [key["id"] for key in listing.json()["items"]] == [tenant.key_id]
    fresh = admin.create_key(tenant.id)
    assert_problem(tenant.client.get("/v1/me", headers={"X-API-Key": fresh["secret"]}), 401)


# -- keys ----------------------------------------------------------------------------------


def test_issue_key_shows_secret_once(admin: Admin, all_items: Any, tenant: TenantHandle) -> None:
    response = admin.request("POST", f"/v1/tenants/{tenant.id}/keys", json={"name": "ci"})
    assert response.status_code == 201, response.text
    issued = response.json()
    assert issued["name"] == "ci"
    assert issued["secret"].startswith(issued["prefix"] + "_")
    assert issued["revoked_at"] is None
    keys = all_items(admin, f"/v1/tenants/{tenant.id}/keys")
    assert {key["id"] for key in keys} == {tenant.key_id, issued["id"]}
    for key in keys:
        assert "secret" not in key
        assert "secret_hash" not in key
    listing = admin.request("GET", f"/v1/tenants/{tenant.id}/keys")
    assert issued["secret"] not in listing.text
    assert tenant.key not in listing.text
    # The new key works, and is the same tenant.
    response = tenant.client.get("/v1/me", headers={"X-API-Key": issued["secret"]})
    assert response.json()["id"] == tenant.id


def test_key_without_body_is_issued(admin: Admin, tenant: TenantHandle) -> None:
    response = admin.request("POST", f"/v1/tenants/{tenant.id}/keys")
    assert response.status_code == 201, response.text
    assert response.json()["name"] == ""


def test_revoke_key(admin: Admin, all_items: Any, tenant: TenantHandle) -> None:
    spare = admin.create_key(tenant.id)
    response = admin.request("DELETE", f"/v1/tenants/{tenant.id}/keys/{tenant.key_id}")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == tenant.key_id
    assert response.json()["revoked_at"] is not None
    assert "secret" not in response.json()
    assert_problem(tenant.get("/v1/me"), 401, slug="unauthenticated")
    # Revoking one key leaves the tenant's other keys working.
    assert tenant.client.get("/v1/me", headers={"X-API-Key": spare["secret"]}).status_code == 200
    again = admin.request("DELETE", f"/v1/tenants/{tenant.id}/keys/{tenant.key_id}")
    assert again.status_code == 200
    assert again.json()["revoked_at"] == response.json()["revoked_at"]
    listed = {key["id"]: key for key in all_items(admin, f"/v1/tenants/{tenant.id}/keys")}
    assert listed[tenant.key_id]["revoked_at"] == response.json()["revoked_at"]
    assert listed[spare["id"]]["revoked_at"] is None


def test_revoking_through_another_tenant_is_404(
    admin: Admin, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    response = admin.request("DELETE", f"/v1/tenants/{tenant.id}/keys/{other_tenant.key_id}")
    assert_problem(response, 404, slug="not-found")
    assert other_tenant.get("/v1/me").status_code == 200
    keys = admin.request("GET", f"/v1/tenants/{other_tenant.id}/keys").json()["items"]
    assert [(key["id"], key["revoked_at"]) for key in keys] == [(other_tenant.key_id, None)]
    assert tenant.get("/v1/me").status_code == 200


def test_key_listing_is_per_tenant(
    admin: Admin, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    mine = admin.request("GET", f"/v1/tenants/{tenant.id}/keys").json()["items"]
    theirs = admin.request("GET", f"/v1/tenants/{other_tenant.id}/keys").json()["items"]
    assert [key["id"] for key in mine] == [tenant.key_id]
    assert [key["id"] for key in theirs] == [other_tenant.key_id]


def test_key_listing_pages(admin: Admin, tenant: TenantHandle) -> None:
    issued = [admin.create_key(tenant.id)["id"] for _ in range(2)]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 1}
    for _ in range(10):
        page = admin.request("GET", f"/v1/tenants/{tenant.id}/keys", params=params).json()
        seen += [key["id"] for key in page["items"]]
        if page["next"] is None:
            break
        params["cursor"] = page["next"]
    assert seen == [tenant.key_id, *issued]


# -- subscriptions -------------------------------------------------------------------------


def test_subscribe_to_unknown_module_is_404(admin: Admin, tenant: TenantHandle) -> None:
    response = admin.subscribe(tenant.id, "no_such_module")
    body = assert_problem(response, 404, slug="not-found")
    assert body["module"] == "no_such_module"
    listing = admin.request("GET", f"/v1/tenants/{tenant.id}/subscriptions")
    assert listing.json() == {"items": []}
    assert tenant.get("/v1/me").json()["modules"] == []


def test_subscribe_reconfigure_and_unsubscribe(contract) -> None:
    tenant = contract.new_tenant(subscribed=False)
    assert tenant.get("/v1/me").json()["modules"] == []
    assert_problem(tenant.get("/v1/contract/things"), 403, slug="module-not-subscribed")

    subscribed = contract.admin.subscribe(tenant.id, "contract", {"greeting": "hola"})
    assert subscribed.status_code == 200, subscribed.text
    assert subscribed.json()["module"] == "contract"
    assert subscribed.json()["config"] == {"greeting": "hola"}
    assert tenant.get("/v1/me").json()["modules"] == ["contract"]
    assert tenant.get("/v1/contract/things").status_code == 200

    changed = contract.admin.subscribe(tenant.id, "contract", {"limit": 3})
    assert changed.json()["config"] == {"limit": 3}
    listing = contract.admin.request("GET", f"/v1/tenants/{tenant.id}/subscriptions").json()
    assert [(s["module"], s["config"]) for s in listing["items"]] == [("contract", {"limit": 3})]

    gone = contract.admin.request("DELETE", f"/v1/tenants/{tenant.id}/subscriptions/contract")
    assert gone.status_code == 204
    assert gone.content == b""
    assert tenant.get("/v1/me").json()["modules"] == []
    assert_problem(tenant.get("/v1/contract/things"), 403, slug="module-not-subscribed")
    listing = contract.admin.request("GET", f"/v1/tenants/{tenant.id}/subscriptions").json()
    assert listing == {"items": []}
    again = contract.admin.request("DELETE", f"/v1/tenants/{tenant.id}/subscriptions/contract")
    assert_problem(again, 404, slug="not-found")


def test_subscription_without_body(contract) -> None:
    tenant = contract.new_tenant(subscribed=False)
    response = contract.admin.request("PUT", f"/v1/tenants/{tenant.id}/subscriptions/contract")
    assert response.status_code == 200, response.text
    assert response.json()["config"] == {}
    assert tenant.get("/v1/me").json()["modules"] == ["contract"]


def test_unsubscribing_one_tenant_leaves_the_other(contract) -> None:
    first, second = contract.new_tenant(), contract.new_tenant()
    response = contract.admin.request("DELETE", f"/v1/tenants/{first.id}/subscriptions/contract")
    assert response.status_code == 204
    assert second.get("/v1/me").json()["modules"] == ["contract"]
    assert second.get("/v1/contract/things").status_code == 200


# -- isolation -----------------------------------------------------------------------------


def test_me_shows_only_the_caller(contract) -> None:
    subscribed = contract.new_tenant()
    plain = contract.new_tenant(subscribed=False)
    mine = subscribed.get("/v1/me").json()
    theirs = plain.get("/v1/me").json()
    assert mine == {
        "id": subscribed.id,
        "slug": subscribed.slug,
        "name": subscribed.slug,
        "modules": ["contract"],
    }
    assert theirs == {"id": plain.id, "slug": plain.slug, "name": plain.slug, "modules": []}


def test_openapi_shows_only_the_callers_modules(contract) -> None:
    subscribed = contract.new_tenant()
    plain = contract.new_tenant(subscribed=False)
    with_module = subscribed.get("/v1/openapi.json").json()["paths"]
    without = plain.get("/v1/openapi.json").json()["paths"]
    assert "/contract/things" in with_module
    assert not [path for path in without if path.startswith("/contract")]
    for paths in (with_module, without):
        assert "/tenants" not in paths
        assert "/plugins" not in paths
        assert "/me" in paths


def test_module_data_is_per_tenant(contract) -> None:
    first, second = contract.new_tenant(), contract.new_tenant()
    made = first.post("/v1/contract/things", json={"name": "mine"}).json()
    assert first.get("/v1/contract/things").json()["items"] == [made]
    assert second.get("/v1/contract/things").json()["items"] == []


def test_one_tenants_key_never_acts_for_another(
    admin: Admin, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    # Revoking or suspending one tenant does nothing to the other.
    admin.request("PATCH", f"/v1/tenants/{tenant.id}", json={"status": "suspended"})
    assert_problem(tenant.get("/v1/me"), 401)
    assert other_tenant.get("/v1/me").json()["id"] == other_tenant.id


# -- module configurations through the per-worker cache ------------------------------------


def _offers_config(handle: TenantHandle) -> dict[str, Decimal]:
    response = handle.get("/v1/offers/config")
    assert response.status_code == 200, response.text
    return {name: Decimal(value) for name, value in response.json().items()}


def test_module_configuration_is_each_tenants_own_and_a_change_is_seen_at_once(
    admin: Admin,
) -> None:
    first, second = admin.new_tenant(), admin.new_tenant()
    for handle, rate in ((first, "0.05"), (second, "0.25")):
        response = admin.subscribe(handle.id, "offers", {"discount_rate": rate})
        assert response.status_code == 200, response.text
    for _ in range(2):  # the second read is the cached one
        assert _offers_config(first)["discount_rate"] == Decimal("0.05")
        assert _offers_config(second)["discount_rate"] == Decimal("0.25")
    assert _offers_config(first)["default_propensity"] == Decimal("0.30")  # the default

    changed = admin.subscribe(first.id, "offers", {"discount_rate": "0.07"})
    assert changed.status_code == 200, changed.text
    assert _offers_config(first)["discount_rate"] == Decimal("0.07")
    assert _offers_config(second)["discount_rate"] == Decimal("0.25")

    gone = admin.request("DELETE", f"/v1/tenants/{first.id}/subscriptions/offers")
    assert gone.status_code == 204, gone.text
    assert_problem(first.get("/v1/offers/config"), 403, slug="module-not-subscribed")
    assert _offers_config(second)["discount_rate"] == Decimal("0.25")
