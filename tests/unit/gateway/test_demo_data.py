"""``almacen demo --portfolio N``: the gateway asks every plugin for sample data by hook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from almacen import hookimpl
from almacen.gateway.app import gateway_of
from almacen.gateway.cli import _demo_data
from almacen.modules.ledger.models import Account, Payment
from tests.common.actors import Admin


class _Writes:
    """A plugin that answers the hook with a line, or raises."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.calls: list[dict[str, Any]] = []

    @hookimpl
    def almacen_demo_data(self, tenant_id: str, size: int, seed: int) -> str | None:
        self.calls.append({"tenant_id": tenant_id, "size": size, "seed": seed})
        if self.fail:
            raise RuntimeError("no sample data today")
        return f"fixture: {size} things (seed {seed})"


def test_hook_almacen_demo_data(make_app: Callable[..., Any], admin: Admin) -> None:
    good, bad = _Writes(fail=False), _Writes(fail=True)
    app = make_app(plugins=[("demo-good", good), ("demo-bad", bad)])
    gateway = gateway_of(app)
    tenant = admin.new_tenant(modules=["ledger"])
    lines = _demo_data(gateway, tenant.id, size=25, seed=3)
    assert "fixture: 25 things (seed 3)" in lines
    assert "demo-bad: failed to add sample data (see `almacen plugins`)" in lines
    ledger = [line for line in lines if line.startswith("ledger: ")]
    assert len(ledger) == 1
    assert "25 synthetic debtors and accounts (seed 3)" in ledger[0]
    assert good.calls == bad.calls == [{"tenant_id": tenant.id, "size": 25, "seed": 3}]
    assert any(f["name"] == "demo-bad" for f in gateway.registry.report()["failures"])
    with gateway.db.session(tenant_id=tenant.id) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 25
        assert session.scalar(select(func.count()).select_from(Payment)) > 0
    # The same seed again adds nothing: the ledger says so by answering None.
    again = _demo_data(gateway, tenant.id, size=25, seed=3)
    assert not any(line.startswith("ledger: ") for line in again)
