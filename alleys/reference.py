"""Reference data kept per process: areas and departments by code or id, for the hot public paths.

The residents' form and tracking page used to read the alley, the areas above it and the
handling unit from the database on every request; these rows change a few times a year.
``ReferenceCache`` keeps what was read in the process and drops it when:

- a row of a watched model is saved or deleted in this process (at once, by signal);
- any process saved or deleted one (a stamp in the shared cache, bumped after commit and
  compared at most once per ``recheck`` seconds, so a change reaches every worker within
  about a second without a round trip per request);
- ``ttl`` seconds passed (ten minutes: a backstop for writes that send no signal, such
  as ``QuerySet.update`` or a database console; nothing in the project writes these
  tables that way, and every expiry costs each process a read of each row again).

Only rows that exist are kept: an unknown code is always asked of the database, so a new
area is found at once. What is kept is a ``FrozenRow``: the row's column values in a tuple
(and the rows joined to it), which no caller can change. Every read builds the caller its
own model instance from it (no query), so nothing a request sets on an area or a
department reaches another request or thread.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.db import models, router, transaction

from .choices import AreaLevel
from .models import AlleyProfile, Area, Department

logger = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")
M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True, slots=True)
class FrozenRow(Generic[M]):
    """An immutable copy of one row: its column values and the rows joined to it (None: no such row).

    What the process caches keep instead of model instances. ``thaw()`` gives the caller an
    instance of its own, with the joined rows attached as ``select_related`` would, no query.
    """

    model: type[M]
    db: str
    names: tuple[str, ...]  # the concrete fields' attnames, in the model's order
    values: tuple[Any, ...]  # plain column values (text, numbers, dates): immutable themselves
    joined: tuple[tuple[str, FrozenRow[Any] | None], ...] = ()

    @classmethod
    def of(cls, obj: M, *joined: str) -> FrozenRow[M]:
        """Freeze ``obj`` and the already-loaded relations ``joined`` (a missing one-to-one is kept as None)."""
        model = type(obj)
        names = tuple(f.attname for f in model._meta.concrete_fields)
        rows: list[tuple[str, FrozenRow[Any] | None]] = []
        for name in joined:
            try:
                related = getattr(obj, name)
            except ObjectDoesNotExist:
                related = None
            rows.append((name, None if related is None else FrozenRow.of(related)))
        return cls(
            model=model,
            db=router.db_for_read(model),
            names=names,
            values=tuple(getattr(obj, n) for n in names),
            joined=tuple(rows),
        )

    def get(self, name: str) -> Any:
        """One column's value by attname (``code``, ``parent_id``)."""
        return self.values[self.names.index(name)]

    def related(self, name: str) -> FrozenRow[Any] | None:
        """The joined row ``name`` (None when there is none)."""
        return dict(self.joined).get(name)

    def thaw(self, *, joined: bool = True) -> M:
        """A new instance of the row, the caller's own; with ``joined``, the joined rows that exist too."""
        obj = self.model.from_db(self.db, list(self.names), list(self.values))
        for name, row in self.joined if joined else ():
            if row is not None:
                setattr(obj, name, row.thaw())
        return obj


# --- every per-process cache of the project, in one list --------------------------------------------
# Each cache has its own invalidation rule in production (signals, a shared stamp, a TTL); the
# list is what lets a test start from nothing with one call, whoever adds a cache later.
_process_caches: list[Callable[[], None]] = []


def register_process_cache(clear: Callable[[], None]) -> Callable[[], None]:
    """Name a per-process cache's ``clear`` so that ``clear_process_caches`` reaches it; returns it."""
    if clear not in _process_caches:
        _process_caches.append(clear)
    return clear


def clear_process_caches() -> None:
    """Forget everything every per-process cache holds (tests; production invalidates each by its rule)."""
    for clear in list(_process_caches):
        clear()


