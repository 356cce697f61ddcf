"""The blueprint expression language: simpleeval with dotted access to JSON data, never ``eval``.

Conditions (``if``) are expressions; action inputs are templates, strings holding
``${expression}``. Both are checked when a blueprint is applied (:func:`check_expression`):
the syntax, the node types allowed, the functions called, and every dotted path against the
fields the data will have (an event type's payload schema, an action's output schema).
At run time :func:`evaluate` runs them with simpleeval over read-only :class:`Record` s.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import Schema, fields
from simpleeval import (  # type: ignore[import-untyped]
    EvalWithCompoundTypes,
    InvalidExpression,
)

from ..money import MoneyField, currency_exponent

__all__ = [
    "ANY",
    "FUNCTIONS",
    "LEAF",
    "ExpressionError",
    "Record",
    "Shape",
    "check_expression",
    "check_template",
    "evaluate",
    "render",
    "schema_shape",
    "template_parts",
    "to_json",
    "wrap",
]


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: Shapes describe what a value has: a mapping of member names to shapes, ``ANY`` (members
#: unknown, anything goes) or ``LEAF`` (a scalar: no members).
ANY: Any = _Marker("ANY")
LEAF: Any = _Marker("LEAF")
Shape = Any  # dict[str, Shape] | ANY | LEAF

TEMPLATE = re.compile(r"\$\{(.*?)\}")


class ExpressionError(ValueError):
    """An expression that cannot be evaluated (at run time) or is refused (when applied)."""


# -- values --------------------------------------------------------------------------------


class Record:
    """A read-only JSON object whose members are read as ``record.member`` or ``record["m"]``.

    It has no public methods, so an expression cannot reach anything but the data.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = {key: wrap(value) for key, value in data.items()}

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._data == other._data
        return NotImplemented

    def __hash__(self) -> int:  # pragma: no cover - records are not dict keys
        return id(self)

    def __repr__(self) -> str:
        return f"Record({self._data!r})"


def wrap(value: Any) -> Any:
    """JSON data as expressions see it: objects become :class:`Record` s, arrays tuples."""
    if isinstance(value, Record):
        return value
    if isinstance(value, Mapping):
        return Record(value)
    if isinstance(value, list | tuple):
        return tuple(wrap(item) for item in value)
    return value


def to_json(value: Any) -> Any:
    """An expression's result as JSON: Decimals and dates as strings, records as objects."""
    if isinstance(value, Record):
        return {key: to_json(item) for key, item in value._data.items()}
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


# -- functions -----------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal:
    """``decimal(x)``: an exact number from a string, an integer or a money object."""
    if isinstance(value, Record) and "amount" in value:
        value = value["amount"]
    if isinstance(value, bool) or value is None:
        raise ExpressionError(f"decimal() cannot take {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ExpressionError(f"decimal() cannot take {value!r}") from None


def _money(amount: Any, currency: str) -> Record:
    """``money(amount, currency)``: a money object, rounded to the currency's minor unit."""
    exponent = currency_exponent(str(currency))
    quantum = Decimal(1).scaleb(-exponent)
    return Record({"amount": str(_decimal(amount).quantize(quantum)), "currency": currency})


def _date(value: Any) -> dt.date:
    """``date(x)``: the calendar date of an ISO date or timestamp string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        text = str(value)
        return (
            dt.datetime.fromisoformat(text).date() if "T" in text else dt.date.fromisoformat(text)
        )
    except ValueError:
        raise ExpressionError(f"date() cannot take {value!r}") from None


def _add_days(value: Any, days: int) -> dt.date:
    """``add_days(date, n)``: the calendar date ``n`` days later (earlier when negative)."""
    return _date(value) + dt.timedelta(days=int(days))


def _round(value: Any, places: int = 0) -> Any:
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1).scaleb(-int(places)))
    return round(value, int(places))


#: Every function an expression may call.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": _round,
    "str": str,
    "int": int,
    "bool": bool,
    "decimal": _decimal,
    "money": _money,
    "date": _date,
    "add_days": _add_days,
}

_CONSTANTS = {"True": True, "False": False, "None": None}

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Load,
    ast.And,
    ast.Or,
    ast.Not,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.USub,
    ast.UAdd,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
)


# -- shapes --------------------------------------------------------------------------------


def schema_shape(schema: type[Schema] | Schema) -> dict[str, Shape]:
    """The members a schema's dumped (or loaded JSON) data has, recursively."""
    instance = schema() if isinstance(schema, type) else schema
    shape: dict[str, Shape] = {}
    for name, field in instance.fields.items():
        shape[field.data_key or name] = _field_shape(field)
    return shape


def _field_shape(field: fields.Field[Any]) -> Shape:
    if isinstance(field, MoneyField):
        return {"amount": LEAF, "currency": LEAF}
    if isinstance(field, fields.Nested) and not field.many:
        nested = field.nested
        if (isinstance(nested, type) and issubclass(nested, Schema)) or isinstance(nested, Schema):
            return schema_shape(nested)
        return ANY
    if isinstance(
        field,
        fields.Nested | fields.Dict | fields.List | fields.Tuple | fields.Raw | fields.Function,
    ) and not isinstance(field, fields.String | fields.Number | fields.Boolean | fields.Date):
        return ANY
    return LEAF


# -- checking ------------------------------------------------------------------------------


def _chain(node: ast.AST) -> tuple[ast.AST, list[str]] | None:
    """``a.b["c"].d`` → (Name a, ["b", "c", "d"]); None when a key is not a constant."""
    keys: list[str] = []
    while isinstance(node, ast.Attribute | ast.Subscript):
        if isinstance(node, ast.Attribute):
            keys.append(node.attr)
        else:
            index = node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, str):
                keys.append(index.value)
            elif isinstance(index, ast.Constant) and isinstance(index.value, int):
                keys.append("[]")
            else:
                return None
        node = node.value
    return node, list(reversed(keys))


