"""Every table of the offers module; migrations import this module."""

from __future__ import annotations

from .policy_tables import *  # noqa: F403
