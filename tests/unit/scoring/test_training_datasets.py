"""Parsing and validating labelled data sets: each bad input a 422 that names where."""

from __future__ import annotations

import json

import numpy as np
import pytest

from almacen.gateway.errors import UnprocessableError
from almacen.modules.scoring import datasets
from almacen.modules.scoring.datasets import parse

CSV = "age,city,y\n30,Bogotá,0\n45,Cali,1\n,Cali,0\n52,,1\n"


def fault(exc: pytest.ExceptionInfo[UnprocessableError]) -> dict[str, object]:
    assert exc.value.errors
    return dict(exc.value.errors[0])


def test_csv_kinds_missing_values_and_a_zero_one_target() -> None:
    frame = parse(CSV, "csv", target="y")
    assert frame.kinds == {"age": "numeric", "city": "categorical"}
    assert np.isnan(frame.columns["age"][2])
    assert frame.columns["city"][3] is None
    assert frame.target.tolist() == [0, 1, 0, 1]
    assert frame.event == "1"


def test_json_lines_with_labels_and_an_event() -> None:
    lines = [
        {"amount": 10.5, "grade": "A", "status": "good"},
        {"amount": 3, "grade": 2, "status": "bad"},
        {"amount": None, "status": "good"},
    ]
    text = "\n".join(json.dumps(line) for line in lines)
    frame = parse(text, "jsonl", target="status", event="bad")
    assert frame.kinds == {"amount": "numeric", "grade": "categorical"}
    assert frame.columns["grade"].tolist() == ["A", "2", None]
    assert frame.target.tolist() == [0, 1, 0]


def test_declared_categorical_wins_over_numbers() -> None:
    frame = parse(CSV, "csv", target="y", categorical=["age"])
    assert frame.kinds["age"] == "categorical"


@pytest.mark.parametrize(
    ("text", "kwargs", "pointer", "row"),
    [
        (CSV, {"target": "default"}, "/target", None),
        ("a,y\n1,0\n2,0\n", {"target": "y"}, "/data", None),
        ("a,y\n1,0\n2,1\n3,2\n", {"target": "y"}, "/data", None),
        ("a,y\n1,good\n2,bad\n", {"target": "y"}, "/event", None),
        ("a,y\n1,good\n2,bad\n", {"target": "y", "event": "ugly"}, "/event", None),
        ("a,y\n1,0\nten,1\n", {"target": "y", "numeric": ["a"]}, "/data", 2),
        ("a,y\n1,0\nnan,1\n", {"target": "y", "numeric": ["a"]}, "/data", 2),
        ("a,y\n1,0\n2,\n", {"target": "y"}, "/data", 2),
        ("a,y\n1,0\n2\n", {"target": "y"}, "/data", 2),
        ("a,a,y\n1,2,0\n2,3,1\n", {"target": "y"}, "/data", None),
        ("a" * 101 + ",y\n1,0\n2,1\n", {"target": "y"}, "/data", None),
        ("", {"target": "y"}, "/data", None),
        ("a,y\n", {"target": "y"}, "/data", None),
        ("\n\n", {"target": "y", "fmt": "jsonl"}, "/data", None),
        ('{"a": 1, "y": 0}\n[1]\n', {"target": "y", "fmt": "jsonl"}, "/data", 2),
        (CSV, {"target": "y", "numeric": ["town"]}, "/numeric/0", None),
    ],
)
def test_bad_input_names_the_pointer_and_row(
    text: str, kwargs: dict[str, object], pointer: str, row: int | None
) -> None:
    fmt = str(kwargs.pop("fmt", "csv"))
    with pytest.raises(UnprocessableError) as exc:
        parse(text, fmt, **kwargs)  # type: ignore[arg-type]
    found = fault(exc)
    assert found["pointer"] == pointer
    assert found.get("row") == row


def test_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "MAX_ROWS", 3)
    with pytest.raises(UnprocessableError) as exc:
        parse("a,y\n1,0\n2,1\n3,0\n4,1\n", "csv", target="y")
    assert "at most 3" in str(fault(exc)["detail"])
