"""Every table of the scoring module, one file per concern; migrations import this module."""

from __future__ import annotations

from .model_tables import *  # noqa: F403
from .score_job_tables import *  # noqa: F403
from .segment_tables import *  # noqa: F403
from .training_tables import *  # noqa: F403
