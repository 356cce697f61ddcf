"""Per-tenant rate limits: 429 with Retry-After and RateLimit-*, shared through Redis across
app instances (workers), and failing open when the storage cannot be reached."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from almacen.gateway.app import gateway_of
from tests.common.actors import Admin, TenantHandle, assert_problem

REDIS_URL = "redis://127.0.0.1:6379/15"
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"


def storage_errors(client: Any) -> float:
    """The value of ``almacen_rate_limit_storage_errors_total`` on one app."""
    response = client.get("/v1/metrics")
    assert response.status_code == 200, response.text
    match = re.search(
        r"^almacen_rate_limit_storage_errors_total (\S+)$", response.text, re.MULTILINE
    )
    assert match, response.text
    return float(match.group(1))


@contextlib.contextmanager
def serving(app: Any) -> Iterator[Any]:
    """A client that keeps one event loop for the block, as a real worker does.

    The async Redis client binds its connections to the loop that opened them; a bare test
    client starts a loop per request. The connections are closed before the loop ends.
    """
    with app.test_client() as client:
        try:
            yield client
        finally:
            storage = gateway_of(app).limiter.storage
            redis_client = getattr(getattr(storage, "bridge", None), "storage", None)
            if redis_client is not None:
                client.portal.call(redis_client.aclose)


@pytest.fixture
def redis_keys() -> Iterator[Callable[[str], list[str]]]:
    """Redis database 15, emptied of the keys of the tenants a test used."""
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError as exc:
        connection.close()
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    seen: list[str] = []

    def keys_of(tenant_id: str) -> list[str]:
        seen.append(tenant_id)
        return [key.decode() for key in connection.scan_iter(match=f"*{tenant_id}*")]

    try:
        yield keys_of
    finally:
        for tenant_id in seen:
            for key in connection.scan_iter(match=f"*{tenant_id}*"):
                connection.delete(key)
        connection.close()


def assert_rate_limited(response: Any, limit: int) -> None:
    """A 429 problem with when to retry and the RateLimit-* fields."""
    body = assert_problem(response, 429, slug="rate-limited")
    assert body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.headers["RateLimit-Limit"] == str(limit)
    assert response.headers["RateLimit-Remaining"] == "0"
    assert 1 <= int(response.headers["RateLimit-Reset"]) <= 60
    assert response.headers["RateLimit-Policy"] == f"{limit};w=60"


def test_fourth_request_in_a_minute_is_429(admin: Admin) -> None:
    limited = admin.new_tenant(rate_limit="3/minute")
    assert admin.request("GET", f"/v1/tenants/{limited.id}").json()["rate_limit"] == "3/minute"
    for _ in range(3):
        assert limited.get("/v1/me").status_code == 200
    assert_rate_limited(limited.get("/v1/me"), 3)


def test_rate_limited_tenant_does_not_slow_others(admin: Admin, other_tenant: TenantHandle) -> None:
    limited = admin.new_tenant(rate_limit="1/minute")
    assert limited.get("/v1/me").status_code == 200
    assert_rate_limited(limited.get("/v1/me"), 1)
    for _ in range(5):
        assert other_tenant.get("/v1/me").status_code == 200


def test_new_rate_limit_applies_at_once(admin: Admin, tenant: TenantHandle) -> None:
    for _ in range(3):
        assert tenant.get("/v1/me").status_code == 200
    response = admin.request("PATCH", f"/v1/tenants/{tenant.id}", json={"rate_limit": "2/minute"})
    assert response.status_code == 200, response.text
    assert tenant.get("/v1/me").status_code == 200
    assert tenant.get("/v1/me").status_code == 200
    assert_rate_limited(tenant.get("/v1/me"), 2)


def test_module_operations_count_too(contract) -> None:
    limited = contract.new_tenant(rate_limit="2/minute")
    assert limited.get("/v1/contract/things").status_code == 200
    assert limited.post("/v1/contract/things", json={"name": "a"}).status_code == 201
    assert_rate_limited(limited.post("/v1/contract/things", json={"name": "b"}), 2)
    assert len(contract.plugin.calls_of(limited.id)) == 1


def test_redis_limit_holds_across_two_apps(
    make_app: Callable[..., Any], admin: Admin, redis_keys: Callable[[str], list[str]]
) -> None:
    # Two app instances are two workers: each has its own limiter, both count in Redis.
    first_app = make_app(rate_limit_storage=REDIS_URL)
    second_app = make_app(rate_limit_storage=REDIS_URL)
    limited = admin.new_tenant(rate_limit="3/minute")
    with serving(first_app) as first, serving(second_app) as second:
        assert first.get("/v1/me", headers=limited.headers).status_code == 200
        assert second.get("/v1/me", headers=limited.headers).status_code == 200
        assert first.get("/v1/me", headers=limited.headers).status_code == 200
        assert_rate_limited(second.get("/v1/me", headers=limited.headers), 3)
        assert_rate_limited(first.get("/v1/me", headers=limited.headers), 3)
        assert redis_keys(limited.id), "the counter is not in Redis"
        # Counted, not failed open.
        assert storage_errors(first) == 0
        assert storage_errors(second) == 0


def test_unreachable_redis_fails_open_and_counts(
    make_app: Callable[..., Any], admin: Admin
) -> None:
    app = make_app(rate_limit_storage=UNREACHABLE_REDIS_URL)
    limited = admin.new_tenant(rate_limit="1/minute")
    with serving(app) as client:
        before = storage_errors(client)
        for _ in range(3):
            response = client.get("/v1/me", headers=limited.headers)
            assert response.status_code == 200, response.text
            assert response.json()["id"] == limited.id
        assert storage_errors(client) == before + 3
