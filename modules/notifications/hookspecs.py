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
    credentials, and ``send(message, credentials)`` returning the provider's message id.

    :return: an iterable of :class:`~almacen.modules.notifications.channels.ChannelProvider`,
        or None.
    """
