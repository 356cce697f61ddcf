"""The per-tenant memory of settings, templates and model versions between turns."""

from __future__ import annotations

import pytest

from almacen.modules.bots import tenant_cache


def test_entries_are_per_tenant_kept_for_the_ttl_and_forgotten_on_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(tenant_cache.time, "monotonic", lambda: clock[0])
    calls: list[str] = []

    def compute(value: str) -> str:
        calls.append(value)
        return value

    assert tenant_cache.cached("t-a", "settings", lambda: compute("a1")) == "a1"
    assert tenant_cache.cached("t-b", "settings", lambda: compute("b1")) == "b1"
    assert tenant_cache.cached("t-a", "settings", lambda: compute("a2")) == "a1"
    clock[0] += tenant_cache.TTL + 0.1
    assert tenant_cache.cached("t-a", "settings", lambda: compute("a3")) == "a3"
    tenant_cache.cached("t-a", "templates:es", lambda: compute("es1"))
    tenant_cache.forget("t-a", "templates:")
    assert tenant_cache.cached("t-a", "templates:es", lambda: compute("es2")) == "es2"
    assert tenant_cache.cached("t-a", "settings", lambda: compute("a4")) == "a3"
    assert calls == ["a1", "b1", "a3", "es1", "es2"]
