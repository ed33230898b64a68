"""Reads that may come from a PostgreSQL streaming replica: dashboards, exports, the public board, API lists.

A Django database router (``DATABASE_ROUTERS``) can only choose by model; which *requests* may read
a few seconds behind the primary is a property of the page. So ``ReplicaReadsMiddleware`` marks the
requests that may (``reads_may_lag``: a GET or HEAD of a path under ``JXT_REPLICA_READ_PATHS``, a view
named in ``JXT_REPLICA_READ_VIEWS``, or an API list — a DRF route named ``*-list``), and
``ReplicaRouter`` sends the reads of marked requests to the ``replica`` alias. Everything else —
every write, every ``select_for_update``, every page that shows what its user just did (the case
page after a transition, the tracking page, an API detail after a create) — reads the primary.

The ``replica`` alias is configured from ``DATABASE_REPLICA_URL``; without one it is a second name for
the primary, and ``JXT_REPLICA_READS`` (on exactly when a replica URL is set) keeps the router idle.
In the tests the alias mirrors ``default`` (Django's ``TEST["MIRROR"]``).
A replica that cannot be reached is skipped for that request (the primary answers, a warning is
logged). A response that streams (a CSV written row by row while it is sent) reads the primary once the view
has returned: the mark ends with the view.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponseBase
from django.urls import ResolverMatch

logger = logging.getLogger(__name__)

REPLICA = "replica"
_PRIMARY = "default"

_reading: ContextVar[bool] = ContextVar("jxt_replica_reads", default=False)


def replica_enabled() -> bool:
    """A replica is configured and routing to it is on."""
    return bool(settings.JXT_REPLICA_READS) and REPLICA in settings.DATABASES


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside the block may come from the replica (outside a transaction on the primary)."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def reads_may_lag(method: str, path: str, match: ResolverMatch | None) -> bool:
    """Whether a request may read from the replica: the one list of such pages."""
    if method not in ("GET", "HEAD"):
        return False
    if any(path.startswith(prefix) for prefix in settings.JXT_REPLICA_READ_PATHS):
        return True
    if match is None or not match.url_name:
        return False
    name = match.view_name
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in settings.JXT_REPLICA_READ_VIEWS)


class ReplicaRouter:
    """Reads of marked requests go to the replica; writes, migrations and everything else to the primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if _reading.get() and replica_enabled():
            return REPLICA
        return None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return _PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # Both aliases hold the same rows: a row read from the replica may point at one from the primary.
        return True

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        return db != REPLICA


class ReplicaReadsMiddleware:
    """Marks the requests whose reads may lag (``reads_may_lag``) from their view's start to the response.

    Last in ``MIDDLEWARE``: every other middleware's ``process_view`` (CSRF, the session's limits) has
    read the primary by then.
    """

    MARK = "jxt_replica_reads"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            return self.get_response(request)
        finally:
            token = request.__dict__.pop(self.MARK, None)
            if token is not None:
                _reading.reset(token)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> None:
        if not replica_enabled() or not reads_may_lag(
            request.method or "", request.path_info, request.resolver_match
        ):
            return
        try:
            connections[REPLICA].ensure_connection()  # a no-op on a live persistent connection
        except DatabaseError:
            # A replica that is down or restarting: this request reads the primary; the next one tries again.
            logger.warning("replica unreachable: reading from the primary")
            return
        request.__dict__[self.MARK] = _reading.set(True)
