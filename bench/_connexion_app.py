"""Bare connexion: a ``FlaskApp`` with connexion's default middleware and the tiny spec.

Same handler as the gateway's module, no authentication, rate limit, logging or metrics.
"""

from __future__ import annotations

import connexion
from connexion.resolver import RelativeResolver
from tinymodule import SPEC

app = connexion.FlaskApp(__name__)
app.add_api(SPEC, base_path="/v1/tiny", resolver=RelativeResolver("tinymodule.api"))