def check_expression(text: str, names: Mapping[str, Shape]) -> list[str]:
    """Every fault of ``text`` given the ``names`` it may use (each with its shape)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        return [f"syntax error in {text!r}: {exc.msg} (column {exc.offset})"]
    faults: list[str] = []
    seen_chains: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            faults.append(f"{type(node).__name__} is not allowed in an expression")
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            faults.append(f"{node.value} is a float: write decimal('{node.value}') for exactness")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                called = ast.unparse(node.func)
                faults.append(
                    f"unknown function {called!r}; the functions are {', '.join(sorted(FUNCTIONS))}"
                )
            if node.keywords:
                faults.append("functions take positional arguments only")
            seen_chains.add(id(node.func))
        if (
            isinstance(node, ast.Attribute | ast.Subscript | ast.Name)
            and id(node) not in seen_chains
        ):
            chain = _chain(node)
            if chain is None:
                # a computed subscript: check the container alone, the index is walked anyway
                continue
            root, keys = chain
            for inner in ast.walk(node):
                if isinstance(inner, ast.Attribute | ast.Subscript | ast.Name):
                    seen_chains.add(id(inner))
            if not isinstance(root, ast.Name):
                if keys:
                    faults.append(f"{ast.unparse(node)!r}: members can be read from names only")
                continue
            faults += _check_path(root.id, keys, names)
    return faults


def _check_path(root: str, keys: list[str], names: Mapping[str, Shape]) -> list[str]:
    if root in _CONSTANTS:
        return []
    if root not in names:
        if root in FUNCTIONS and not keys:
            return []
        known = ", ".join(sorted(names))
        return [f"unknown name {root!r}; the names here are {known}"]
    shape = names[root]
    path = root
    for key in keys:
        if key.startswith("_"):
            return [f"{path}.{key}: members starting with _ are not allowed"]
        if shape is ANY:
            return []
        if shape is LEAF:
            return [f"{path} has no member {key!r}"]
        if key == "[]":
            return [f"{path} is not a list"]
        if key not in shape:
            return [f"{path} has no field {key!r}; its fields are {', '.join(sorted(shape))}"]
        shape = shape[key]
        path = f"{path}.{key}"
    return []


def template_parts(value: Any) -> Iterator[tuple[str, str]]:
    """Every ``${expression}`` inside a template value: (JSON pointer suffix, expression)."""
    if isinstance(value, str):
        for match in TEMPLATE.finditer(value):
            yield "", match.group(1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            for suffix, expression in template_parts(item):
                yield f"/{key}{suffix}", expression
    elif isinstance(value, list):
        for index, item in enumerate(value):
            for suffix, expression in template_parts(item):
                yield f"/{index}{suffix}", expression


def check_template(value: Any, names: Mapping[str, Shape]) -> list[tuple[str, str]]:
    """Faults of every expression in a template value: (pointer suffix, detail)."""
    faults: list[tuple[str, str]] = []
    if isinstance(value, str) and "${" in value and not TEMPLATE.search(value):
        faults.append(("", "unterminated ${ in template"))
    for suffix, expression in template_parts(value):
        faults += [(suffix, fault) for fault in check_expression(expression, names)]
    return faults


def is_template(value: Any) -> bool:
    """True when a value holds at least one ``${expression}``."""
    return any(True for _ in template_parts(value))


# -- running -------------------------------------------------------------------------------


def evaluate(text: str, names: Mapping[str, Any]) -> Any:
    """Evaluate an expression over ``names`` (wrapped with :func:`wrap`).

    :raises ExpressionError: whatever goes wrong: a missing member, a type error, ...
    """
    evaluator = EvalWithCompoundTypes(
        functions=dict(FUNCTIONS), names={**_CONSTANTS, **{k: wrap(v) for k, v in names.items()}}
    )
    try:
        return evaluator.eval(text.strip())
    except ExpressionError:
        raise
    except (InvalidExpression, ArithmeticError, TypeError, ValueError, KeyError) as exc:
        raise ExpressionError(f"{text!r}: {type(exc).__name__}: {exc}") from None
    except (AttributeError, IndexError) as exc:
        raise ExpressionError(f"{text!r}: no such member: {exc}") from None


def render(value: Any, names: Mapping[str, Any]) -> Any:
    """A template value with every ``${expression}`` replaced by its JSON result.

    A string that is one whole ``${…}`` takes the result's own type (an object, a number);
    otherwise results are formatted into the string.
    """
    if isinstance(value, str):
        whole = TEMPLATE.fullmatch(value)
        if whole:
            return to_json(evaluate(whole.group(1), names))

        def substitute(match: re.Match[str]) -> str:
            result = to_json(evaluate(match.group(1), names))
            return "" if result is None else str(result)

        return TEMPLATE.sub(substitute, value)
    if isinstance(value, Mapping):
        return {key: render(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, names) for item in value]
    return value
