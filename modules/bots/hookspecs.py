"""Extension points of the bots module, added to the registry by its plugin."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from almacen import hookspec

if TYPE_CHECKING:
    from .intents import PluginIntent


@hookspec
def almacen_bots_intents() -> Iterable[PluginIntent] | None:
    """Add intents to the bots' understanding, each with its examples and handler.

    The bot trains its classifier on the shipped examples, every plugin's and the tenant's
    own; when a verified debtor's message is classified as a plugin intent, its handler
    answers the turn (it may call actions, e.g. ``notifications.send``).

    :return: an iterable of :class:`~almacen.modules.bots.PluginIntent`, or None. All results
        are collected; an intent named like a built-in one or another plugin's is skipped
        and logged.
    """
