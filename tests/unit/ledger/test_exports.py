"""Journal exports: Beancount names, and both formats from a journal written here."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from beancount import loader
from sqlalchemy.orm import Session

from almacen.modules.ledger import exports, journal
from almacen.modules.ledger.models import Account, Debtor, Instalment
from tests.common.ledger import LedgerWorld, ledger_world

D = Decimal
DAY = dt.date(2026, 3, 1)
# Beancount's rule for a component after the root, restricted to ASCII.
COMPONENT = re.compile(r"^[A-Z0-9][A-Za-z0-9-]*$")


@pytest.fixture
def world(app: Any) -> Iterator[LedgerWorld]:
    with ledger_world(app) as world:
        yield world


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("A-1", "A-1"),
        ("123abc", "123abc"),
        ("a-1", "A-1-"),
        ("Ñandú 7", "Nandu-7-"),
        ("cuenta ñ/001", "Cuenta-n-001-"),
        ("__", "X-"),
        ("日本", "X-"),
        ("-x-", "X-"),
    ],
)
def test_beancount_component(name: str, start: str) -> None:
    component = exports.beancount_component(name)
    assert COMPONENT.match(component), component
    if start == name:
        assert component == name  # already valid: unchanged, no hash
    else:
        assert component.startswith(start)
        assert re.fullmatch(re.escape(start) + r"[0-9a-f]{8}", component), component


def test_references_that_clean_up_alike_stay_apart() -> None:
    names = {exports.beancount_component(n) for n in ("a_1", "a.1", "a 1", "A-1", "a-1")}
    assert len(names) == 5


def test_beancount_account() -> None:
    assert exports.beancount_account("receivable:principal", "A1") == (
        "Assets:Receivable:Principal:A1"
    )
    assert exports.beancount_account("write_off", "A1") == "Expenses:WriteOff:A1"
    # A book a plugin added goes under Equity:Other, each part a valid component.
    name = exports.beancount_account("settlement:hold", "A1")
    assert name.startswith("Equity:Other:Settlement-") and name.endswith(":A1")
    assert all(COMPONENT.match(part) for part in name.split(":")[1:])


def _account(session: Session, ref: str, currency: str) -> Account:
    debtor = Debtor(external_ref=f"d-{ref}", name="D")
    session.add(debtor)
    session.flush()
    account = Account(
        debtor_id=debtor.id,
        external_ref=ref,
        product_type="loan",
        currency=currency,
        originated_on=DAY,
        principal=D("100"),
    )
    account.instalments = [Instalment(number=1, due_on=DAY, principal=D("100"))]
    session.add(account)
    session.flush()
    return account


def _journal(session: Session) -> tuple[Account, Account]:
    """A CLP account (no decimals) and a USD one: charges, a payment, its reversal, and a
    posting on a book only a plugin knows."""
    clp = _account(session, "clp/1", "CLP")
    usd = _account(session, "USD-2", "USD")
    instalment = clp.instalments[0].id
    journal.post_entry(
        session,
        clp,
        kind="charge",
        effective_on=DAY,
        legs=[
            journal.Leg("receivable:principal", D(100), instalment),
            journal.Leg("funding", D(-100)),
        ],
    )
    journal.post_entry(
        session,
        usd,
        kind="charge",
        effective_on=DAY,
        legs=[
            journal.Leg("receivable:principal", D("100.00")),
            journal.Leg("funding", D("-100.00")),
        ],
    )
    payment = journal.post_entry(
        session,
        usd,
        kind="payment",
        effective_on=DAY + dt.timedelta(days=5),
        legs=[journal.Leg("cash", D("30.50")), journal.Leg("receivable:principal", D("-30.50"))],
        memo='pago "uno"',
    )
    journal.reverse_entry(session, payment, effective_on=DAY + dt.timedelta(days=6))
    journal.post_entry(
        session,
        usd,
        kind="adjustment",
        effective_on=DAY + dt.timedelta(days=7),
        legs=[journal.Leg("settlement:hold", D("1.25")), journal.Leg("credit", D("-1.25"))],
    )
    return clp, usd


def test_csv_lines(world: LedgerWorld) -> None:
    session = world.new_tenant()
    _journal(session)
    # Another tenant's journal is not exported.
    _journal(world.new_tenant())

    rows = list(csv.reader(io.StringIO("".join(exports.csv_lines(session)))))
    assert rows[0] == list(exports.CSV_COLUMNS)
    body = rows[1:]
    assert len(body) == 10  # five entries of two postings
    entry = body[0][0]
    assert [r[1:] for r in body if r[0] == entry] == [
        ["charge", "2026-03-01", "clp/1", "receivable:principal", "1", "100", "CLP"],
        ["charge", "2026-03-01", "clp/1", "funding", "", "-100", "CLP"],
    ]
    assert [(r[1], r[4], r[6]) for r in body[-4:]] == [
        ("reversal", "cash", "-30.50"),
        ("reversal", "receivable:principal", "30.50"),
        ("adjustment", "settlement:hold", "1.25"),
        ("adjustment", "credit", "-1.25"),
    ]
    window = list(
        exports.csv_lines(session, start=DAY + dt.timedelta(days=5), end=DAY + dt.timedelta(days=6))
    )
    assert len(window) == 1 + 4
    assert list(exports.csv_lines(session, start=DAY + dt.timedelta(days=30))) == [
        ",".join(exports.CSV_COLUMNS) + "\r\n"
    ]


def test_beancount_lines_load_without_errors(world: LedgerWorld) -> None:
    session = world.new_tenant()
    _journal(session)
    text = "".join(exports.beancount_lines(session))
    entries, errors, _options = loader.load_string(text)
    assert errors == []
    kinds = [type(e).__name__ for e in entries]
    assert kinds.count("Transaction") == 5
    assert kinds.count("Open") == 7  # CLP: receivable, funding; USD: those, cash, credit, hold
    payment = next(
        e for e in entries if type(e).__name__ == "Transaction" and e.meta["kind"] == "payment"
    )
    assert payment.narration == 'pago "uno"'
    assert [(p.account, p.units.number, p.units.currency) for p in payment.postings] == [
        ("Assets:Cash:USD-2", D("30.50"), "USD"),
        ("Assets:Receivable:Principal:USD-2", D("-30.50"), "USD"),
    ]
    reversal = next(
        e for e in entries if type(e).__name__ == "Transaction" and e.meta["kind"] == "reversal"
    )
    assert reversal.meta["reverses"] == payment.meta["entry"]
    charge = next(
        e
        for e in entries
        if type(e).__name__ == "Transaction" and e.postings[0].units.currency == "CLP"
    )
    assert charge.postings[0].meta["instalment"] == 1
    # Only the window's entries, and accounts opened on their first posting in it.
    late = "".join(exports.beancount_lines(session, start=DAY + dt.timedelta(days=6)))
    entries, errors, _options = loader.load_string(late)
    assert errors == []
    opens = {e.account: e.date for e in entries if type(e).__name__ == "Open"}
    assert opens["Assets:Cash:USD-2"] == DAY + dt.timedelta(days=6)
    assert not any(name.endswith(exports.beancount_component("clp/1")) for name in opens)


def test_batches_do_not_change_the_output(
    world: LedgerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are fetched ``BATCH`` at a time; an entry split across two batches stays whole."""
    session = world.new_tenant()
    _journal(session)
    whole_csv = list(exports.csv_lines(session))
    whole_beancount = list(exports.beancount_lines(session))
    monkeypatch.setattr(exports, "BATCH", 3)
    assert list(exports.csv_lines(session)) == whole_csv
    assert list(exports.beancount_lines(session)) == whole_beancount
