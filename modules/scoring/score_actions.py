"""``scoring.score``: registered by the scoring engine's owner."""

from __future__ import annotations

from almacen import Action

ACTIONS: list[Action] = []
