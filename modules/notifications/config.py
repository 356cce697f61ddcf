"""A tenant's notifications configuration, validated by marshmallow when it subscribes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

__all__ = ["NotificationsConfigSchema"]


class NotificationsConfigSchema(Schema):
    """The notifications module's settings for one tenant."""

    #: Locale used when neither the message nor the debtor names one.
    default_locale = fields.String(load_default="es_CO", validate=validate.Length(min=2, max=35))
    #: IANA time zone assumed for a debtor without one.
    default_time_zone = fields.String(
        load_default="America/Bogota", validate=validate.Length(min=1, max=64)
    )
    #: Country (ISO 3166-1 alpha-2) whose rule pack governs a contact with a recipient of
    #: unknown country, under the contact policy's ``auto`` pack.
    default_country = fields.String(
        load_default="CO", validate=validate.Regexp(r"^[A-Z]{2}$", error="an ISO 3166-1 code")
    )
    # --- sending: begin ---
    #: Requests for one debtor, channel and template with account ids, made within this many
    #: seconds of the first, fold into one message listing every account (0: never merge).
    merge_window_seconds = fields.Integer(load_default=60, validate=validate.Range(0, 86400))
    #: Provider attempts before a message that keeps failing transiently is ``failed``.
    max_attempts = fields.Integer(load_default=5, validate=validate.Range(1, 50))
    #: First retry delay; doubled at each attempt (capped at an hour).
    retry_backoff_seconds = fields.Float(load_default=30.0, validate=validate.Range(0, 3600))
    #: The tenant's sending rate (``limits`` notation), and per channel if stricter.
    send_rate_limit = fields.String(load_default="600/second")
    channel_rate_limits = fields.Dict(
        keys=fields.String(), values=fields.String(), load_default=dict
    )
    #: Origin of the public endpoints (unsubscribe links, callbacks), e.g. https://api.example.
    public_base_url = fields.String(
        load_default="http://localhost:8000", validate=validate.Length(min=8, max=200)
    )
    # --- sending: end ---
