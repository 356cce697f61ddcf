"""The journal as CSV and as Beancount text, produced line by line for streaming.

Both read the postings of entries effective between two dates (inclusive, either optional) in
one ordered query fetched in batches (``yield_per``), so a large journal is never held in
memory; the caller sends each line as it comes.

**CSV**: one line per posting, columns :data:`CSV_COLUMNS`; amounts signed (debits positive)
with the currency's decimals.

**Beancount** (checked with ``bean-check`` in the tests): an ``open`` directive per ledger
account (book) of each ledger account (debt), dated on its first posting in the export and
restricted to the account's currency, then one transaction per journal entry, reversals
included as their own transactions (metadata ``entry``, ``kind``, ``reverses``, and
``instalment`` on postings). Books map to Beancount accounts as in
:data:`BEANCOUNT_BOOKS`, with the debt's external reference, made a valid component by
:func:`beancount_component`, as the last component.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .accounts import money
from .models import Account, Instalment, JournalEntry, Posting

__all__ = [
    "BEANCOUNT_BOOKS",
    "CSV_COLUMNS",
    "beancount_account",
    "beancount_component",
    "beancount_lines",
    "csv_lines",
]

CSV_COLUMNS = (
    "entry_id",
    "kind",
    "effective_on",
    "account_ref",
    "book",
    "instalment_number",
    "amount",
    "currency",
)

#: The Beancount account (without the debt's component) of each book.
BEANCOUNT_BOOKS = {
    "receivable:principal": "Assets:Receivable:Principal",
    "receivable:interest": "Assets:Receivable:Interest",
    "receivable:fees": "Assets:Receivable:Fees",
    "receivable:penalties": "Assets:Receivable:Penalties",
    "cash": "Assets:Cash",
    "credit": "Liabilities:Credit",
    "funding": "Equity:Funding",
    "income:interest": "Income:Interest",
    "income:fees": "Income:Fees",
    "income:penalties": "Income:Penalties",
    "discount": "Expenses:Discount",
    "write_off": "Expenses:WriteOff",
}
#: Rows fetched per round trip.
BATCH = 1000

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9-]+")


def beancount_component(name: str) -> str:
    """``name`` as one Beancount account component: ASCII letters, digits and hyphens,
    starting with a capital letter or a digit.

    Accents are dropped (``Ñandú`` → ``Nandu``), every other run of characters becomes a
    hyphen and the first letter is capitalised. When that changed anything, eight hex digits
    of the name's SHA-256 are appended, so two references that clean up alike
    (``a_1``, ``a.1``) stay two Beancount accounts.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = _NOT_ALLOWED.sub("-", ascii_name).strip("-")
    # Only letters, digits and inner hyphens are left: a capital or a digit must lead.
    cleaned = cleaned[0].upper() + cleaned[1:] if cleaned else "X"
    if cleaned != name:
        cleaned += "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return cleaned


def beancount_account(book: str, account_ref: str) -> str:
    """The Beancount account of one book of one debt.

    A book this module does not know (one a plugin added) goes under ``Equity:Other``.
    """
    base = BEANCOUNT_BOOKS.get(book)
    if base is None:
        base = "Equity:Other:" + ":".join(beancount_component(part) for part in book.split(":"))
    return f"{base}:{beancount_component(account_ref)}"


def _window(statement: Any, start: dt.date | None, end: dt.date | None) -> Any:
    if start is not None:
        statement = statement.where(JournalEntry.effective_on >= start)
    if end is not None:
        statement = statement.where(JournalEntry.effective_on <= end)
    return statement


def _postings(session: Session, start: dt.date | None, end: dt.date | None) -> Iterator[Any]:
    """Every posting in the window with its entry and debt, in journal order, in batches."""
    statement = _window(
        select(
            JournalEntry.id,
            JournalEntry.kind,
            JournalEntry.effective_on,
            JournalEntry.memo,
            JournalEntry.reverses_id,
            Account.external_ref,
            Posting.book,
            Instalment.number,
            Posting.amount,
            Posting.currency,
        )
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id)
        .outerjoin(Instalment, Instalment.id == Posting.instalment_id)
        .order_by(
            JournalEntry.effective_on, JournalEntry.posted_at, JournalEntry.id, Posting.position
        ),
        start,
        end,
    )
    yield from session.execute(statement.execution_options(yield_per=BATCH))


def _amount(value: Decimal, currency: str) -> str:
    return str(money(Decimal(value), currency).amount)


def csv_lines(
    session: Session, *, start: dt.date | None = None, end: dt.date | None = None
) -> Iterator[str]:
    """The journal as CSV, a header and then one line per posting (``\\r\\n`` endings).

    :param start: the first effective date included (default: the beginning).
    :param end: the last effective date included (default: the end).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Any) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(CSV_COLUMNS)
    for row in _postings(session, start, end):
        yield line(
            (
                row.id,
                row.kind,
                row.effective_on.isoformat(),
                row.external_ref,
                row.book,
                "" if row.number is None else row.number,
                _amount(row.amount, row.currency),
                row.currency,
            )
        )


def _quoted(text: str) -> str:
    """A Beancount string literal, on one line."""
    flat = " ".join(text.split())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def beancount_lines(
    session: Session, *, start: dt.date | None = None, end: dt.date | None = None
) -> Iterator[str]:
    """The journal as Beancount text, a line (or a directive) at a time.

    :param start: the first effective date included (default: the beginning).
    :param end: the last effective date included (default: the end).
    """
    yield 'option "title" "Almacén ledger journal"\n'
    yield "\n"
    # One grouped query: each (debt, book) opened on its first posting in the window.
    opens = _window(
        select(Account.external_ref, Posting.book, Posting.currency, func.min(Posting.effective_on))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id)
        .group_by(Account.external_ref, Posting.book, Posting.currency),
        start,
        end,
    )
    # Several (debt, book) pairs can share a Beancount account only through a plugin's book
    # names; open each name once, with every currency it holds.
    opened: dict[str, tuple[dt.date, set[str]]] = {}
    for ref, book, currency, first in session.execute(opens):
        name = beancount_account(book, ref)
        day, currencies = opened.get(name, (first, set()))
        opened[name] = (min(day, first), currencies | {currency})
    for name, (day, currencies) in sorted(opened.items(), key=lambda item: (item[1][0], item[0])):
        yield f"{day.isoformat()} open {name} {','.join(sorted(currencies))}\n"
    for entry_id, rows in itertools.groupby(_postings(session, start, end), key=lambda r: r.id):
        legs = list(rows)
        head = legs[0]
        lines = [
            f"{head.effective_on.isoformat()} * {_quoted(head.memo or head.kind)}",
            f"  entry: {_quoted(entry_id)}",
            f"  kind: {_quoted(head.kind)}",
        ]
        if head.reverses_id:
            lines.append(f"  reverses: {_quoted(head.reverses_id)}")
        for leg in legs:
            lines.append(
                f"  {beancount_account(leg.book, leg.external_ref)}  "
                f"{_amount(leg.amount, leg.currency)} {leg.currency}"
            )
            if leg.number is not None:
                lines.append(f"    instalment: {leg.number}")
        yield "\n" + "\n".join(lines) + "\n"
