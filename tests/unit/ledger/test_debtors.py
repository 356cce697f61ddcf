"""Debtor services: phone numbers to E.164, e-mails normalised, faults with pointers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.modules.ledger import debtors
from tests.common.ledger import LedgerWorld, ledger_world


@pytest.fixture
def world(app: Any) -> Iterator[LedgerWorld]:
    with ledger_world(app) as world:
        yield world


@pytest.mark.parametrize(
    ("value", "region", "e164"),
    [
        ("300 123 4567", "CO", "+573001234567"),  # Colombian mobile, national form
        ("(601) 234 5678", "CO", "+576012345678"),  # Bogotá landline, 10 digits since 2021
        ("+57 300 123 4567", None, "+573001234567"),
        ("55 1234 5678", "MX", "+525512345678"),
        ("+1 202-555-0143", "CO", "+12025550143"),  # an international number ignores region
    ],
)
def test_phone_numbers_become_e164(value: str, region: str | None, e164: str) -> None:
    assert debtors.normalise_phone(value, region=region, pointer="/p") == e164


@pytest.mark.parametrize(
    ("value", "region"), [("12", "CO"), ("300 123 4567", None), ("+57 1", None)]
)
def test_invalid_phone_numbers_name_the_pointer(value: str, region: str | None) -> None:
    with pytest.raises(UnprocessableError) as caught:
        debtors.normalise_phone(value, region=region, pointer="/contact_points/3/value")
    assert [e["pointer"] for e in caught.value.errors] == ["/contact_points/3/value"]


def test_emails() -> None:
    assert debtors.normalise_email("Ana@EXAMPLE.com", pointer="/e") == "Ana@example.com"
    for bad in ("ana", "ana@", "ana@@example.com", "ana@example..com"):
        with pytest.raises(UnprocessableError):
            debtors.normalise_email(bad, pointer="/e")


def test_create_update_and_uniqueness(world: LedgerWorld) -> None:
    session = world.new_tenant()
    debtor = debtors.create_debtor(
        session,
        {
            "external_ref": "D-1",
            "name": "Ana",
            "default_region": "CO",
            "contact_points": [{"kind": "phone", "value": "3001234567"}],
            "consents": [{"channel": "sms", "consent": True}],
        },
    )
    assert [c.value for c in debtor.contact_points] == ["+573001234567"]
    assert (debtor.language, debtor.time_zone) == ("es", "UTC")
    with pytest.raises(ConflictError):
        debtors.create_debtor(session, {"external_ref": "D-1", "name": "Other"})
    # Duplicate contact points and consents are refused with the pointer of the second.
    with pytest.raises(UnprocessableError) as caught:
        debtors.create_debtor(
            session,
            {
                "external_ref": "D-2",
                "name": "B",
                "contact_points": [
                    {"kind": "email", "value": "a@example.com"},
                    {"kind": "email", "value": "a@EXAMPLE.com"},
                ],
            },
        )
    assert caught.value.errors[0]["pointer"] == "/contact_points/1/value"
    changed = debtors.update_debtor(session, debtor.id, {"language": "en-US", "consents": []})
    assert changed.language == "en-US"
    assert changed.consents == []
    with pytest.raises(UnprocessableError):
        debtors.update_debtor(session, debtor.id, {"time_zone": "Nowhere/Land"})
    other = world.new_tenant()
    with pytest.raises(NotFoundError):
        debtors.get_debtor(other, debtor.id)
    # Another tenant may reuse the reference.
    assert debtors.create_debtor(other, {"external_ref": "D-1", "name": "Ana"}).id != debtor.id
