"""The notifications module's actions (``notifications.send``, ``notifications.contact_check``).

Each handler is ``handler(session, tenant_id, data)``: ``data`` is what the action's input
schema loaded, and ``session`` must be open for ``tenant_id``; the caller owns the transaction.
"""

from __future__ import annotations

from almacen import Action

__all__ = ["ACTIONS"]

ACTIONS: list[Action] = []
