"""Stored offers and their lifecycle: propose, approve or decline, accept, reject, expire.

An offer is chosen from the account's menu and stored with its terms frozen (the schedule,
disclosures and expiry exactly as shown), so acceptance installs what the debtor saw.
Statuses::

    proposed ──> accepted | rejected | expired | countered
    pending_approval ──> approved (acceptable like proposed) | declined | expired
    approved ──> accepted | rejected | expired | countered

Every change is an :class:`~.offer_tables.OfferHistory` row and, where the issue names one,
an ``offers.*`` event in the same transaction. Acceptance is idempotent; when the tenant has
the ledger it installs the plan (``ledger.install_plan``) or the settlement
(``ledger.apply_settlement``) through :func:`almacen.run_action` in the caller's transaction,
so a ledger refusal propagates and rolls everything back: the offer stays as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from almacen import ActionInputError, ActionUnavailableError, EventType, emit, run_action
from almacen.gateway.db import utcnow
from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.gateway.pagination import DEFAULT_LIMIT, Page, paginate

from . import events
from .menu import MenuItem
from .offer_tables import OfferHistory, StoredOffer
from .schemas import dump_item
from .service import Menu, menu_for

__all__ = [
    "ACCEPTABLE",
    "OPEN",
    "accept",
    "approve",
    "decline",
    "expire_due",
    "get_offer",
    "list_offers",
    "propose",
    "refuse_if_disputed",
    "reject",
    "store",
    "transition",
]

#: Statuses in which the debtor may still accept (or counter) the offer.
ACCEPTABLE = ("proposed", "approved")
#: Statuses the expiry job closes once the offer is past its expiry.
OPEN = ("proposed", "pending_approval", "approved")
#: Kinds whose acceptance installs a payment plan in the ledger.
PLAN_KINDS = ("plan", "refinancing")
#: Kinds whose acceptance (when something is forgiven) agrees a settlement in the ledger.
LUMP_KINDS = ("settlement", "pay_in_full")


def _emit(session: Session, event_type: EventType, offer: StoredOffer) -> None:
    emit(
        session,
        event_type,
        {
            "offer_id": offer.id,
            "account_id": offer.account_id,
            "kind": offer.kind,
            "status": offer.status,
        },
        subject=("offer", offer.id),
    )


def transition(session: Session, offer: StoredOffer, to: str, note: str | None = None) -> None:
    """Move ``offer`` to status ``to`` and record the change (with its time and why)."""
    now = utcnow()
    offer.history.append(
        OfferHistory(
            seq=len(offer.history) + 1,
            from_status=offer.status,
            to_status=to,
            note=note,
            at=now,
        )
    )
    offer.status = to
    offer.updated_at = now
    session.flush()


def refuse_if_disputed(session: Session, account_id: str) -> None:
    """Refuse to negotiate or arrange anything on an account the ledger shows disputed or
    not open: strategies pause disputed accounts, and a closed one owes nothing to arrange.

    A tenant without the ledger has nothing to check.

    :raises ConflictError: the account is disputed or not open.
    :raises NotFoundError: the ledger has no such account.
    """
    try:
        summary = run_action(session, "ledger.get_account", {"account_id": account_id})
    except ActionUnavailableError:
        return
    except ActionInputError:
        raise NotFoundError(f"No account {account_id!r}.") from None
    account = summary.get("account") or {}
    if account.get("disputed"):
        raise ConflictError(
            f"account {account_id} is disputed: no offer can be made or accepted until the "
            "dispute is resolved"
        )
    status = account.get("status")
    if status not in (None, "open"):
        raise ConflictError(f"account {account_id} is {status}: there is nothing to arrange")


def store(
    session: Session,
    menu: Menu,
    item: MenuItem,
    *,
    counter: Mapping[str, Any] | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> StoredOffer:
    """Store ``item`` of ``menu`` as an offer: ``pending_approval`` when the policy's
    thresholds say a person must approve it (``offers.approval_required``), else
    ``proposed`` (``offers.proposed``)."""
    if menu.facts.account_id is None:  # pragma: no cover - callers always name an account
        raise UnprocessableError("An offer is made on an account of the ledger.")
    now = utcnow()
    status = "pending_approval" if item.requires_approval else "proposed"
    offer = StoredOffer(
        account_id=menu.facts.account_id,
        kind=item.offer.kind,
        label=item.offer.label,
        status=status,
        currency=menu.facts.balance.currency,
        term_months=item.term_months,
        terms=dump_item(item),
        expires_on=item.expires_on,
        requires_approval=item.requires_approval,
        policy_version=menu.policy_version,
        rule=menu.rule,
        counter=dict(counter) if counter is not None else None,
        reason=reason,
        created_at=now,
        updated_at=now,
    )
    offer.history = [OfferHistory(seq=1, from_status=None, to_status=status, note=note, at=now)]
    session.add(offer)
    session.flush()
    if item.requires_approval:
        _emit(session, events.OFFER_APPROVAL_REQUIRED, offer)
    else:
        _emit(session, events.OFFER_PROPOSED, offer)
    return offer


def choose(menu: Menu, kind: str, count: int | None) -> MenuItem:
    """The best-ranked item of ``kind`` (with ``count`` monthly instalments, if given).

    :raises UnprocessableError: the menu has no such offer (the policy does not allow it).
    """
    for item in menu.items:
        if item.offer.kind == kind and (count is None or item.term_months == count):
            return item
    wanted = kind if count is None else f"{kind} over {count} months"
    available = sorted({f"{i.offer.kind}:{i.term_months}" for i in menu.items})
    raise UnprocessableError(
        f"The account's menu has no {wanted} offer; the policy allows {', '.join(available)}.",
        errors=[{"pointer": "/kind", "detail": "not an offer of the account's menu"}],
    )


def propose(session: Session, data: Mapping[str, Any], *, today: dt.date) -> StoredOffer:
    """Choose one offer of the account's menu (``kind``, optional ``count``) and store it."""
    refuse_if_disputed(session, data["account_id"])
    menu = menu_for(session, data, today=today)
    item = choose(menu, data["kind"], data.get("count"))
    return store(session, menu, item, note="chosen from the menu")


