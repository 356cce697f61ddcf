"""Parsing and validating import rows, and the bulk write matching ``open_account``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from almacen.modules.ledger import accounts, journal, onboarding
from almacen.modules.ledger.models import Account
from tests.common.ledger import ledger_world

TODAY = dt.date(2026, 11, 28)


def row(**overrides: Any) -> dict[str, Any]:
    return {
        "debtor_external_ref": "D1",
        "name": "Ana Gómez",
        "phone": "3101234567",
        "default_region": "CO",
        "account_external_ref": "A1",
        "product_type": "personal_loan",
        "currency": "COP",
        "principal": "1000.00",
        "annual_rate": "0.12",
        "originated_on": "2026-01-15",
        "instalments": "12",
        "first_due": "2026-02-15",
        **overrides,
    }


def test_csv_cells_are_trimmed_and_empty_ones_absent() -> None:
    parsed = onboarding.parse("debtor_external_ref,name,account_external_ref,product_type,"
        "currency,principal,annual_rate,originated_on,instalments,first_due,email\n"
        " D1 ,Ana,A1,loan,COP,1.00,0,2026-01-01,1,2026-02-01,\n", "csv")  # fmt: skip
    assert parsed == [
        {
            "debtor_external_ref": "D1",
            "name": "Ana",
            "account_external_ref": "A1",
            "product_type": "loan",
            "currency": "COP",
            "principal": "1.00",
            "annual_rate": "0",
            "originated_on": "2026-01-01",
            "instalments": "1",
            "first_due": "2026-02-01",
        }
    ]


def test_a_good_row_is_normalised_as_the_single_endpoints_do() -> None:
    valid, errors = onboarding.validate_rows([row(email="Ana@Example.CO")], today=TODAY)
    assert errors == []
    (checked,) = valid
    assert checked.phone == "+573101234567"
    assert checked.email == "Ana@example.co"
    assert len(checked.schedule) == 12
    assert sum(part for _, part, _ in checked.schedule) == Decimal("1000.00")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"principal": "0.00"}, "principal"),
        ({"principal": "1.005"}, "principal"),
        ({"currency": "ABC"}, "currency"),
        ({"annual_rate": "12"}, "annual_rate"),
        ({"instalments": "0"}, "instalments"),
        ({"first_due": "2026-01-10"}, "first_due"),
        ({"originated_on": "2027-01-01", "first_due": "2027-02-01"}, "originated_on"),
        ({"phone": "+57 1"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"fees": "1.001"}, "fees"),
    ],
)
def test_a_bad_row_names_its_field(overrides: dict[str, Any], field: str) -> None:
    raw = row(**overrides)
    raw = {k: v for k, v in raw.items() if v != ""}
    valid, errors = onboarding.validate_rows([raw], today=TODAY)
    assert valid == [] or errors
    assert [e.field for e in errors] == [field], errors
    assert errors[0].row == 1


def test_a_debtor_may_have_several_accounts_but_an_account_one_row() -> None:
    rows = [row(), row(account_external_ref="A2"), row(account_external_ref="A2")]
    _, errors = onboarding.validate_rows(rows, today=TODAY)
    assert [(e.row, e.field) for e in errors] == [(3, "account_external_ref")]


def test_the_bulk_write_matches_open_account(app: Any) -> None:
    from almacen.gateway.money import Money

    with ledger_world(app) as world:
        session = world.new_tenant()
        valid, _ = onboarding.validate_rows([row(fees="25.00")], today=TODAY)
        batch = onboarding.write_batch(session, valid)
        debtor_id = batch.debtor_ids["D1"]
        single = accounts.open_account(
            session,
            debtor_id=debtor_id,
            external_ref="A-single",
            product_type="personal_loan",
            principal=Money(Decimal("1000.00"), "COP"),
            annual_rate=Decimal("0.12"),
            originated_on=dt.date(2026, 1, 15),
            fees=Money(Decimal("25.00"), "COP"),
            schedule={"generate": {"count": 12, "first_due": dt.date(2026, 2, 15)}},
        )
        imported = session.get(Account, batch.account_ids[0])
        assert imported is not None
        for day in (dt.date(2026, 1, 15), dt.date(2026, 7, 1), None):
            ours = journal.balances(session, imported.id, as_of=day)
            theirs = journal.balances(session, single.id, as_of=day)
            assert {k: Decimal(v).quantize(Decimal("0.01")) for k, v in ours.items()} == {
                k: Decimal(v).quantize(Decimal("0.01")) for k, v in theirs.items()
            }
        assert [
            (i.number, i.due_on, i.principal, i.interest, i.fees) for i in imported.instalments
        ] == [(i.number, i.due_on, i.principal, i.interest, i.fees) for i in single.instalments]
