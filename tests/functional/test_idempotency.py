"""Idempotency-Key on POST: a retry replays the first response and creates nothing new."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.common.actors import Admin, TenantHandle, assert_problem

#: Upper bound of every wait on another thread; the happy path takes milliseconds.
WAIT = 10.0


def test_same_key_same_body_replays(contract) -> None:
    tenant = contract.new_tenant()
    headers = {"Idempotency-Key": "create-thing-1"}
    first = tenant.post("/v1/contract/things", json={"name": "invoice"}, headers=headers)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    for _ in range(2):
        again = tenant.post("/v1/contract/things", json={"name": "invoice"}, headers=headers)
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert again.headers["Content-Type"] == first.headers["Content-Type"]
        assert int(again.headers["Content-Length"]) == len(again.content)
    assert len(contract.plugin.calls_of(tenant.id)) == 1
    assert tenant.get("/v1/contract/things").json()["items"] == [first.json()]


def test_same_key_creates_one_tenant(admin: Admin, all_items: Any, unique: Any) -> None:
    slug = unique("idem")
    body = {"slug": slug, "name": "Cobranzas SA"}
    headers = {"Idempotency-Key": unique("key")}
    first = admin.request("POST", "/v1/tenants", json=body, headers=headers)
    again = admin.request("POST", "/v1/tenants", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert [t["id"] for t in all_items(admin, "/v1/tenants") if t["slug"] == slug] == [
        first.json()["id"]
    ]


def test_without_a_key_each_post_runs(contract) -> None:
    tenant = contract.new_tenant()
    first = tenant.post("/v1/contract/things", json={"name": "a"})
    second = tenant.post("/v1/contract/things", json={"name": "a"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert "Idempotent-Replayed" not in second.headers


def test_a_rejected_request_stays_rejected(
    admin: Admin, all_items: Any, tenant: TenantHandle, unique: Any
) -> None:
    # A handler's error rolls its transaction back; the key does not turn it into a success.
    body = {"slug": tenant.slug, "name": "duplicate"}
    headers = {"Idempotency-Key": unique("dup")}
    for _ in range(2):
        response = admin.request("POST", "/v1/tenants", json=body, headers=headers)
        assert_problem(response, 409, slug="conflict")
    assert [t["slug"] for t in all_items(admin, "/v1/tenants")].count(tenant.slug) == 1


@pytest.mark.parametrize(
    ("second_path", "second_body"),
    [
        ("/v1/contract/things", {"name": "something else"}),
        ("/v1/contract/things?note=1", {"name": "invoice"}),
        ("/v1/contract/boom", None),
    ],
    ids=["body", "query", "path"],
)
def test_same_key_other_request_is_422(
    contract, second_path: str, second_body: dict[str, Any] | None
) -> None:
    tenant = contract.new_tenant()
    headers = {"Idempotency-Key": "reused-key"}
    first = tenant.post("/v1/contract/things", json={"name": "invoice"}, headers=headers)
    assert first.status_code == 201
    response = tenant.post(second_path, json=second_body, headers=headers)
    body = assert_problem(response, 422, slug="idempotency-key-reused")
    assert body["errors"][0]["header"] == "Idempotency-Key"
    assert len(contract.plugin.calls_of(tenant.id)) == 1
    assert len(tenant.get("/v1/contract/things").json()["items"]) == 1


def test_two_tenants_same_key_do_not_collide(contract) -> None:
    first, second = contract.new_tenant(), contract.new_tenant()
    headers = {"Idempotency-Key": "shared-by-accident"}
    a = first.post("/v1/contract/things", json={"name": "same"}, headers=headers)
    b = second.post("/v1/contract/things", json={"name": "same"}, headers=headers)
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b.headers
    assert a.json()["id"] != b.json()["id"]
    assert len(contract.plugin.calls_of(first.id)) == len(contract.plugin.calls_of(second.id)) == 1
    # And a different body under the same key is still each tenant's own business.
    c = second.post("/v1/contract/things", json={"name": "same"}, headers=headers)
    assert c.headers["Idempotent-Replayed"] == "true"
    assert c.json() == b.json()


def test_retry_while_in_flight_is_409(contract) -> None:
    tenant = contract.new_tenant()
    contract.plugin.gate = gate = threading.Event()
    headers = {**tenant.headers, "Idempotency-Key": "slow-one"}
    body = {"name": "slow"}
    # One event loop serves both requests, as one worker would.
    with contract.app.test_client() as client, ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(client.post, "/v1/contract/things", json=body, headers=headers)
        try:
            assert contract.plugin.entered.wait(WAIT), "the first request never started"
            retry = client.post("/v1/contract/things", json=body, headers=headers)
        finally:
            gate.set()
        completed = first.result(timeout=WAIT)
    problem = assert_problem(retry, 409, slug="idempotency-in-flight")
    assert retry.headers["Retry-After"] == "1"
    assert problem["detail"]
    assert completed.status_code == 201, completed.text
    assert len(contract.plugin.calls_of(tenant.id)) == 1
    after = tenant.post("/v1/contract/things", json=body, headers={"Idempotency-Key": "slow-one"})
    assert after.headers["Idempotent-Replayed"] == "true"
    assert after.json() == completed.json()


def test_a_5xx_releases_the_key(contract) -> None:
    tenant = contract.new_tenant()
    contract.plugin.failures = 1
    headers = {"Idempotency-Key": "flaky"}
    failed = tenant.post("/v1/contract/things", json={"name": "x"}, headers=headers)
    assert_problem(failed, 500, slug="internal-error")
    retried = tenant.post("/v1/contract/things", json={"name": "x"}, headers=headers)
    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    assert len(contract.plugin.calls_of(tenant.id)) == 2
    replayed = tenant.post("/v1/contract/things", json={"name": "x"}, headers=headers)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == retried.json()
    assert len(contract.plugin.calls_of(tenant.id)) == 2


@pytest.mark.parametrize(
    "key",
    ["", "has space", "k" * 256, "tab\there", "ñ"],
    ids=["empty", "space", "too-long", "tab", "non-ascii"],
)
def test_invalid_key_is_400(contract, key: str) -> None:
    tenant = contract.new_tenant()
    response = tenant.post(
        "/v1/contract/things", json={"name": "x"}, headers={"Idempotency-Key": key.encode()}
    )
    body = assert_problem(response, 400)
    assert {"header": "Idempotency-Key", "detail": "invalid format"} in body["errors"]
    assert contract.plugin.calls_of(tenant.id) == []


def test_longest_valid_key_is_accepted(contract) -> None:
    tenant = contract.new_tenant()
    headers = {"Idempotency-Key": "k" * 255}
    first = tenant.post("/v1/contract/things", json={"name": "x"}, headers=headers)
    again = tenant.post("/v1/contract/things", json={"name": "x"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
