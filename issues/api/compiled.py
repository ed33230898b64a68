"""Querysets of a fixed shape, compiled to SQL once per process and run with new values.

The API's hottest requests (a staff token, an integration's key, the case detail and its
timeline) each run the same few querysets with one changing value. Building and compiling
a queryset costs far more CPU than running it (for the case detail, ~1 ms per statement
against ~0.1 ms in PostgreSQL), so each shape is compiled once per process with a marker in
place of the value, and later runs put the value in the marker's place in the parameters.
The statement still goes through Django's cursor (query counts and logs see it) and rows become model instances the way Django's own
``ModelIterable`` makes them (converters, ``select_related`` rows, annotations).

Only SQL text and compiler metadata are kept, never rows: every run reads the database, so
nothing is ever stale. A shape that depends on more than the value (the caller's scope)
names it in ``key``; shapes are bounded per process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=Model)

# Stands for the value while compiling: an integer (the column may be an integer) far outside
# any id, and a text no caller sends (for text columns). Each must appear once in the params.
INT_MARKER = -7_340_117_771_932_606_003
TEXT_MARKER = "\x00jxt-compiled-marker\x00"

# Distinct shapes kept per process (each is a few kilobytes); past this the oldest is dropped.
MAX_SHAPES = 256


@dataclass(frozen=True)
class _Compiled:
    """One compiled shape: the statement, its parameters, where the value goes, how rows become objects."""

    database: str
    sql: str
    params: tuple[Any, ...]
    index: int
    compiler: SQLCompiler
    converters: Any
    # For model rows (None for values_list tuples): what ModelIterable computes before its loop.
    model: Any = None
    init_list: tuple[str, ...] = ()
    model_slice: tuple[int, int] = (0, 0)
    populators: tuple[Any, ...] = ()
    annotations: tuple[tuple[str, int], ...] = ()


class CompiledQuery(Generic[M]):
    """``build(marker)`` returns the queryset with ``marker`` where the value goes; ``run`` executes it.

    ``build`` must yield a plain queryset (models, or ``values_list`` tuples) without
    ``prefetch_related``; the marker must end up as exactly one parameter.
    """

    def __init__(self, build: Callable[[Any], QuerySet[Any, Any]], *, marker: Any = INT_MARKER) -> None:
        self._build = build
        self._marker = marker
        self._shapes: dict[Hashable, _Compiled | None] = {}
        self._lock = threading.Lock()

    def run(
        self,
        value: Any,
        *,
        key: Hashable = None,
        build: Callable[[Any], QuerySet[Any, Any]] | None = None,
    ) -> list[Any]:
        """The rows for ``value``: model instances, or tuples for a ``values_list`` shape.

        ``key`` names a shape that depends on more than ``value`` (e.g. the caller's scope);
        ``build`` then builds that shape (called only the first time the key is seen).
        """
        try:
            compiled = self._shapes[key]
        except KeyError:
            compiled = self._compile((build or self._build)(self._marker))
            with self._lock:
                if len(self._shapes) >= MAX_SHAPES:
                    self._shapes.pop(next(iter(self._shapes)), None)
                self._shapes[key] = compiled
        if compiled is None:
            return []
        params = list(compiled.params)
        params[compiled.index] = value
        with connections[compiled.database].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched: Any = cursor.fetchall()
        compiler = compiled.compiler
        if compiler.has_extra_select:
            fetched = [row[: compiler.col_count] for row in fetched]
        if compiled.converters:
            fetched = compiler.apply_converters(fetched, compiled.converters)
        if compiled.model is None:
            return [tuple(row) for row in fetched]
        return [self._instance(compiled, row) for row in fetched]

    @staticmethod
    def _instance(compiled: _Compiled, row: Any) -> Any:
        """One row as a model instance, as ``django.db.models.query.ModelIterable`` makes it."""
        start, end = compiled.model_slice
        obj = compiled.model.from_db(compiled.database, compiled.init_list, row[start:end])
        for populator in compiled.populators:
            populator.populate(row, obj)
        for attr_name, col_pos in compiled.annotations:
            setattr(obj, attr_name, row[col_pos])
        return obj

    def _compile(self, built: QuerySet[Any, Any]) -> _Compiled | None:
        if built._prefetch_related_lookups:  # type: ignore[attr-defined]
            raise ValueError("a compiled query cannot prefetch")
        if built._iterable_class not in (ModelIterable, ValuesListIterable):
            raise ValueError("a compiled query yields models or values_list tuples")
        query = built.query
        fields_asked = getattr(built, "_fields", None)
        if fields_asked and [*fields_asked] != [*query.extra_select, *query.values_select]:
            raise ValueError("a compiled values_list names plain fields only, in select order")
        database = built.db
        compiler = built.query.get_compiler(using=database)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None  # a shape that matches nothing (an empty scope): no statement at all
        marker = self._marker
        positions = [i for i, p in enumerate(params) if type(p) is type(marker) and p == marker]
        if len(positions) != 1:
            raise ValueError(f"the marker must be one parameter of the statement, found {len(positions)}")
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        common: dict[str, Any] = {
            "database": database,
            "sql": sql,
            "params": tuple(params),
            "index": positions[0],
            "compiler": compiler,
            "converters": compiler.get_converters(fields),
        }
        if built._iterable_class is ValuesListIterable:
            return _Compiled(**common)
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Compiled(
            **common,
            model=klass_info["model"],
            init_list=tuple(f[0].target.attname for f in select[start:end]),
            model_slice=(start, end),
            # django-stubs describe a later Django's signature (with fetch_mode).
            populators=tuple(get_related_populators(klass_info, select, database)),  # type: ignore[call-arg]
            annotations=tuple((compiler.annotation_col_map or {}).items()),
        )