class ReferenceCache(Generic[K, V]):
    """A per-process dictionary of rarely-changing rows, invalidated across processes (see above)."""

    def __init__(self, name: str, *, ttl: float = 600.0, recheck: float = 1.0) -> None:
        self.name = name
        self.ttl = ttl
        self.recheck = recheck
        self._lock = threading.Lock()
        self._data: dict[K, V] = {}
        self._stamp: Any = None
        self._loaded_at = 0.0
        self._checked_at = 0.0
        register_process_cache(self.clear)

    @property
    def _stamp_key(self) -> str:
        return f"refdata:{self.name}"

    def _shared_stamp(self) -> tuple[bool, Any]:
        """(read, stamp): the shared stamp, or (False, None) when the shared cache cannot answer."""
        try:
            return True, cache.get(self._stamp_key)
        except Exception:  # a broken cache must cost a database read, never an error page
            logger.warning("reference cache %s: the shared cache did not answer", self.name)
            return False, None

    def _fresh(self) -> None:
        """Drop the local copy if it may be stale (called with the lock held)."""
        now = time.monotonic()
        if self._data and now - self._loaded_at > self.ttl:
            self._data = {}
        if self._data and now - self._checked_at < self.recheck:
            return
        read, stamp = self._shared_stamp()
        # Unreadable: keep nothing and ask again next time (a database read per request, as before).
        self._checked_at = now if read else 0.0
        if not read or stamp != self._stamp:
            self._data = {}
        if not self._data:
            self._stamp = stamp
            self._loaded_at = now

    def get(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The cached value of ``key``, else ``load()`` (kept unless None)."""
        with self._lock:
            self._fresh()
            if key in self._data:
                return self._data[key]
        value = load()
        if value is not None:
            with self._lock:
                self._data[key] = value
        return value

    def get_many(self, keys: Iterable[K], load: Callable[[list[K]], dict[K, V]]) -> dict[K, V]:
        """The cached values of ``keys``; the missing ones come from one ``load(missing)``."""
        wanted = list(keys)
        with self._lock:
            self._fresh()
            found = {k: self._data[k] for k in wanted if k in self._data}
        missing = [k for k in wanted if k not in found]
        if missing:
            loaded = load(missing)
            with self._lock:
                self._data.update(loaded)
            found.update(loaded)
        return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value

    def clear(self) -> None:
        """Forget this process's copy (the next read asks the shared stamp again)."""
        with self._lock:
            self._data = {}
            self._checked_at = 0.0

    def changed(self, *_args: object, **_kwargs: object) -> None:
        """A watched row changed: forget it here now, and everywhere once the change is committed."""
        self.clear()

        def bump() -> None:
            self.clear()
            try:
                cache.set(self._stamp_key, secrets.token_hex(8), None)
            except Exception:  # other processes then see the change when their copy expires
                logger.warning("reference cache %s: could not tell other processes", self.name)

        transaction.on_commit(bump, robust=True)


# --- areas and departments ---------------------------------------------------------------------

# Areas keyed by "c:<code>" and "i:<id>", with the alley profile joined (None when it has none).
_areas: ReferenceCache[str, FrozenRow[Area]] = ReferenceCache("areas")
_departments: ReferenceCache[int, FrozenRow[Department]] = ReferenceCache("departments")
# The active buildings (楼栋) of each alley, keyed by the alley's id (an empty tuple: none, the usual case).
_buildings: ReferenceCache[int, tuple[FrozenRow[Area], ...]] = ReferenceCache("buildings")


def _remember(area: Area) -> FrozenRow[Area]:
    row = FrozenRow.of(area, "profile")
    _areas.put(f"c:{area.code}", row)
    _areas.put(f"i:{area.pk}", row)
    return row


def _load_areas(**lookup: str | int | list[str]) -> list[Area]:
    return list(Area.objects.select_related("profile").filter(**lookup))


def _area_row(key: str, **lookup: str | int) -> FrozenRow[Area] | None:
    def load() -> FrozenRow[Area] | None:
        rows = _load_areas(**lookup)
        return _remember(rows[0]) if rows else None

    return _areas.get(key, load)


def _thawed(row: FrozenRow[M] | None) -> M | None:
    # Without the profile: attaching it costs more than the area itself, and its readers
    # (the alley board) take it from the frozen copy through ``profile_of``.
    return None if row is None else row.thaw(joined=False)


def area_by_code(code: str) -> Area | None:
    """The area with this code, active or not (no query once read; its profile: ``profile_of``), or None."""
    return _thawed(_area_row(f"c:{code}", code=code))


def area_by_id(pk: int) -> Area | None:
    """The area with this id, active or not (no query once read), or None."""
    return _thawed(_area_row(f"i:{pk}", pk=pk))


def area_row_by_id(pk: int) -> FrozenRow[Area] | None:
    """The process's frozen copy of the area with this id (for a caller that only reads it)."""
    return _area_row(f"i:{pk}", pk=pk)


def profile_of(area: Area) -> AlleyProfile | None:
    """The alley profile of ``area`` from the process's copy (None when it has none; no query once read)."""
    row = area_row_by_id(area.pk)
    profile = None if row is None else row.related("profile")
    return None if profile is None else profile.thaw()


def _areas_by(kind: str, values: Iterable[Any]) -> dict[str, Area]:
    """{value as text: area} by code ("c") or id ("i"), one query for those not yet read."""
    lookup = "code__in" if kind == "c" else "pk__in"

    def load(missing: list[str]) -> dict[str, FrozenRow[Area]]:
        rows = _load_areas(**{lookup: [key[2:] for key in missing]})
        return {f"{kind}:{a.code if kind == 'c' else a.pk}": _remember(a) for a in rows}

    found = _areas.get_many([f"{kind}:{value}" for value in values], load)
    return {key[2:]: row.thaw(joined=False) for key, row in found.items()}


def areas_by_code(codes: Iterable[str]) -> dict[str, Area]:
    """{code: area} for the codes that exist (one query for those not yet read)."""
    return _areas_by("c", codes)


def areas_by_id(ids: Iterable[int]) -> dict[int, Area]:
    """{id: area} for the ids that exist (one query for those not yet read)."""
    return {int(pk): area for pk, area in _areas_by("i", ids).items()}


def chain_above(area: Area, *, include_self: bool = False) -> list[Area]:
    """The areas above ``area`` up to the city, top first, like ``Area.objects.chain_above``."""
    from .models import ancestor_codes

    codes = ancestor_codes(area.code)
    if include_self:
        codes.append(area.code)
    found = areas_by_code(codes)
    return [found[code] for code in sorted(found)]


def buildings_of(alley: Area) -> list[Area]:
    """The active buildings of ``alley`` by code (no query once read; none for most alleys)."""

    def load() -> tuple[FrozenRow[Area], ...]:
        rows = Area.objects.filter(parent_id=alley.pk, level=AreaLevel.BUILDING, is_active=True).order_by(
            "code"
        )
        return tuple(FrozenRow.of(area) for area in rows)

    rows = _buildings.get(alley.pk, load) or ()
    return [row.thaw(joined=False) for row in rows]


def department_by_id(pk: int) -> Department | None:
    """The department with this id (no query once read), or None."""

    def load() -> FrozenRow[Department] | None:
        department = Department.objects.filter(pk=pk).first()
        return None if department is None else FrozenRow.of(department)

    return _thawed(_departments.get(pk, load))


def clear() -> None:
    """Forget this process's areas and departments (tests; the signals do it in production)."""
    _areas.clear()
    _departments.clear()
    _buildings.clear()


def connect_signals() -> None:
    """Called from AlleysConfig.ready(): a saved or deleted area, profile or department is dropped."""
    from django.db.models.signals import post_delete, post_save

    for model, target, name in (
        (Area, _areas, "Area"),
        (AlleyProfile, _areas, "AlleyProfile"),
        (Department, _departments, "Department"),
        (Area, _buildings, "Area-buildings"),
    ):
        post_save.connect(target.changed, sender=model, dispatch_uid=f"refdata-{name}-save")
        post_delete.connect(target.changed, sender=model, dispatch_uid=f"refdata-{name}-del")
