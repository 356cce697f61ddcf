"""Channels as plugins: the provider contract, the built-in providers, tenant credentials.

Built in: ``smtp`` (e-mail), ``http_sms`` and ``http_whatsapp`` (the reference HTTP
provider) and ``webhook`` (Standard Webhooks). Plugins add more through the
``almacen_notifications_channels`` hook.
"""

from __future__ import annotations

from .credentials import configured_channels as configured_channels
from .credentials import provider_for as provider_for
from .credentials import receipt_secret as receipt_secret
from .interfaces import ChannelError as ChannelError
from .interfaces import ChannelNotConfigured as ChannelNotConfigured
from .interfaces import ChannelProvider as ChannelProvider
from .interfaces import OutboundMessage as OutboundMessage
from .registry import providers as providers

__all__ = [
    "ChannelError",
    "ChannelNotConfigured",
    "ChannelProvider",
    "OutboundMessage",
    "configured_channels",
    "provider_for",
    "providers",
    "receipt_secret",
]
