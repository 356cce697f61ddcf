"""ExactDecimal keeps money exact on SQLite too, where NUMERIC would store a float."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, func, select, text

from almacen.gateway.db import ExactDecimal


@pytest.fixture
def table(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'exact.db'}")
    metadata = MetaData()
    amounts = Table(
        "amounts", metadata, Column("id", Integer, primary_key=True), Column("v", ExactDecimal())
    )
    metadata.create_all(engine)
    yield engine, amounts
    engine.dispose()


def test_tenths_sum_exactly_where_floats_would_not(table) -> None:
    engine, amounts = table
    with engine.begin() as connection:
        connection.execute(amounts.insert(), [{"v": Decimal("0.1")} for _ in range(10)])
        connection.execute(amounts.insert(), [{"v": Decimal("-1.0")}])
        total = connection.scalar(select(func.sum(amounts.c.v)))
        stored = connection.scalar(text("SELECT typeof(v) FROM amounts LIMIT 1"))
    assert total == Decimal("0")
    assert isinstance(total, Decimal)
    assert stored == "integer"  # 0.1 is kept as 1000 ten-thousandths


def test_large_sums_stay_exact_beyond_float_precision(table) -> None:
    engine, amounts = table
    big = Decimal("987654321098.7654")  # * 10**4 is beyond 2**53
    with engine.begin() as connection:
        connection.execute(amounts.insert(), [{"v": big}, {"v": Decimal("0.0001")}])
        assert connection.scalar(select(func.sum(amounts.c.v))) == big + Decimal("0.0001")


def test_more_decimals_than_the_scale_are_refused(table) -> None:
    engine, amounts = table
    with engine.begin() as connection, pytest.raises(Exception, match="more than 4 decimal"):
        connection.execute(amounts.insert(), [{"v": Decimal("0.00001")}])
