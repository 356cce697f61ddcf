"""The blueprint expression language: checked at apply time, evaluated safely at run time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from almacen.gateway.services.expressions import (
    ANY,
    LEAF,
    ExpressionError,
    check_expression,
    check_template,
    evaluate,
    render,
)

SHAPES: dict[str, Any] = {
    "event": {
        "id": LEAF,
        "payload": {"amount": {"amount": LEAF, "currency": LEAF}, "due_on": LEAF, "extra": ANY},
    },
    "account": {"days_past_due": LEAF},
}
DATA = {
    "event": {
        "id": "e1",
        "payload": {
            "amount": {"amount": "120.50", "currency": "COP"},
            "due_on": "2026-03-02",
            "extra": {"x": 1},
        },
    },
    "account": {"days_past_due": 45},
}


@pytest.mark.parametrize(
    "text",
    [
        "decimal(event.payload.amount) > 100",
        "account.days_past_due >= 30 and event.payload.amount.currency == 'COP'",
        "event.payload['due_on'] < '2026-04-01'",
        "event.payload.extra.anything",
        "len(event.id) if account.days_past_due else 0",
        "add_days(event.payload.due_on, 3)",
    ],
)
def test_valid_expressions_have_no_faults(text: str) -> None:
    assert check_expression(text, SHAPES) == []


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("event.payload.colour", "colour"),
        ("event.payload.amount.amount.digits", "no member"),
        ("nobody.x", "unknown name"),
        ("__import__('os')", "unknown function"),
        ("event.__class__", "_"),
        ("open('/etc/passwd')", "unknown function"),
        ("event.payload.amount.amount >", "syntax"),
        ("[x for x in 'ab']", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("decimal(event.payload.amount) > 1.5", "float"),
        ("str(event).upper()", "unknown function"),
        ("min(1, 2, key=abs)", "positional"),
    ],
)
def test_bad_expressions_are_named(text: str, word: str) -> None:
    faults = check_expression(text, SHAPES)
    assert faults and any(word in fault for fault in faults), faults


def test_evaluation_is_exact_with_decimal() -> None:
    assert evaluate("decimal(event.payload.amount) == decimal('120.50')", DATA) is True
    assert evaluate("decimal(event.payload.amount) / 2", DATA) == Decimal("60.25")
    assert evaluate("add_days(event.payload.due_on, 3)", DATA) == dt.date(2026, 3, 5)


def test_no_methods_or_private_members_at_run_time() -> None:
    for text in ("event.payload.keys", "event._data", "event.payload.get('x')"):
        with pytest.raises(ExpressionError):
            evaluate(text, DATA)


def test_runtime_faults_are_expression_errors() -> None:
    with pytest.raises(ExpressionError):
        evaluate("event.payload.missing", DATA)
    with pytest.raises(ExpressionError):
        evaluate("decimal('abc')", DATA)
    with pytest.raises(ExpressionError):
        evaluate("account.days_past_due + 'x'", DATA)


def test_render_keeps_types_of_whole_templates_and_formats_parts() -> None:
    template = {
        "money": "${money(decimal(event.payload.amount) / 3, event.payload.amount.currency)}",
        "label": "late-${account.days_past_due}-days",
        "days": "${account.days_past_due}",
        "literal": [1, {"a": "b"}],
        "when": "${add_days(event.payload.due_on, 1)}",
    }
    assert render(template, DATA) == {
        "money": {"amount": "40.17", "currency": "COP"},
        "label": "late-45-days",
        "days": 45,
        "literal": [1, {"a": "b"}],
        "when": "2026-03-03",
    }


def test_template_faults_carry_their_pointer() -> None:
    faults = check_template({"a": {"b": "${event.nope}"}, "c": ["x", "${nobody}"]}, SHAPES)
    assert [pointer for pointer, _ in faults] == ["/a/b", "/c/1"]
