"""Labelled data sets for training: parsed, validated and stored per tenant, all or nothing.

A data set is a CSV document (a header line, then one row per line) or JSON Lines (one object
per line) of up to :data:`MAX_ROWS` rows: a ``target`` column and the characteristics. The
target is 0/1 (1 is the event: a default for ``risk``, a payment for ``propensity``) or two
labels, one of them named the ``event``. Each other column is ``numeric`` or ``categorical``:
as declared, or else numeric when every value in it is a number. Empty cells and JSON
``null`` are missing values (a characteristic's missing bin); a missing target is an error.

Validation is complete before anything is written: a document without rows or without the
target, a target with one class only (or more than two), a value that is not a number in a
column declared numeric, or too many rows is a 422 naming the pointer and the row (counted
from 1, the CSV header excluded), and nothing is stored.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from almacen.gateway.errors import NotFoundError, UnprocessableError
from almacen.gateway.pagination import Page, paginate

from .training_tables import TrainingDataset

__all__ = [
    "MAX_ROWS",
    "Frame",
    "create_dataset",
    "get_dataset",
    "list_datasets",
    "load_frame",
    "parse",
]

#: The most rows a data set takes.
MAX_ROWS = 100_000
#: The most characteristics (columns besides the target) a data set takes.
MAX_COLUMNS = 200
#: The longest column name (a scorecard's characteristic names are up to 100 characters).
MAX_NAME = 100
#: Target values read as 0 and 1 when the target is not given labels.
_ZERO_ONE = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "false": 0, "true": 1}


@dataclasses.dataclass(frozen=True)
class Frame:
    """A parsed data set, column-wise: what training reads.

    Numeric columns are float arrays (NaN where missing); categorical columns are object arrays
    of strings (None where missing); ``target`` is 1 for the event and 0 otherwise.
    """

    columns: dict[str, npt.NDArray[Any]]
    kinds: dict[str, str]
    target: npt.NDArray[np.int8]
    target_name: str
    event: str

    @property
    def rows(self) -> int:
        """How many rows."""
        return int(self.target.shape[0])

    @property
    def events(self) -> int:
        """How many rows are events."""
        return int(self.target.sum())


def _fault(detail: str, *, row: int | None = None, column: str | None = None) -> UnprocessableError:
    item: dict[str, Any] = {"pointer": "/data", "detail": detail}
    if row is not None:
        item["row"] = row
    if column is not None:
        item["column"] = column
    return UnprocessableError(detail, errors=[item])


def _records(data: str, fmt: str) -> tuple[list[str], list[Sequence[Any]]]:
    """The column names and the rows (each a sequence in column order) of a document."""
    if fmt == "csv":
        reader = csv.reader(io.StringIO(data))
        header = next(reader, None)
        if header is None or not any(name.strip() for name in header):
            raise _fault("the document is empty: a header line and at least one row are needed")
        names = [name.strip() for name in header]
        rows: list[Sequence[Any]] = []
        for number, row in enumerate(reader, start=1):
            if not row:
                continue
            if len(row) != len(names):
                raise _fault(
                    f"row {number} has {len(row)} cells; the header names {len(names)}",
                    row=number,
                )
            rows.append(row)
            if len(rows) > MAX_ROWS:
                break
        return names, rows
    names_seen: dict[str, None] = {}
    items: list[Mapping[str, Any]] = []
    for line in data.splitlines():
        if not line.strip():
            continue
        number = len(items) + 1
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise _fault(f"row {number} is not JSON: {exc}", row=number) from None
        if not isinstance(item, dict):
            raise _fault(f"row {number} is not a JSON object", row=number)
        names_seen.update(dict.fromkeys(item))
        items.append(item)
        if len(items) > MAX_ROWS:
            break
    names = list(names_seen)
    return names, [[item.get(name) for name in names] for item in items]


def _text(value: Any) -> str | None:
    """A cell as text; None when missing (empty, blank or null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    """A cell as a finite number; None when missing. :raises ValueError: when it is not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _numeric_column(values: Iterable[Any]) -> npt.NDArray[np.float64] | int:
    """The column as floats (NaN where missing), or the first row (from 1) not a number."""
    out: list[float] = []
    nan = math.nan
    for number, value in enumerate(values, start=1):
        try:
            parsed = _number(value)
        except (TypeError, ValueError):
            return number
        out.append(nan if parsed is None else parsed)
    return np.asarray(out, dtype=np.float64)


def _target(
    values: Sequence[Any], name: str, event: str | None
) -> tuple[npt.NDArray[np.int8], str]:
    labels = [_text(v) for v in values]
    for number, label in enumerate(labels, start=1):
        if label is None:
            raise _fault(f"row {number} has no target ({name})", row=number, column=name)
    distinct = sorted({label for label in labels if label is not None})
    if len(distinct) < 2:
        raise _fault(
            f"the target {name!r} has one class only ({distinct[0]!r}): both are needed",
            column=name,
        )
    if len(distinct) > 2:
        shown = ", ".join(repr(d) for d in distinct[:5])
        raise _fault(
            f"the target {name!r} has {len(distinct)} classes ({shown}...); it needs two",
            column=name,
        )
    if event is None:
        mapped = {label: _ZERO_ONE.get(str(label).lower()) for label in distinct}
        if sorted(v for v in mapped.values() if v is not None) != [0, 1]:
            detail = (
                f"the target {name!r} is labelled {distinct[0]!r} and {distinct[1]!r}: "
                "name the event label in `event`"
            )
            raise UnprocessableError(detail, errors=[{"pointer": "/event", "detail": detail}])
        event = next(str(label) for label, v in mapped.items() if v == 1)
    elif event not in distinct:
        detail = (
            f"the event {event!r} is not a value of the target ({', '.join(map(repr, distinct))})"
        )
        raise UnprocessableError(detail, errors=[{"pointer": "/event", "detail": detail}])
    target = np.fromiter((label == event for label in labels), dtype=np.int8, count=len(labels))
    return target, event


def parse(
    data: str,
    fmt: str,
    *,
    target: str,
    event: str | None = None,
    numeric: Sequence[str] = (),
    categorical: Sequence[str] = (),
    kinds: Mapping[str, str] | None = None,
) -> Frame:
    """Parse and validate a labelled document.

    :param fmt: ``csv`` or ``jsonl``.
    :param target: the target column's name.
    :param event: the target label counted as the event (1); needed unless the target is 0/1.
    :param numeric: columns that must be numbers; ``categorical``: columns read as labels.
        Other columns are numeric when every value is a number, else categorical.
    :param kinds: the kinds already decided (a stored data set read again): no inference.
    :raises UnprocessableError: for every reason listed in the module's documentation.
    """
    names, rows = _records(data, fmt)
    if not rows:
        raise _fault("the document has no rows")
    if len(rows) > MAX_ROWS:
        raise _fault(f"more than {MAX_ROWS} rows; a data set takes at most {MAX_ROWS}")
    if target not in names:
        detail = f"no target column {target!r} in the document"
        raise UnprocessableError(
            detail,
            errors=[
                {"pointer": "/target", "detail": detail},
                {"pointer": "/data", "detail": detail},
            ],
        )
    for pointer, declared in (("/numeric", numeric), ("/categorical", categorical)):
        for position, name in enumerate(declared):
            if name not in names or name == target:
                detail = f"{name!r} is not a characteristic of the document"
                raise UnprocessableError(
                    detail, errors=[{"pointer": f"{pointer}/{position}", "detail": detail}]
                )
    both = set(numeric) & set(categorical)
    if both:
        detail = f"declared both numeric and categorical: {', '.join(sorted(both))}"
        raise UnprocessableError(detail, errors=[{"pointer": "/categorical", "detail": detail}])
    if len(names) - 1 > MAX_COLUMNS:
        raise _fault(f"{len(names) - 1} characteristics; a data set takes at most {MAX_COLUMNS}")
    if len(names) < 2:
        raise _fault("the document has no characteristic besides the target")
    for position, name in enumerate(names):
        if not name or len(name) > MAX_NAME:
            detail = f"column {position + 1} needs a name of 1 to {MAX_NAME} characters"
            raise _fault(detail, column=name[:MAX_NAME])
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise _fault(f"columns named twice: {', '.join(twice)}", column=twice[0])
    index = {name: position for position, name in enumerate(names)}
    labels, event = _target([row[index[target]] for row in rows], target, event)
    columns: dict[str, npt.NDArray[Any]] = {}
    found: dict[str, str] = {}
    for name, position in index.items():
        if name == target:
            continue
        cells = [row[position] for row in rows]
        kind = kinds.get(name) if kinds is not None else None
        if kind is None:
            kind = "numeric" if name in numeric else "categorical" if name in categorical else None
        if kind != "categorical":
            parsed = _numeric_column(cells)
            if isinstance(parsed, np.ndarray):
                columns[name], found[name] = parsed, "numeric"
                continue
            if kind == "numeric":
                detail = (
                    f"row {parsed}: {name} is declared numeric "
                    f"but {cells[parsed - 1]!r} is not a number"
                )
                raise _fault(detail, row=parsed, column=name)
        columns[name] = np.asarray([_text(cell) for cell in cells], dtype=object)
        found[name] = "categorical"
    return Frame(columns=columns, kinds=found, target=labels, target_name=target, event=event)


# -- storing -------------------------------------------------------------------------------


def create_dataset(session: Session, body: Mapping[str, Any]) -> TrainingDataset:
    """Validate an upload and store it on the session's tenant; nothing is stored on error.

    :param body: ``name``, ``format``, ``data``, ``target`` and optionally ``event``,
        ``numeric`` and ``categorical`` (see :func:`parse`).
    """
    frame = parse(
        body["data"],
        body["format"],
        target=body["target"],
        event=body.get("event"),
        numeric=body.get("numeric") or (),
        categorical=body.get("categorical") or (),
    )
    dataset = TrainingDataset(
        name=body["name"],
        format=body["format"],
        rows=frame.rows,
        target=frame.target_name,
        event=frame.event,
        events=frame.events,
        columns=[{"name": name, "kind": kind} for name, kind in frame.kinds.items()],
        data=zlib.compress(body["data"].encode(), 6),
    )
    session.add(dataset)
    session.flush()
    return dataset


def get_dataset(session: Session, dataset_id: str) -> TrainingDataset:
    """One of the tenant's data sets. :raises NotFoundError: when there is none."""
    dataset = session.scalar(select(TrainingDataset).where(TrainingDataset.id == dataset_id))
    if dataset is None:
        raise NotFoundError(f"no training data set {dataset_id}")
    return dataset


def list_datasets(session: Session, *, limit: int, cursor: str | None) -> Page[TrainingDataset]:
    """The tenant's data sets, oldest first, one page."""
    return paginate(
        session,
        select(TrainingDataset),
        keys=(TrainingDataset.created_at, TrainingDataset.id),
        limit=limit,
        cursor=cursor,
    )


def load_frame(dataset: TrainingDataset) -> Frame:
    """Parse a stored data set again, with the kinds decided when it was uploaded."""
    return parse(
        zlib.decompress(dataset.data).decode(),
        dataset.format,
        target=dataset.target,
        event=dataset.event,
        kinds={column["name"]: column["kind"] for column in dataset.columns},
    )
