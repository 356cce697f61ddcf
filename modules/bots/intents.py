"""What a plugin gives to add an intent, and what its handler receives and returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["IntentContext", "IntentReply", "PluginIntent"]


@dataclasses.dataclass(frozen=True)
class IntentContext:
    """A verified debtor's turn handed to a plugin intent.

    ``call(action, data)`` runs another module's action for the tenant, recorded on the
    turn; it raises :class:`~almacen.ActionUnavailableError` when the tenant lacks it.
    """

    conversation_id: str
    account_id: str | None
    debtor_id: str | None
    channel: str
    address: str | None
    locale: str
    text: str
    entities: Any
    settings: Mapping[str, Any]
    call: Callable[[str, Mapping[str, Any]], dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class IntentReply:
    """A plugin intent's answer: its text, and whether to stay, hand over or end."""

    text: str
    #: ``stay``, ``handover`` or ``end`` (see :mod:`almacen.modules.bots.machine`).
    event: str = "stay"


@dataclasses.dataclass(frozen=True)
class PluginIntent:
    """An intent a plugin adds: its name, examples per language, and its handler."""

    name: str
    examples: Mapping[str, Sequence[str]]
    handler: Callable[[IntentContext], IntentReply]
