"""Every table of the offers module; migrations import this module."""

from __future__ import annotations

from .offer_tables import *  # noqa: F403
from .policy_tables import *  # noqa: F403
