"""Every table of the notifications module; migrations import this module."""

from __future__ import annotations

from .contact_tables import *  # noqa: F403
from .message_tables import *  # noqa: F403
from .template_tables import *  # noqa: F403
