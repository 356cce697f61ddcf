"""The offers module's actions (``offers.propose``, ``offers.counter``, ``offers.accept``)."""

from __future__ import annotations

from almacen import Action

ACTIONS: list[Action] = []
