"""Money: a Decimal amount and its ISO 4217 currency, never a float.

On the wire it is ``{"amount": "1500.00", "currency": "COP"}`` (the ``Money`` component of
``openapi/components.yaml``). :class:`MoneyField` is its marshmallow counterpart; it takes the
amount pattern from that component, so the two cannot drift apart, and adds what a JSON
Schema cannot say: the currency exists and the amount fits its minor unit.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from iso4217 import Currency
from marshmallow import ValidationError, fields

__all__ = ["Money", "MoneyField", "currency_exponent"]


@functools.cache
def _amount_pattern() -> re.Pattern[str]:
    from .specs import shared_components

    pattern = shared_components()["schemas"]["Money"]["properties"]["amount"]["pattern"]
    return re.compile(pattern)


@functools.cache
def currency_exponent(code: str) -> int:
    """The ISO 4217 minor-unit exponent of ``code`` (COP 2, CLP 0, KWD 3).

    :raises ValueError: for an unknown code or one without minor units (gold, SDR).
    """
    try:
        exponent = Currency(code).exponent
    except ValueError:
        raise ValueError(f"{code!r} is not an ISO 4217 currency") from None
    if exponent is None:
        raise ValueError(f"{code!r} is not a currency with minor units")
    return int(exponent)


@dataclasses.dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of one currency."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")
        exponent = currency_exponent(self.currency)
        if -int(self.amount.as_tuple().exponent) > exponent:
            raise ValueError(
                f"{self.amount} has more decimals than {self.currency} allows ({exponent})"
            )

    @classmethod
    def exact(cls, amount: Decimal, currency: str) -> Money:
        """``amount`` at the currency's exponent; refuses to round away a non-zero digit.

        Databases keep money at one scale for every currency (``100.0000``); this restores
        the currency's own (``100.00``) and fails loudly if a fraction of a cent was stored.
        """
        quantum = Decimal(1).scaleb(-currency_exponent(currency))
        exact = amount.quantize(quantum)
        if exact != amount:
            raise ValueError(f"{amount} has more decimals than {currency} allows")
        return cls(exact, currency)

    @classmethod
    def rounded(cls, amount: Decimal, currency: str) -> Money:
        """``amount`` rounded to the currency's exponent (half-even)."""
        return cls(amount.quantize(Decimal(1).scaleb(-currency_exponent(currency))), currency)

    def as_json(self) -> dict[str, str]:
        """The wire form, with exactly the currency's decimals."""
        exponent = currency_exponent(self.currency)
        quantum = Decimal(1).scaleb(-exponent)
        return {"amount": str(self.amount.quantize(quantum)), "currency": self.currency}


class MoneyField(fields.Field[Money]):
    """Loads and dumps :class:`Money`; a JSON number as amount is refused."""

    default_error_messages = {  # noqa: RUF012 (marshmallow merges these per class)
        "invalid": "Money must be an object with a decimal-string amount and a currency.",
        "float": 'amount must be a decimal string such as "12.50", not a number.',
        "amount": "amount {amount!r} is not a decimal string.",
        "precision": "amount {amount} has more decimals than {currency} allows ({exponent}).",
        "currency": "{error}.",
    }

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, Money):
            raise ValidationError("not a Money value")
        return value.as_json()

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Money:
        if not isinstance(value, Mapping) or set(value) != {"amount", "currency"}:
            raise self.make_error("invalid")
        amount, currency = value["amount"], value["currency"]
        if isinstance(amount, int | float) and not isinstance(amount, bool):
            raise self.make_error("float")
        if not isinstance(amount, str) or not _amount_pattern().match(amount):
            raise self.make_error("amount", amount=amount)
        if not isinstance(currency, str):
            raise self.make_error("currency", error="currency must be a string")
        try:
            exponent = currency_exponent(currency)
        except ValueError as exc:
            raise self.make_error("currency", error=str(exc)) from None
        decimal = Decimal(amount)
        if -int(decimal.as_tuple().exponent) > exponent:
            raise self.make_error("precision", amount=amount, currency=currency, exponent=exponent)
        return Money(decimal, currency)
