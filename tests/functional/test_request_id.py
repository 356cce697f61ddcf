"""X-Request-ID: a client's id is echoed, one is made when absent or unusable, and problem
documents carry it so that a support request can name the failed call."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.common.actors import Admin, TenantHandle, assert_problem

GENERATED = re.compile(r"^[0-9a-f]{32}$")


@pytest.mark.parametrize(
    "request_id",
    [
        "abc",
        "req-42",
        "2026-11-28T06:00:00Z.a_b",
        "x" * 128,
        "550e8400-e29b-41d4-a716-446655440000",
    ],
)
def test_valid_request_id_is_echoed(client: Any, request_id: str) -> None:
    response = client.get("/v1/healthz", headers={"X-Request-ID": request_id})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == request_id


def test_request_id_is_generated_when_absent(client: Any) -> None:
    first = client.get("/v1/healthz").headers["X-Request-ID"]
    second = client.get("/v1/healthz").headers["X-Request-ID"]
    assert GENERATED.match(first), first
    assert GENERATED.match(second), second
    assert first != second


@pytest.mark.parametrize(
    "request_id",
    ["", "has space", "x" * 129, "semi;colon", 'quote"d', "new\tline", "ñandú"],
    ids=["empty", "space", "too-long", "semicolon", "quote", "tab", "non-ascii"],
)
def test_invalid_request_id_is_replaced(client: Any, request_id: str) -> None:
    response = client.get("/v1/healthz", headers={"X-Request-ID": request_id.encode()})
    assert response.status_code == 200
    echoed = response.headers.get_list("X-Request-ID")
    assert len(echoed) == 1
    assert GENERATED.match(echoed[0]), echoed


def test_request_id_is_in_problem_bodies(client: Any) -> None:
    response = client.get("/v1/me", headers={"X-Request-ID": "support-ticket-7"})
    body = assert_problem(response, 401)
    assert body["request_id"] == "support-ticket-7"
    assert response.headers["X-Request-ID"] == "support-ticket-7"


def test_generated_request_id_is_in_problem_bodies(admin: Admin) -> None:
    response = admin.request("GET", "/v1/tenants?limit=0", headers={"X-Request-ID": "bad id"})
    body = assert_problem(response, 400)
    assert GENERATED.match(body["request_id"])
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_request_id_of_a_500(contract) -> None:
    tenant = contract.new_tenant()
    response = tenant.post("/v1/contract/boom", headers={"X-Request-ID": "boom-1"})
    assert assert_problem(response, 500)["request_id"] == "boom-1"
    assert response.headers["X-Request-ID"] == "boom-1"


def test_request_id_on_success_of_every_kind(admin: Admin, tenant: TenantHandle) -> None:
    responses = [
        tenant.get("/v1/me", headers={"X-Request-ID": "me-1"}),
        admin.request("GET", "/v1/tenants", headers={"X-Request-ID": "me-1"}),
        tenant.client.get("/v1/metrics", headers={"X-Request-ID": "me-1"}),
        tenant.client.get("/v1/openapi.json", headers={"X-Request-ID": "me-1"}),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert response.headers.get_list("X-Request-ID") == ["me-1"]


def test_replayed_response_has_the_retrys_own_id(contract) -> None:
    tenant = contract.new_tenant()
    headers = {"Idempotency-Key": "request-id-replay"}
    first = tenant.post(
        "/v1/contract/things", json={"name": "a"}, headers={**headers, "X-Request-ID": "first"}
    )
    again = tenant.post(
        "/v1/contract/things", json={"name": "a"}, headers={**headers, "X-Request-ID": "again"}
    )
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.headers.get_list("X-Request-ID") == ["first"]
    assert again.headers.get_list("X-Request-ID") == ["again"]
