"""``run_action``: one registry call runs a module's action for a tenant, in its transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from almacen.gateway.actions import ActionInputError, ActionUnavailableError, run_action
from almacen.gateway.app import gateway_of
from almacen.modules.ledger.models import Payment
from tests.common.actors import Admin, TenantHandle
from tests.common.ledger import new_account, summary

pytestmark = pytest.mark.modules("ledger")


def payment_input(account_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "external_id": "action-1",
        "amount": {"amount": "100.00", "currency": "COP"},
        "received_on": "2026-02-10",
        **fields,
    }


def test_an_action_runs_in_the_callers_transaction(app: Any, tenant: TenantHandle) -> None:
    account = new_account(tenant)
    db = gateway_of(app).db
    owed = Decimal(summary(tenant, account["id"])["total"]["amount"])

    with db.transaction(tenant_id=tenant.id) as session:
        output = run_action(session, "ledger.post_payment", payment_input(account["id"]))
        assert output["amount"] == {"amount": "100.00", "currency": "COP"}
        session.rollback()  # the caller changes its mind: the payment goes with it

    assert Decimal(summary(tenant, account["id"])["total"]["amount"]) == owed
    with db.transaction(tenant_id=tenant.id) as session:
        run_action(session, "ledger.post_payment", payment_input(account["id"]))
    assert Decimal(summary(tenant, account["id"])["total"]["amount"]) == owed - 100


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ledger.no_such_thing", "unknown_action"),
        ("nowhere.score", "module_not_installed"),
    ],
)
def test_missing_actions_are_typed_errors(
    app: Any, tenant: TenantHandle, name: str, reason: str
) -> None:
    with (
        gateway_of(app).db.transaction(tenant_id=tenant.id) as session,
        pytest.raises(ActionUnavailableError) as caught,
    ):
        run_action(session, name, {})
    assert caught.value.reason == reason
    assert caught.value.action == name
    assert caught.value.status == 422


def test_an_unsubscribed_module_is_unavailable(app: Any, admin: Admin) -> None:
    bare = admin.new_tenant(modules=[])

    with (
        gateway_of(app).db.transaction(tenant_id=bare.id) as session,
        pytest.raises(ActionUnavailableError) as caught,
    ):
        run_action(session, "ledger.get_account", {"account_id": "0" * 32})

    assert caught.value.reason == "not_subscribed"


def test_bad_input_names_every_field_and_writes_nothing(app: Any, tenant: TenantHandle) -> None:
    account = new_account(tenant)
    bad = payment_input(account["id"], amount={"amount": 100, "currency": "COP"})
    del bad["received_on"]

    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        with pytest.raises(ActionInputError) as caught:
            run_action(session, "ledger.post_payment", bad)
        count = session.scalar(select(func.count()).select_from(Payment))

    pointers = {e["pointer"] for e in caught.value.errors}
    assert pointers == {"/amount", "/received_on"}
    assert count == 0


def test_another_tenants_account_is_not_found_through_an_action(
    app: Any, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    theirs = new_account(other_tenant)

    with (
        gateway_of(app).db.transaction(tenant_id=tenant.id) as session,
        pytest.raises(Exception) as caught,
    ):
        run_action(session, "ledger.get_account", {"account_id": theirs["id"]})

    assert getattr(caught.value, "status", None) == 404
