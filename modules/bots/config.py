"""A tenant's bots configuration, validated by marshmallow when it subscribes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

__all__ = ["IDENTITY_FIELDS", "BotsConfigSchema", "HandoverHoursSchema", "IdentitySchema"]

#: What a debtor may be asked to prove who they are (see :class:`IdentitySchema`).
IDENTITY_FIELDS = (
    "account_ref_last4",
    "account_ref",
    "debtor_ref_last4",
    "debtor_ref",
    "phone_last4",
)

_HOUR = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="must be HH:MM")


class IdentitySchema(Schema):
    """The identity challenge: which field of the account the debtor must give, and how often."""

    #: ``account_ref_last4``: the last four characters of the account's external reference;
    #: ``account_ref``: the whole reference (case and punctuation ignored); ``debtor_ref`` and
    #: ``debtor_ref_last4``: the same of the debtor's reference (e.g. a national id the client
    #: firm keys its debtors by); ``phone_last4``: the last four digits of one of the debtor's
    #: phone numbers on file.
    field = fields.String(
        load_default="account_ref_last4",
        validate=validate.OneOf(IDENTITY_FIELDS),
    )
    attempts = fields.Integer(load_default=3, validate=validate.Range(min=1, max=10))


class HandoverHoursSchema(Schema):
    """When people answer the handover queue, in the tenant's time zone."""

    start = fields.String(load_default="08:00", validate=_HOUR)
    end = fields.String(load_default="20:00", validate=_HOUR)
    time_zone = fields.String(load_default="America/Bogota", validate=validate.Length(max=64))

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("start", "08:00") >= data.get("end", "20:00"):
            raise ValidationError("must be before end", "start")


class BotsConfigSchema(Schema):
    """The bots module's settings for one tenant."""

    bot_name = fields.String(load_default="Almi", validate=validate.Length(min=1, max=60))
    company_name = fields.String(load_default="Almacén", validate=validate.Length(min=1, max=100))
    #: ``formal`` uses usted; ``friendly`` uses tú (the shipped Spanish templates honour it).
    tone = fields.String(load_default="formal", validate=validate.OneOf(["formal", "friendly"]))
    default_locale = fields.String(load_default="es", validate=validate.OneOf(["es", "en"]))
    #: The jurisdiction's required disclosure, per locale, said when a conversation starts.
    disclosure = fields.Dict(
        keys=fields.String(validate=validate.OneOf(["es", "en"])),
        values=fields.String(validate=validate.Length(max=1000)),
        load_default=lambda: {
            "es": "Este es un intento de cobro de una deuda; la información obtenida se usará "
            "con ese fin.",
            "en": "This is an attempt to collect a debt; any information obtained will be used "
            "for that purpose.",
        },
    )
    identity = fields.Nested(IdentitySchema, load_default=lambda: IdentitySchema().load({}))
    max_turns = fields.Integer(load_default=30, validate=validate.Range(min=2, max=500))
    handover_hours = fields.Nested(
        HandoverHoursSchema, load_default=lambda: HandoverHoursSchema().load({})
    )
    #: The notifications template that carries the bot's replies on SMS and WhatsApp
    #: (notifications sends only templated messages; its body is ``{{ text }}``).
    reply_template = fields.String(
        load_default="bot_reply", validate=validate.Length(min=1, max=100)
    )
    #: Below this confidence the bot asks again; twice in a row, it hands over.
    confidence_threshold = fields.Float(load_default=0.45, validate=validate.Range(min=0, max=1))
