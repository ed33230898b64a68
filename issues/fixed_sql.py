"""Statements of fixed text on the hot paths, planned once per connection on PostgreSQL.

Django's psycopg backend turns psycopg's automatic preparing off (``prepare_threshold``
None, so that connection poolers keep working), and with it every statement is planned
again on every run. For a handful of statements that run constantly with the same text
(the every-minute "anything due?" check, the notification task's read and write) the
planning costs more than the execution. ``execute_fixed`` asks psycopg to prepare just
those, when the connection binds parameters on the server (``DATABASE_SERVER_SIDE_BINDING``,
the default; a transaction-mode PgBouncer older than 1.21 runs with it off, and then
nothing is prepared).

Only for statements whose generic plan is as good as a planned-per-value one: lookups by
primary key or array of keys, inserts from ``unnest``, and sub-queries whose filters are
written-out constants. PostgreSQL plans a prepared statement for its values five times and
then may keep a generic plan; a filter such as ``state IN ($1, $2)`` cannot match a partial
index over ``state IN ('a', 'b')`` in a generic plan, and a range filter on a parameter
looks cheap to answer with a sequential scan. Statements like that stay on ``execute``.

The statement still goes through Django's cursor wrappers: query counts, ``execute_wrapper``
hooks and the debug log see it like any other.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


def prepares(cursor: CursorWrapper) -> bool:
    """Whether ``execute_fixed`` prepares on this cursor's connection."""
    db = cursor.db
    return db.vendor == "postgresql" and bool(db.settings_dict.get("OPTIONS", {}).get("server_side_binding"))


def execute_fixed(cursor: CursorWrapper, sql: str, params: Any = None) -> Any:
    """``cursor.execute(sql, params)``, prepared once per connection where that is possible (see above)."""
    if not prepares(cursor):
        return cursor.execute(sql, params)
    db = cursor.db

    def run(sql: str, params: Any, _many: bool, _context: dict[str, Any]) -> Any:
        db.validate_no_broken_transaction()
        with db.wrap_database_errors:
            return cursor.cursor.execute(sql, params, prepare=True)

    if isinstance(cursor, CursorDebugWrapper):
        with cursor.debug_sql(sql, params, use_last_executed_query=True):
            return cursor._execute_with_wrappers(sql, params, many=False, executor=run)
    return cursor._execute_with_wrappers(sql, params, many=False, executor=run)
