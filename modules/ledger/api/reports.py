"""``/kpis/...`` and ``/exports/...``: portfolio KPIs, and the journal as CSV and Beancount.

The ``from`` query parameter is a Python keyword, so these handlers take their query
parameters as ``**params`` (connexion passes every parameter to a handler with ``**kwargs``).
The exports stream: the handler checks the parameters and returns a response whose body is
a generator reading the journal in batches on a session of its own, opened when the first
chunk is sent and closed after the last (the request's session is committed and closed
when the handler returns).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import flask
from sqlalchemy.orm import Session

from almacen.gateway.errors import RequestValidationError
from almacen.gateway.state import current_gateway, request_session

from .. import accounts, exports, kpis
from ..schemas import (
    CureRateSchema,
    PortfolioReportSchema,
    PromiseRateSchema,
    RecoveryCellSchema,
    RollReportSchema,
)
from ._common import date, query, query_date

__all__ = [
    "export_journal_beancount",
    "export_journal_csv",
    "get_cure_rate",
    "get_portfolio",
    "get_promise_kept_rate",
    "get_recovery",
    "get_roll_rates",
]

_portfolio = PortfolioReportSchema()
_rolls = RollReportSchema()
_cure = CureRateSchema(many=True)
_promises = PromiseRateSchema(many=True)
_recovery = RecoveryCellSchema(many=True)


def _month(value: str, name: str) -> kpis.Month:
    try:
        return kpis.Month.parse(value)
    except ValueError:
        raise RequestValidationError(
            f"{value!r} is not a month (YYYY-MM).",
            errors=[{**query(name), "detail": "not a month"}],
        ) from None


def get_portfolio(as_of: str | None = None, source: str = "auto") -> dict[str, Any]:
    """Accounts and receivable balance per currency and bucket."""
    session = request_session()
    report = kpis.portfolio(
        session,
        as_of=query_date(as_of, "as_of") or accounts.today(),
        config=accounts.settings_for(session),
        source=source,
    )
    return dict(_portfolio.dump(report))


def get_roll_rates(**params: str) -> dict[str, Any]:
    """Roll rates between two month ends."""
    session = request_session()
    report = kpis.roll_rates(
        session,
        start=_month(params["from"], "from"),
        end=_month(params["to"], "to"),
        config=accounts.settings_for(session),
    )
    return dict(_rolls.dump(report))


def get_cure_rate(**params: str) -> dict[str, Any]:
    """Cure rates between two month ends."""
    start, end = _month(params["from"], "from"), _month(params["to"], "to")
    start_on, end_on, rates = kpis.cure_rate(request_session(), start=start, end=end)
    return {
        "from": str(start),
        "to": str(end),
        "from_snapshot_on": start_on.isoformat(),
        "to_snapshot_on": end_on.isoformat(),
        "currencies": _cure.dump(rates),
    }


def get_promise_kept_rate(**params: str) -> dict[str, Any]:
    """Promise kept rates of the promises that came due in a period."""
    start = date(params["from"], query("from"))
    end = date(params["to"], query("to"))
    rates = kpis.promise_kept_rate(request_session(), start=start, end=end)
    return {"from": start.isoformat(), "to": end.isoformat(), "currencies": _promises.dump(rates)}


def get_recovery(**params: str) -> dict[str, Any]:
    """Collections and recovery rates per origination cohort and month."""
    start, end = _month(params["from"], "from"), _month(params["to"], "to")
    cohort = _month(params["cohort"], "cohort") if params.get("cohort") else None
    cells = kpis.recovery(request_session(), start=start, end=end, cohort=cohort)
    return {"from": str(start), "to": str(end), "cells": _recovery.dump(cells)}


def _stream(
    produce: Callable[..., Iterator[str]], params: dict[str, Any], content_type: str
) -> flask.Response:
    start, end = query_date(params.get("from"), "from"), query_date(params.get("to"), "to")
    # The request's session is the calling tenant's; the stream opens its own for it.
    tenant_id = request_session().info["tenant_id"]
    database = current_gateway().db

    def body() -> Iterator[bytes]:
        session: Session = database.session(tenant_id=tenant_id)
        try:
            if database.engine.dialect.name == "postgresql":
                # Two statements (the Beancount opens, then the postings) must see one
                # journal, or an entry committed between them would use an account never
                # opened.
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            for line in produce(session, start=start, end=end):
                yield line.encode()
        finally:
            session.close()

    return flask.Response(body(), status=200, headers={"Content-Type": content_type})


def export_journal_csv(**params: str) -> flask.Response:
    """The journal, one CSV line per posting."""
    return _stream(exports.csv_lines, params, "text/csv; charset=utf-8")


def export_journal_beancount(**params: str) -> flask.Response:
    """The journal as Beancount text."""
    return _stream(exports.beancount_lines, params, "text/plain; charset=utf-8")
