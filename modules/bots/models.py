"""Every table of the bots module; migrations import this module."""

from __future__ import annotations

from .content_tables import *  # noqa: F403
from .conversation_tables import *  # noqa: F403
