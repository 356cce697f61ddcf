"""Schemathesis drives every operation of a tenant's document with generated requests: no
response may be a 5xx, and every 4xx must be a problem document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.common.actors import PROBLEM_JSON, TenantHandle

pytestmark = pytest.mark.once

TRANSPORT_KEYS = ("method", "url", "headers", "params", "json", "content", "data")
#: Bulk writers start background jobs of up to 100,000 rows: their own tests cover them.
SKIPPED = frozenset({"POST /ledger/imports", "POST /ledger/synthetic-portfolio"})


def installed_modules() -> list[str]:
    from almacen.gateway.plugins import registry_from

    return sorted(registry_from(load_entrypoints=True).modules)


def fuzzer(label: str, strategy: Any, send: Callable[[str, Any], None]) -> Callable[[], None]:
    """A hypothesis test sending the cases of one operation."""

    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        send(label, case)

    return run


@pytest.mark.modules(*installed_modules())
def test_generated_requests_never_break_the_contract(tenant: TenantHandle, app: Any) -> None:
    document = tenant.get("/v1/openapi.json").json()
    client = app.test_client()
    faults: dict[tuple[str, int], str] = {}
    sent: list[str] = []

    def send(label: str, case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver/v1")
        kwargs["headers"] = {**(kwargs.get("headers") or {}), **tenant.headers}
        if isinstance(kwargs.get("data"), bytes | str):
            # A raw body (a multipart or form one schemathesis encoded itself) is httpx's
            # ``content``; as ``data`` it is a deprecation warning, an error here.
            kwargs["content"] = kwargs.pop("data")
        response = client.request(**{k: v for k, v in kwargs.items() if k in TRANSPORT_KEYS})
        sent.append(label)
        problem = response.headers.get("content-type", "").startswith(PROBLEM_JSON)
        if response.status_code >= 500 or (response.status_code >= 400 and not problem):
            faults.setdefault((label, response.status_code), response.text[:200])

    for result in schemathesis.openapi.from_dict(document).get_all_operations():
        operation = result.ok()
        if operation.label not in SKIPPED:
            fuzzer(operation.label, operation.as_strategy(), send)()
    assert len(set(sent)) > 30  # every operation was exercised, not just a few
    assert faults == {}
