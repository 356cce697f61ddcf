"""Sending: accepting messages, the send loop, receipts and inbound replies.

Accepted messages are rendered at once and queued in the module's own outbox table; the
send loop (:class:`MessageSender`, a worker task) checks the contact policy and opt-outs
again, throttles, and hands each to its channel's provider; providers report receipts and
replies on signed public callbacks.
"""

from __future__ import annotations

from .accept import Accepted as Accepted
from .accept import accept_message as accept_message
from .callbacks import InboundResult as InboundResult
from .callbacks import apply_receipt as apply_receipt
from .callbacks import receive_inbound as receive_inbound
from .callbacks import sign as sign
from .callbacks import verify as verify
from .queries import get_message as get_message
from .queries import list_messages as list_messages
from .worker import MessageSender as MessageSender

__all__ = [
    "Accepted",
    "InboundResult",
    "MessageSender",
    "accept_message",
    "apply_receipt",
    "get_message",
    "list_messages",
    "receive_inbound",
    "sign",
    "verify",
]
