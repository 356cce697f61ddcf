"""Liveness, readiness and Prometheus metrics, which need no key."""

from __future__ import annotations

import re
from typing import Any

from tests.common.actors import TenantHandle

SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def samples(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """The samples of one metric family, keyed by their label sets."""
    found = {}
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match and match["name"] == name:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
            found[labels] = float(match["value"])
    return found


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


def test_healthz(client: Any) -> None:
    response = client.get("/v1/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_the_database(client: Any, is_postgres: bool) -> None:
    response = client.get("/v1/readyz")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "status": "ok",
        "database": "postgresql" if is_postgres else "sqlite",
    }


def test_health_needs_no_key_and_ignores_a_bad_one(client: Any) -> None:
    for path in ("/v1/healthz", "/v1/readyz", "/v1/metrics"):
        assert client.get(path, headers={"X-API-Key": "nonsense"}).status_code == 200


def test_metrics_count_requests_by_module_method_status(contract) -> None:
    tenant = contract.new_tenant()
    client = contract.client
    before = samples(client.get("/v1/metrics").text, "almacen_http_requests_total")

    tenant.get("/v1/me")
    tenant.get("/v1/me")
    client.get("/v1/me")  # 401
    tenant.post("/v1/contract/things", json={"name": "a"})
    tenant.post("/v1/contract/things", json={})  # 400
    client.delete("/v1/healthz")  # 405

    response = client.get("/v1/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE almacen_http_requests_total counter" in response.text
    after = samples(response.text, "almacen_http_requests_total")

    def grew(**label_values: str) -> float:
        key = labels(**label_values)
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew(module="gateway", method="GET", status="200") >= 2
    assert grew(module="gateway", method="GET", status="401") >= 1
    assert grew(module="gateway", method="DELETE", status="405") >= 1
    assert grew(module="contract", method="POST", status="201") == 1
    assert grew(module="contract", method="POST", status="400") == 1
    for key in after:
        assert {name for name, _ in key} == {"module", "method", "status"}


def test_metrics_label_unknown_paths_as_gateway(client: Any) -> None:
    for path in ("/v1/no-such-module/x", "/v1/ghost", "/elsewhere"):
        client.get(path)
    after = samples(client.get("/v1/metrics").text, "almacen_http_requests_total")
    modules = {value for key in after for name, value in key if name == "module"}
    assert "no-such-module" not in modules
    assert "ghost" not in modules
    assert labels(module="gateway", method="GET", status="404") in after


def test_latency_histogram_per_module(contract, tenant: TenantHandle) -> None:
    contract.new_tenant().get("/v1/contract/things")
    text = contract.client.get("/v1/metrics").text
    buckets = samples(text, "almacen_http_request_duration_seconds_count")
    assert buckets[labels(module="contract")] >= 1
    assert buckets[labels(module="gateway")] >= 1


def test_metrics_are_per_app(make_app: Any) -> None:
    fresh = make_app().test_client()
    text = fresh.get("/v1/metrics").text
    assert samples(text, "almacen_http_requests_total") == {}
    fresh.get("/v1/healthz")
    text = fresh.get("/v1/metrics").text
    assert samples(text, "almacen_http_requests_total") == {
        labels(module="gateway", method="GET", status="200"): 2.0
    }
