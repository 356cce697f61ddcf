"""Marshmallow schemas that dump tenancy rows for the admin API."""

from __future__ import annotations

from marshmallow import Schema, fields

__all__ = ["ApiKeySchema", "SubscriptionSchema", "TenantSchema"]


class TenantSchema(Schema):
    """A tenant as the admin API shows it."""

    id = fields.String()
    slug = fields.String()
    name = fields.String()
    status = fields.String()
    rate_limit = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class ApiKeySchema(Schema):
    """An API key without its secret."""

    id = fields.String()
    prefix = fields.String()
    name = fields.String()
    created_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)


class SubscriptionSchema(Schema):
    """A subscription and the module configuration stored with it."""

    module = fields.String()
    config = fields.Dict()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
