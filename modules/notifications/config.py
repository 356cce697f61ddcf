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
