"""gunicorn settings, read from the working directory by ``gunicorn config.wsgi`` (Dockerfile, compose).

Only what every deployment wants; the bind address, the number of workers
(``WEB_CONCURRENCY`` or ``--workers``) and timeouts stay on the command line.
See docs/operations.md, "gunicorn".
"""

from __future__ import annotations

import gc
from typing import Any

# Import Django and the project once in the arbiter, before the workers fork: they start at
# once, share the imported code's memory pages, and a broken import fails the start instead
# of every worker in turn. Nothing opens a database or Redis connection at import (both are
# opened on first use, in the worker), so no socket is shared across the fork.
preload_app = True

# The access log (``--access-logfile -`` in the Dockerfile and compose) through a logger that
# masks Open311 api_keys and tracking codes in every field: see config/access_log.py.
logger_class = "config.access_log.MaskedAccessLogger"


def pre_fork(server: Any, worker: Any) -> None:
    """Freeze the arbiter's objects (the preloaded project) so each worker starts with them frozen.

    Done before the fork, the collector never touches those objects in a worker, so their
    memory pages stay shared with the arbiter instead of being copied by the first collection.
    """
    gc.freeze()


def post_worker_init(worker: Any) -> None:
    """Move everything the worker holds once the project is loaded out of the collector's sight.

    Django, the project and their modules are ~100,000 long-lived objects that every full
    (generation 2) collection walked again during some request, a pause of several
    milliseconds in that request's latency. Frozen, they are never collected (they live as
    long as the process anyway), and copy-on-write pages stay shared with the arbiter.
    Runs in the worker after the app is loaded, with or without preload.
    """
    gc.collect()
    gc.freeze()