def get_offer(session: Session, offer_id: str, *, lock: bool = False) -> StoredOffer:
    """One of the tenant's offers. :raises NotFoundError: no offer of that id (for this
    tenant: another tenant's offers do not exist here)."""
    query = select(StoredOffer).where(StoredOffer.id == offer_id)
    if lock:
        query = query.with_for_update()
    offer = session.scalar(query)
    if offer is None:
        raise NotFoundError(f"No offer {offer_id!r}.")
    return offer


def list_offers(
    session: Session,
    *,
    account_id: str | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[StoredOffer]:
    """A page of the tenant's offers, oldest first, optionally of one account and/or status.

    :raises RequestValidationError: a cursor this API did not issue.
    """
    query = select(StoredOffer)
    if account_id is not None:
        query = query.where(StoredOffer.account_id == account_id)
    if status is not None:
        query = query.where(StoredOffer.status == status)
    return paginate(
        session, query, keys=(StoredOffer.created_at, StoredOffer.id), limit=limit, cursor=cursor
    )


def _refuse_if_expired(offer: StoredOffer, today: dt.date) -> None:
    if offer.status == "expired" or today > offer.expires_on:
        raise ConflictError(f"offer {offer.id} expired on {offer.expires_on}")


def _install(session: Session, offer: StoredOffer) -> str | None:
    """Arrange the accepted offer in the ledger; the plan's id, or None when nothing is."""
    terms = offer.terms
    currency = offer.currency
    instalments = [row for row in terms["schedule"] if row["number"] > 0]
    upfront = Decimal(terms["upfront"]["amount"])
    forgiven = Decimal(terms["forgiven"]["amount"])
    try:
        if instalments and (offer.kind in PLAN_KINDS or offer.kind not in LUMP_KINDS):
            # The schedule the debtor accepted, row for row: its due dates (moved to business
            # days), its amounts (a plugin's step-up plan) and the interest each carries.
            data: dict[str, Any] = {
                "account_id": offer.account_id,
                "instalments": [
                    {
                        "due_on": row["due_on"],
                        "principal": row["principal"],
                        "interest": row["interest"],
                    }
                    for row in instalments
                ],
                "annual_rate": terms["annual_rate"],
            }
            if upfront > 0:
                data["down_payment"] = {"amount": str(upfront), "currency": currency}
            result = run_action(session, "ledger.install_plan", data)
        elif offer.kind in LUMP_KINDS and forgiven > 0:
            # The lump sum is due by the offer's expiry: the ledger's "today" may already be
            # tomorrow (it runs on the earliest time zone), never past the expiry.
            result = run_action(
                session,
                "ledger.apply_settlement",
                {
                    "account_id": offer.account_id,
                    "amount": terms["total_cost"],
                    "due_on": offer.expires_on.isoformat(),
                },
            )
        else:
            return None
    except ActionUnavailableError:
        return None
    plan_id = result.get("id")
    return str(plan_id) if plan_id is not None else None


def accept(session: Session, offer_id: str, *, today: dt.date) -> StoredOffer:
    """Accept the offer (idempotent: an accepted offer is returned unchanged).

    :raises NotFoundError: no such offer for the tenant.
    :raises ConflictError: the offer expired, waits for approval or was closed otherwise; the
        account is disputed; or the ledger refuses the arrangement (then nothing changes).
    """
    offer = get_offer(session, offer_id, lock=True)
    if offer.status == "accepted":
        return offer
    _refuse_if_expired(offer, today)
    if offer.status not in ACCEPTABLE:
        raise ConflictError(f"offer {offer.id} is {offer.status}; it cannot be accepted")
    refuse_if_disputed(session, offer.account_id)
    offer.ledger_plan_id = _install(session, offer)
    note = f"ledger arrangement {offer.ledger_plan_id}" if offer.ledger_plan_id else None
    transition(session, offer, "accepted", note)
    _emit(session, events.OFFER_ACCEPTED, offer)
    return offer


def reject(session: Session, offer_id: str, *, today: dt.date) -> StoredOffer:
    """The debtor rejects the offer (idempotent). :raises ConflictError: it is closed."""
    offer = get_offer(session, offer_id, lock=True)
    if offer.status == "rejected":
        return offer
    _refuse_if_expired(offer, today)
    if offer.status not in ACCEPTABLE:
        raise ConflictError(f"offer {offer.id} is {offer.status}; it cannot be rejected")
    transition(session, offer, "rejected")
    _emit(session, events.OFFER_REJECTED, offer)
    return offer


def _decide(session: Session, offer_id: str, to: str, today: dt.date) -> StoredOffer:
    offer = get_offer(session, offer_id, lock=True)
    if offer.status == to:
        return offer
    _refuse_if_expired(offer, today)
    if offer.status != "pending_approval":
        raise ConflictError(f"offer {offer.id} is {offer.status}; it is not waiting for approval")
    transition(session, offer, to)
    if to == "approved":
        _emit(session, events.OFFER_PROPOSED, offer)
    return offer


def approve(session: Session, offer_id: str, *, today: dt.date) -> StoredOffer:
    """A person approves an offer beyond the thresholds; the debtor may then accept it."""
    return _decide(session, offer_id, "approved", today)


def decline(session: Session, offer_id: str, *, today: dt.date) -> StoredOffer:
    """A person declines an offer beyond the thresholds; it is closed."""
    return _decide(session, offer_id, "declined", today)


def expire_due(session: Session, *, as_of: dt.date) -> list[StoredOffer]:
    """Expire every open offer whose expiry is before ``as_of``, emitting ``offers.expired``."""
    due = session.scalars(
        select(StoredOffer)
        .where(StoredOffer.status.in_(OPEN), StoredOffer.expires_on < as_of)
        .order_by(StoredOffer.expires_on, StoredOffer.id)
        .with_for_update()
    ).all()
    for offer in due:
        transition(session, offer, "expired", f"past its expiry {offer.expires_on}")
        _emit(session, events.OFFER_EXPIRED, offer)
    return list(due)
