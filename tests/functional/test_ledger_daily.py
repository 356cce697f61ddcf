"""The daily run from ``almacen worker``: each tenant that asks for it (``daily_aging``) is
aged once a day, on the date of its own ``time_zone``; the others are left to
``POST /jobs/aging``.

The account of the examples (as in test_ledger_payments.py): 300.00 COP over three months,
first instalment due 2026-02-15. At 03:00 UTC on 2026-03-20 it is still 19 March in Bogotá
(UTC−5): 32 days past due there, 33 in UTC; both in the 31–60 bucket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from almacen.gateway import migrate
from almacen.gateway.app import gateway_of
from almacen.modules.ledger.daily import DailyAging
from tests.common.actors import Admin, TenantHandle, assert_problem
from tests.common.ledger import BASE, money, new_account
from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.modules("ledger")

SMALL = {
    "principal": money("300.00"),
    "fees": money("10.00"),
    "schedule": {"generate": {"count": 3, "first_due": "2026-02-15"}},
}
NOW = dt.datetime(2026, 3, 20, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def fresh(make_app: Any, database_url: str, tmp_path: Path) -> Iterator[tuple[Any, Admin]]:
    """An app on a database of its own, so that the daily run meets only this test's tenants
    (the worker's shared database holds every other test's)."""
    admin_engine = None
    if database_url.startswith("postgresql"):
        base = make_url(database_url)
        name = f"{base.database}_daily"
        admin_engine = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'daily.db'}"
    app = make_app(database_url=url)
    gateway = gateway_of(app)
    migrate.upgrade(gateway.db.engine, gateway.registry.modules.values())
    try:
        yield app, Admin(app.test_client(), ADMIN_TOKEN)
    finally:
        gateway.close()
        if admin_engine is not None:
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin_engine.dispose()


def tenant_with(admin: Admin, config: dict[str, Any]) -> TenantHandle:
    tenant = admin.new_tenant()
    assert admin.subscribe(tenant.id, "ledger", config).status_code == 200
    return tenant


def aged(tenant: TenantHandle, account_id: str) -> tuple[Any, ...]:
    account = tenant.get(f"{BASE}/accounts/{account_id}").json()["account"]
    return account["aged_on"], account["days_past_due"], account["bucket"]


def test_the_worker_ages_each_tenant_that_asks_once_a_day_on_its_own_date(
    fresh: tuple[Any, Admin],
) -> None:
    app, admin = fresh
    bogota = tenant_with(admin, {"daily_aging": True, "time_zone": "America/Bogota"})
    utc = tenant_with(admin, {"daily_aging": True})
    manual = tenant_with(admin, {})
    accounts = {t.id: new_account(t, **SMALL)["id"] for t in (bogota, utc, manual)}
    task = DailyAging(gateway_of(app).db, now=NOW)

    assert sorted(task.due()) == sorted([bogota.id, utc.id])
    assert task.drain() == 2
    assert aged(bogota, accounts[bogota.id]) == ("2026-03-19", 32, "31-60")
    assert aged(utc, accounts[utc.id]) == ("2026-03-20", 33, "31-60")
    assert aged(manual, accounts[manual.id])[0] is None
    changed = bogota.get("/v1/events", params={"type": "ledger.bucket_changed"}).json()
    assert [e["subject"]["id"] for e in changed["items"]] == [accounts[bogota.id]]
    # Once a day: nothing is due again that day, in any worker cycle.
    assert task.due() == []
    assert task() == 0
    # The next day both are due again; a worker cycle ages one tenant at a time.
    tomorrow = DailyAging(gateway_of(app).db, now=NOW + dt.timedelta(days=1))
    assert (tomorrow(), tomorrow(), tomorrow()) == (1, 1, 0)
    assert aged(bogota, accounts[bogota.id])[:2] == ("2026-03-20", 33)
    assert aged(utc, accounts[utc.id])[:2] == ("2026-03-21", 34)


def test_a_time_zone_that_does_not_exist_is_refused(admin: Admin) -> None:
    tenant = admin.create_tenant()
    response = admin.subscribe(tenant["id"], "ledger", {"time_zone": "America/Medellin"})
    problem = assert_problem(response, 422)
    assert "time_zone" in str(problem)
