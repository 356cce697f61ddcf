"""Marshmallow schemas of the contact policy: check input/output (HTTP and the action)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from almacen.gateway.errors import UnprocessableError, marshmallow_errors

__all__ = [
    "ConsentSchema",
    "ContactCheckInputSchema",
    "ContactCheckSchema",
    "PolicySchema",
    "ReasonSchema",
    "load_input",
]


class ContactCheckInputSchema(Schema):
    """Input of ``notifications.contact_check`` (and of ``POST /contact-check``).

    The recipient fields override what the ledger knows of ``debtor_id``; without the ledger
    they are the recipient.
    """

    debtor_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    channel = fields.String(required=True, validate=validate.Length(min=1, max=32))
    #: When the contact would happen; now by default.
    at = fields.AwareDateTime(load_default=None, allow_none=True)
    account_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=list,
        validate=validate.Length(max=100),
    )
    time_zone = fields.String(load_default=None, allow_none=True)
    country = fields.String(load_default=None, allow_none=True)
    locale = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    whatsapp = fields.String(load_default=None, allow_none=True)


class ReasonSchema(Schema):
    """Why a contact is not allowed now, with its legal source (or ``tenant``)."""

    code = fields.String()
    message = fields.String()
    source = fields.String(allow_none=True)


def _local(attribute: str) -> fields.Function:
    def dump(outcome: Any) -> str | None:
        value = getattr(outcome.decision, attribute)
        return None if value is None else str(value.isoformat())

    return fields.Function(dump)


class ContactCheckSchema(Schema):
    """Output of a contact check: the decision and what it was made for."""

    allowed = fields.Function(lambda outcome: outcome.decision.allowed)
    reasons = fields.Function(
        lambda outcome: ReasonSchema(many=True).dump(outcome.decision.reasons)
    )
    #: In the recipient's local time (with its UTC offset).
    next_allowed_at = _local("next_allowed_at")
    local_time = _local("local_time")
    channel = fields.String()
    rule_pack = fields.String()
    debtor_id = fields.Function(lambda outcome: outcome.recipient.debtor_id)
    time_zone = fields.Function(lambda outcome: outcome.recipient.time_zone)
    country = fields.Function(lambda outcome: outcome.recipient.country)


class PolicySchema(Schema):
    """The tenant's contact policy."""

    rule_pack = fields.String()
    overrides = fields.Dict()
    updated_at = fields.AwareDateTime(allow_none=True)


class ConsentSchema(Schema):
    """One stored consent or opt-out."""

    subject_kind = fields.String()
    subject = fields.String()
    channel = fields.Function(lambda row: None if row.channel == "*" else row.channel)
    status = fields.String()
    source = fields.String()
    updated_at = fields.AwareDateTime()


def load_input(schema: Schema, data: Any) -> dict[str, Any]:
    """``schema.load(data)``, a refusal as a 422 problem naming every fault's pointer."""
    try:
        return dict(schema.load(data))
    except ValidationError as exc:
        raise UnprocessableError(
            "the request is invalid", errors=marshmallow_errors(exc.messages)
        ) from None
