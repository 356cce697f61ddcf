"""Money: Decimal amounts in ISO 4217 minor units; floats refused; one pattern with OpenAPI."""

from __future__ import annotations

from decimal import Decimal

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from almacen.gateway.money import Money, MoneyField, currency_exponent
from almacen.gateway.specs import shared_components


class Payment(Schema):
    amount = MoneyField(required=True)


@pytest.mark.parametrize(
    ("code", "exponent"),
    # ISO 4217 list one (the standard's table), not CLDR: COP has 2 decimals in the standard.
    [("COP", 2), ("CLP", 0), ("USD", 2), ("JPY", 0), ("KWD", 3), ("MXN", 2)],
)
def test_exponents_follow_iso_4217(code: str, exponent: int) -> None:
    assert currency_exponent(code) == exponent


def test_loads_a_decimal_string() -> None:
    loaded = Payment().load({"amount": {"amount": "1500.50", "currency": "COP"}})
    assert loaded["amount"] == Money(Decimal("1500.50"), "COP")


@pytest.mark.parametrize("number", [12.5, 12, 0.1])
def test_refuses_json_numbers(number: float) -> None:
    with pytest.raises(ValidationError) as error:
        Payment().load({"amount": {"amount": number, "currency": "USD"}})
    assert "not a number" in str(error.value.messages["amount"])


@pytest.mark.parametrize(
    ("amount", "currency", "fragment"),
    [
        ("12.345", "USD", "more decimals"),
        ("1.5", "CLP", "more decimals"),
        ("10", "ZZZ", "not an ISO 4217 currency"),
        ("10", "XAU", "minor units"),
        ("1e3", "USD", "not a decimal string"),
        ("", "USD", "not a decimal string"),
    ],
)
def test_rejects_what_the_currency_cannot_hold(amount: str, currency: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as error:
        Payment().load({"amount": {"amount": amount, "currency": currency}})
    assert fragment in str(error.value.messages["amount"])


def test_dumps_with_the_currency_decimals() -> None:
    assert Money(Decimal("7"), "COP").as_json() == {"amount": "7.00", "currency": "COP"}
    assert Money(Decimal("7"), "KWD").as_json() == {"amount": "7.000", "currency": "KWD"}
    assert Money(Decimal("7"), "CLP").as_json() == {"amount": "7", "currency": "CLP"}


@given(st.text(alphabet="0123456789.-e+ ", max_size=12))
def test_field_and_openapi_agree_on_amount_strings(text: str) -> None:
    """The marshmallow field and the OpenAPI component accept the same amount strings."""
    schema = shared_components()["schemas"]["Money"]
    document = {"amount": text, "currency": "KWD"}
    try:
        jsonschema.validate(document, schema)
        openapi_ok = True
    except jsonschema.ValidationError:
        openapi_ok = False
    try:
        Payment().load({"amount": document})
        field_ok = True
    except ValidationError as exc:
        # More decimals than KWD's three is a currency rule, beyond the pattern.
        field_ok = "more decimals" in str(exc.messages)
    assert field_ok == openapi_ok
