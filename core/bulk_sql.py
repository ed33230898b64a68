"""Bulk writes in one statement, for the hot batch paths (the sweep, the notification fan-out).

Django's ``bulk_update`` and ``bulk_create(ignore_conflicts=True)`` cost milliseconds of
Python per row, or cannot say what they skipped; these two write the same rows in one
statement per chunk, through Django's connection (query counts and logs see them).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any, Literal, overload

from django.db import connections, router
from django.db.models import Field, Model, QuerySet


def concrete_field(model: type[Model], name: str) -> Field[Any, Any]:
    """The model's field ``name``, which must be a column (not a reverse relation or m2m)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.concrete:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def update_rows(
    model: type[Model],
    objs: list[Any],
    fields: list[str],
    *,
    constants: dict[str, Any] | None = None,
    chunk: int = 1000,
) -> int:
    """Write ``fields`` of ``objs`` back, joined to the rows' new values, in one ``UPDATE … FROM``.

    Django's ``bulk_update`` builds a ``CASE WHEN pk = … THEN …`` expression per field
    and row, which costs milliseconds of Python per row; a join against the new values
    costs the database about what a plain UPDATE does. On PostgreSQL the values travel as
    one array per column through ``unnest`` (one statement, the same text for any number
    of rows); SQLite (3.33+ for ``UPDATE … FROM``) gets a VALUES list per ``chunk`` rows,
    its values stored as given (a CAST to its "datetime" affinity would turn a timestamp
    into a number). ``constants`` are columns set to one value for every row.
    """
    if not objs:
        return 0
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    columns: list[Field[Any, Any]] = [pk, *(concrete_field(model, name) for name in fields)]
    quoted = [quote(str(f.column)) for f in columns]
    names = ", ".join(quoted)
    assignments = [f"{name} = v.{name}" for name in quoted[1:]]
    fixed: list[Any] = []
    for name, value in (constants or {}).items():
        column = concrete_field(model, name)
        assignments.append(f"{quote(str(column.column))} = %s")
        fixed.append(column.get_db_prep_save(value, connection))
    table, key = quote(meta.db_table), quoted[0]
    update = f"UPDATE {table} SET {', '.join(assignments)} FROM"  # noqa: S608 - quoted names only
    where = f"WHERE {table}.{key} = v.{key}"
    attnames = ["pk", *(f.attname for f in columns[1:])]
    arrays = _as_saved(connection, columns, [[getattr(obj, a) for obj in objs] for a in attnames])
    statements: list[tuple[str, list[Any]]] = []
    if connection.vendor == "postgresql":
        source = f"unnest({_array_casts(connection, columns)}) AS v ({names})"
        statements.append((f"{update} {source} {where}", [*fixed, *arrays]))  # in the order they appear
    else:
        prepared = list(zip(*arrays, strict=True))
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(prepared), chunk):
            part = prepared[start : start + chunk]
            values = f"WITH v ({names}) AS (VALUES {', '.join([row] * len(part))})"
            statements.append((f"{values} {update} v {where}", [*(v for r in part for v in r), *fixed]))
    updated = 0
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated


def _as_saved(
    connection: Any, fields: Sequence[Field[Any, Any]], columns: list[list[Any]]
) -> list[list[Any]]:
    """The values, column by column, as each field would save them (e.g. aware datetimes on SQLite).

    psycopg takes PostgreSQL's plain values (numbers, texts, aware datetimes, None) as they
    are: asking each field for them was a third of a notification task's CPU, so a column
    of plain values is sent as it is.
    """
    postgres = connection.vendor == "postgresql"
    return [
        values
        if postgres and all(map(_is_plain, values))
        else [f.get_db_prep_save(v, connection) for v in values]
        for f, values in zip(fields, columns, strict=True)
    ]


def _array_casts(connection: Any, fields: Sequence[Field[Any, Any]]) -> str:
    """PostgreSQL: one binary array parameter per field, cast to the column's type.

    Array types without their modifiers (varchar[], not varchar(200)[]), as Django's
    bulk_create does; binary parameters (%b): in text format psycopg quotes every element in Python.
    """
    return ", ".join(f"%b::{(f.db_type(connection) or '').split('(')[0]}[]" for f in fields)


