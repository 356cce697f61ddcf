"""The append-only double-entry journal: post balanced entries, reverse them, sum balances.

A posting's amount is signed, debits positive: receivables grow with positive postings and
shrink with negative ones. Every entry sums to zero per currency (checked here, before
anything is written); balances are never stored, always summed from postings, optionally
``as_of`` a date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Account, Instalment, JournalEntry, Posting

__all__ = [
    "RECEIVABLE_BOOKS",
    "Leg",
    "UnbalancedEntryError",
    "balances",
    "kept_legs",
    "outstanding_by_instalment",
    "post_entry",
    "reverse_entry",
]

#: The receivable book of each component.
RECEIVABLE_BOOKS = {
    "principal": "receivable:principal",
    "interest": "receivable:interest",
    "fees": "receivable:fees",
    "penalties": "receivable:penalties",
}
_COMPONENT_OF_BOOK = {book: component for component, book in RECEIVABLE_BOOKS.items()}


class UnbalancedEntryError(ValueError):
    """Raised when the legs of an entry do not sum to zero."""


@dataclasses.dataclass(frozen=True, slots=True)
class Leg:
    """One posting to be written: a book, a signed amount, optionally an instalment."""

    book: str
    amount: Decimal
    instalment_id: str | None = None


def post_entry(
    session: Session,
    account: Account,
    *,
    kind: str,
    effective_on: dt.date,
    legs: Sequence[Leg],
    memo: str = "",
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Write one balanced entry on ``account``; legs of zero are dropped.

    :raises UnbalancedEntryError: when the legs do not sum to zero, or there are none.
    """
    kept = kept_legs(kind, legs)
    entry = JournalEntry(
        account_id=account.id,
        kind=kind,
        effective_on=effective_on,
        memo=memo,
        reverses_id=reverses.id if reverses is not None else None,
    )
    entry.postings = [
        Posting(
            account_id=account.id,
            instalment_id=leg.instalment_id,
            book=leg.book,
            amount=leg.amount,
            currency=account.currency,
            effective_on=effective_on,
            position=position,
        )
        for position, leg in enumerate(kept)
    ]
    session.add(entry)
    session.flush()
    return entry


def kept_legs(kind: str, legs: Sequence[Leg]) -> list[Leg]:
    """``legs`` without zeros, after checking they balance (what every entry writes).

    :raises UnbalancedEntryError: when they do not sum to zero, or there are none.
    """
    kept = [leg for leg in legs if leg.amount != 0]
    total = sum((leg.amount for leg in kept), Decimal(0))
    if not kept or total != 0:
        raise UnbalancedEntryError(f"a {kind} entry must balance; its legs sum to {total}")
    return kept


def reverse_entry(
    session: Session, entry: JournalEntry, *, effective_on: dt.date, memo: str = ""
) -> JournalEntry:
    """A new entry that undoes ``entry`` exactly; the original stays as it was.

    :raises ValueError: when the entry is a reversal, or already reversed.
    """
    if entry.kind == "reversal":
        raise ValueError("a reversal cannot itself be reversed; post a new entry")
    already = session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == entry.id))
    if already is not None:
        raise ValueError(f"entry {entry.id} is already reversed")
    account = session.get(Account, entry.account_id)
    assert account is not None
    legs = [Leg(p.book, -p.amount, p.instalment_id) for p in entry.postings]
    return post_entry(
        session,
        account,
        kind="reversal",
        effective_on=effective_on,
        legs=legs,
        memo=memo or f"reversal of {entry.kind} {entry.id}",
        reverses=entry,
    )


def balances(
    session: Session, account_id: str, *, as_of: dt.date | None = None
) -> dict[str, Decimal]:
    """Sum of postings per book of one account (``as_of`` a date, or everything)."""
    statement = (
        select(Posting.book, func.sum(Posting.amount))
        .where(Posting.account_id == account_id)
        .group_by(Posting.book)
    )
    if as_of is not None:
        statement = statement.where(Posting.effective_on <= as_of)
    return {book: Decimal(total) for book, total in session.execute(statement)}


def receivable(book_balances: dict[str, Decimal]) -> dict[str, Decimal]:
    """The receivable components of a balance mapping, zero where absent."""
    return {
        component: book_balances.get(book, Decimal(0))
        for component, book in RECEIVABLE_BOOKS.items()
    }


@dataclasses.dataclass(frozen=True, slots=True)
class Outstanding:
    """What is still owed on one instalment, by component."""

    instalment_id: str
    number: int
    due_on: dt.date
    components: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        """All components together."""
        return sum(self.components.values(), Decimal(0))


def outstanding_by_instalment(
    session: Session, account_ids: Iterable[str], *, as_of: dt.date | None = None
) -> dict[str, list[Outstanding]]:
    """Per account, its active instalments (oldest first) with what each still owes."""
    ids = list(account_ids)
    if not ids:
        return {}
    statement = (
        select(Posting.instalment_id, Posting.book, func.sum(Posting.amount))
        .where(
            Posting.account_id.in_(ids),
            Posting.instalment_id.is_not(None),
            Posting.book.in_(list(RECEIVABLE_BOOKS.values())),
        )
        .group_by(Posting.instalment_id, Posting.book)
    )
    if as_of is not None:
        statement = statement.where(Posting.effective_on <= as_of)
    sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for instalment_id, book, total in session.execute(statement):
        if instalment_id is not None:
            sums[instalment_id][_COMPONENT_OF_BOOK[book]] = Decimal(total)
    instalments = session.scalars(
        select(Instalment)
        .where(Instalment.account_id.in_(ids), Instalment.active.is_(True))
        .order_by(Instalment.account_id, Instalment.due_on, Instalment.number)
    )
    result: dict[str, list[Outstanding]] = {account_id: [] for account_id in ids}
    for instalment in instalments:
        owed = sums.get(instalment.id, {})
        result[instalment.account_id].append(
            Outstanding(
                instalment_id=instalment.id,
                number=instalment.number,
                due_on=instalment.due_on,
                components={c: owed.get(c, Decimal(0)) for c in RECEIVABLE_BOOKS},
            )
        )
    return result
