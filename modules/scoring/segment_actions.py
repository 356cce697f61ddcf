"""``scoring.segment``: registered by the segmentation's owner."""

from __future__ import annotations

from almacen import Action

ACTIONS: list[Action] = []
