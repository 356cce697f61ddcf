"""Tables of the notifications module (template_tables)."""

from __future__ import annotations

__all__: list[str] = []
