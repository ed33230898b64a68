"""A write that meets a broken database connection is tried once more on a fresh one.

PostgreSQL restarting, a failover, or a proxy dropping idle connections kills the
connection a web process holds. ``CONN_HEALTH_CHECKS`` replaces a dead connection at the
start of the next request, but a request whose connection dies midway (or while the
server is still coming back) gets ``OperationalError``/``InterfaceError``. The intake
faces (residents' form, Open311, the API's create) call their service through
``retry_once``: the service is one transaction, so a failed attempt wrote nothing and
the second starts clean. If that fails too the face answers 503 with what was sent,
never a bare 500.

One edge stays: a connection lost after the server committed but before it answered
leaves a saved case the caller does not know of, and the retry saves a second one. Staff
merge duplicates (a transition exists for that); a lost report is worse. A face that sends
an idempotency key (the residents' form's one-time token, through ``case_submit_once``) has
no such edge: the retry finds the case the first attempt committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

# What a dead or unreachable server raises (psycopg's errors as Django wraps them).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)

T = TypeVar("T")


def drop_connection() -> None:
    """Close this thread's connection so the next query opens a new one.

    Inside an atomic block Django would refuse every later query instead (the block is
    already lost), so it is left for the block's owner to unwind.
    """
    if not connection.in_atomic_block:
        connection.close()


def retry_once(write: Callable[[], T], *, what: str) -> T:
    """``write()``; if the database connection broke under it, once more on a fresh connection.

    ``what`` names the write in the log (never the caller's data: the log must not hold a
    resident's name, phone or address, and a driver's message can quote them).
    """
    try:
        return write()
    except DATABASE_UNAVAILABLE as exc:
        if connection.in_atomic_block:
            raise  # an outer transaction is lost with the connection; only its owner can retry
        logger.warning("%s: database connection lost (%s); retrying once", what, exc.__class__.__name__)
        drop_connection()
    try:
        return write()
    except DATABASE_UNAVAILABLE as exc:
        logger.error("%s: database unavailable again (%s); not saved", what, exc.__class__.__name__)
        drop_connection()
        raise
