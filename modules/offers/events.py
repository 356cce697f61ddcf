"""The offers module's event types and their payload schemas."""

from __future__ import annotations

from marshmallow import Schema, fields

from almacen import EventType

__all__ = [
    "ALL",
    "OFFER_ACCEPTED",
    "OFFER_APPROVAL_REQUIRED",
    "OFFER_EXPIRED",
    "OFFER_PROPOSED",
    "OFFER_REJECTED",
]


class OfferEventSchema(Schema):
    """Payload of every ``offers.*`` event: which offer, on which account, in which state."""

    offer_id = fields.String(required=True)
    account_id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)


OFFER_PROPOSED = EventType(
    name="offers.proposed", schema=OfferEventSchema, description="An offer was proposed."
)
OFFER_ACCEPTED = EventType(
    name="offers.accepted", schema=OfferEventSchema, description="A debtor accepted an offer."
)
OFFER_REJECTED = EventType(
    name="offers.rejected", schema=OfferEventSchema, description="A debtor rejected an offer."
)
OFFER_EXPIRED = EventType(
    name="offers.expired", schema=OfferEventSchema, description="An offer expired unanswered."
)
OFFER_APPROVAL_REQUIRED = EventType(
    name="offers.approval_required",
    schema=OfferEventSchema,
    description="An offer beyond the policy's thresholds waits for a person's approval.",
)
ALL = (OFFER_PROPOSED, OFFER_ACCEPTED, OFFER_REJECTED, OFFER_EXPIRED, OFFER_APPROVAL_REQUIRED)
