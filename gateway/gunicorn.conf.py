"""Gunicorn settings for the gateway: ``almacen serve --workers N`` runs with this file.

connexion 3 is an ASGI framework, so the workers are uvicorn's. Every setting can still be
overridden on gunicorn's command line or with GUNICORN_CMD_ARGS.
"""

import os

bind = os.environ.get("ALMACEN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("ALMACEN_WORKERS", "2"))
worker_class = "uvicorn.workers.UvicornWorker"
# Each worker builds its own app after the fork: database pools and Redis connections must
# not be shared across processes.
preload_app = False
# Recycle workers now and then so that a slow leak in a plugin cannot grow without bound;
# the jitter keeps them from restarting together.
max_requests = 50_000
max_requests_jitter = 5_000
graceful_timeout = 20
timeout = 60
keepalive = 5
# The gateway writes its own structured access log; gunicorn's would duplicate it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("ALMACEN_LOG_LEVEL", "info").lower()


def post_worker_init(worker: object) -> None:
    """Move everything the app allocated at start-up out of the garbage collector's sight.

    A worker holds ~140k long-lived objects (specs, SQLAlchemy, plugins); every full
    collection walked them all, pausing the event loop for tens of milliseconds under load.
    Frozen objects are never scanned, so full collections only see per-request garbage.
    """
    import gc

    gc.collect()
    gc.freeze()
