"""Get a process ready to answer turns before its first debtor writes.

A turn needs the sentence encoder (about two seconds to load), the classifier of the shipped
and the plugins' intents (seconds to train, milliseconds from the disk cache) and
dateparser's language data (about a second). :func:`warm_app` does all three when an app is
built: in the worker itself under gunicorn (a worker accepts connections only once its app
is built, so no request ever waits for training), in a background thread elsewhere (a test,
a command, the development server), where a turn that arrives first waits for it on a lock.
``ALMACEN_BOTS_WARM`` = ``sync``, ``background`` or ``off`` chooses explicitly.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from typing import Any

from . import classifiers, nlu
from .nlu.dates import warm_up as warm_dates
from .service import registry_intents

__all__ = ["mode", "warm", "warm_app"]

logger = logging.getLogger(__name__)
MODES = ("sync", "background", "off")


def mode() -> str:
    """How to warm: ``ALMACEN_BOTS_WARM``, else ``sync`` under gunicorn, else ``background``."""
    chosen = os.environ.get("ALMACEN_BOTS_WARM", "").strip().lower()
    if chosen in MODES:
        return chosen
    return "sync" if os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn") else "background"


def warm(registry: Any) -> None:
    """Load the encoder, the shared classifier with the registry's plugin intents, dateparser."""
    started = time.perf_counter()
    hook = getattr(registry.hook, "almacen_bots_intents", None)
    plugins = registry_intents(registry) if hook is not None else ()
    classifier = classifiers.base_classifier(plugins)
    classifier.predict("hola")  # the encoder and the vectorisers, through a real prediction
    nlu.extract_entities("pago 100 el viernes", language="es", today=dt.date.today())
    warm_dates()
    logger.info(
        "bots ready: %d intents in %.1f s", len(classifier.classes), time.perf_counter() - started
    )


def warm_app(registry: Any) -> threading.Thread | None:
    """Warm as :func:`mode` says; the background thread, when one was started."""
    chosen = mode()
    if chosen == "off":
        return None

    def run() -> None:
        try:
            warm(registry)
        except Exception:  # a failed warm-up only means the first turn trains
            logger.exception("bots warm-up failed; the first turn will load what it needs")

    if chosen == "sync":
        run()
        return None
    thread = threading.Thread(target=run, name="bots-warm-up", daemon=True)
    thread.start()
    return thread