@overload
def insert_new(
    model: type[Model],
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    unique: Sequence[str] = (),
    constants: dict[str, Any] | None = None,
    returning: Literal[False] = False,
) -> int: ...
@overload
def insert_new(
    model: type[Model],
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    unique: Sequence[str] = (),
    constants: dict[str, Any] | None = None,
    returning: Literal[True],
) -> list[int]: ...
@overload
def insert_new(
    model: type[Model],
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    unique: Sequence[str] = (),
    constants: dict[str, Any] | None = None,
    returning: tuple[str, ...],
) -> list[tuple[Any, ...]]: ...
def insert_new(
    model: type[Model],
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    unique: Sequence[str] = (),
    constants: dict[str, Any] | None = None,
    returning: bool | tuple[str, ...] = False,
) -> int | list[int] | list[tuple[Any, ...]]:
    """Insert the rows that do not collide with ``unique`` (every row without it).

    ``constants`` are columns given one value for every row (sent once, not once per row).
    Returns the number inserted; with ``returning=True`` the inserted rows' ids, with a
    tuple of field names those fields of each inserted row (in no particular order).
    One statement per call, in autocommit (alone it is atomic: no BEGIN/COMMIT round trips,
    unlike ``bulk_create``, which also cannot count what ``ignore_conflicts`` skipped). On
    PostgreSQL the rows travel as one array per column through ``unnest``, so the statement's
    text is the same for any number of rows.
    """
    back: tuple[str, ...] = ("pk",) if returning is True else tuple(returning or ())
    if not rows:
        return [] if back else 0
    connection = connections[router.db_for_write(model)]
    fields = [concrete_field(model, name) for name in columns]
    constants = constants or {}
    head, tail = _insert_sql(connection.alias, model, tuple(columns), tuple(constants), tuple(unique), back)
    fixed = [concrete_field(model, name).get_db_prep_save(v, connection) for name, v in constants.items()]
    arrays = _as_saved(connection, fields, [list(column) for column in zip(*rows, strict=True)])
    statements: list[tuple[str, list[Any]]] = []
    if connection.vendor == "postgresql":
        statements.append((head + tail, [*fixed, *arrays]))
    else:
        prepared = list(zip(*arrays, strict=True))
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for start in range(0, len(prepared), 500):  # well under SQLite's limit of bound variables
            chunk = prepared[start : start + 500]
            values = f"(VALUES {', '.join([row_sql] * len(chunk))})"
            statements.append((head + values + tail, [*fixed, *(v for row in chunk for v in row)]))
    inserted = 0
    written: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if back:
                written.extend(cursor.fetchall())
            else:
                inserted += cursor.rowcount
    if returning is True:
        return [row[0] for row in written]
    return [tuple(row) for row in written] if back else inserted


_PLAIN_TYPES = frozenset({int, str, bool, type(None)})


def _is_plain(value: Any) -> bool:
    """A value PostgreSQL takes as psycopg sends it, needing nothing from the field."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return True
    if kind is dt.datetime:
        return value.tzinfo is not None
    # A TextChoices member: psycopg sends it as the str it is (str comes before Enum in its MRO).
    return isinstance(value, str)


@functools.cache
def _insert_sql(
    alias: str,
    model: type[Model],
    columns: tuple[str, ...],
    constants: tuple[str, ...],
    unique: tuple[str, ...],
    back: tuple[str, ...],
) -> tuple[str, str]:
    """(head, tail) of ``insert_new``'s statement: the rows go between them (SQLite's VALUES lists).

    ``INSERT … SELECT`` from the rows and the constants: on PostgreSQL from ``unnest`` of one
    array per column, on SQLite from a VALUES list (its ``WHERE true`` tells SQLite's parser
    that ``ON CONFLICT`` belongs to the INSERT, not to a join).
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = [concrete_field(model, name) for name in columns]
    fixed = [concrete_field(model, name) for name in constants]
    table = quote(model._meta.db_table)
    names = ", ".join(quote(str(f.column)) for f in (*fields, *fixed))
    tail = ""
    if unique:
        conflict = ", ".join(quote(str(concrete_field(model, name).column)) for name in unique)
        tail += f" ON CONFLICT ({conflict}) DO NOTHING"
    if back:
        pk = model._meta.pk
        assert pk is not None
        returned = [pk if name == "pk" else concrete_field(model, name) for name in back]
        tail += " RETURNING " + ", ".join(quote(str(f.column)) for f in returned)
    if connection.vendor == "postgresql":
        # Typed, as a column of the SELECT list: a bare NULL parameter would be text.
        selected = "".join(f", CAST(%s AS {f.cast_db_type(connection)})" for f in fixed)
        source = f"unnest({_array_casts(connection, fields)})"
        return f"INSERT INTO {table} ({names}) SELECT *{selected} FROM {source}", tail  # noqa: S608 - names from the model
    selected = ", %s" * len(fixed)
    return f"INSERT INTO {table} ({names}) SELECT *{selected} FROM ", " WHERE true" + tail  # noqa: S608 - names from the model


def claim(queryset: QuerySet[Any], batch: int) -> list[Any]:
    """Lock up to ``batch`` rows of ``queryset`` that nobody else holds, for a periodic job.

    ``SELECT … FOR UPDATE SKIP LOCKED`` where the database has it (PostgreSQL): two sweeps
    at once take disjoint rows. SQLite serialises writers anyway. Call it in a transaction.
    """
    if connections[queryset.db].features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset[:batch])
