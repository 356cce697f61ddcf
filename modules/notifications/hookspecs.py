"""Hook specifications the notifications module offers to plugins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from almacen import hookspec

if TYPE_CHECKING:
    from .channels import ChannelProvider


@hookspec
def almacen_notifications_channels() -> Iterable[ChannelProvider] | None:
    """Add channel providers beside the built-in ones (SMTP e-mail, HTTP SMS/WhatsApp, webhook).

    A provider has a unique ``name``, the ``channel`` it serves (``email``, ``sms``,
    ``whatsapp``, ``webhook`` or a new one), a marshmallow schema for the tenant's
    credentials (fields marked ``metadata={"public": True}`` may be shown back; the rest are
    secret), and ``send(message, credentials)`` returning the provider's message id or
    raising :class:`~almacen.modules.notifications.channels.ChannelError`.

    Called whenever the module needs its providers (listing, storing credentials, sending);
    implement it in any plugin installed beside the notifications module. All non-None
    results are collected after the built-in providers; a provider whose name is taken is
    ignored.

    :return: an iterable of :class:`~almacen.modules.notifications.channels.ChannelProvider`,
        or None.
    """
