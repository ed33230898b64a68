"""Rollups: the tables the dashboards read, refreshed every minute (and by ``refresh_rollups``).

Two layers:

* **facts** — one row per case (CaseFact) and per department order (OrderFact) holding
  that item's counters as ``evaluation.rates`` classifies it. A refresh recomputes the
  facts of the items that changed since the last refresh: cases with new timeline events
  (every state change writes one) or survey answers, orders with new evaluations, and
  items whose ``pending_until`` (the next deadline that changes the classification by
  itself) has passed. An unchanged fact costs nothing further.
* **aggregates** — per area (every level of the tree) and month / week, per area, month and
  category type, per department, role, month and community, per alley and month for the
  chiefs' activity: each key touched by a changed fact is summed again from the facts of
  that key (alley level) and then from its children (the levels above), so the work is
  proportional to what changed, never to the history.

Plus two snapshots recomputed in full every minute from the open cases and active orders
only (they depend on the clock: overdue, due today): OpenStat and DepartmentOpenStat.

Change logs are read by id. Ids are handed out before commit, so a long transaction may
commit ids below ones already read; each refresh therefore re-reads the last ``LAG`` of
ids (recomputing a fact is idempotent and cheap). ``refresh_rollups --full`` rebuilds
everything from the source tables (also scheduled nightly) and reconciles anything else.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, JSONField, Max, Min, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from alleys.choices import CODE_LENGTH, LEVEL_ORDER, AreaLevel
from issues.choices import ACTIVE_ORDER_STATES, OPEN_STATES, PatrolKind
from issues.deadline_state import (
    governing_due,
    near_q,
    order_complete_overdue_q,
    order_report_overdue_q,
    overdue_q,
)

from .models import (
    AlleyMonthActivity,
    AreaMonthCategoryStat,
    AreaMonthStat,
    AreaWeekStat,
    CaseFact,
    DepartmentMonthStat,
    DepartmentOpenStat,
    OpenStat,
    OrderFact,
    RollupState,
)
from .rates import (
    CASE_COUNTERS,
    ORDER_COUNTERS,
    WorkClock,
    classify_case,
    classify_order,
    load_case_rows,
    load_order_inputs,
)

CHUNK = 2000
LAG = dt.timedelta(minutes=10)
LEVELS_ABOVE_ALLEY: tuple[str, ...] = tuple(level for level in LEVEL_ORDER if level != AreaLevel.ALLEY)
CATEGORY_LEVELS: tuple[str, ...] = (AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)
COMMUNITY_LEN = CODE_LENGTH[AreaLevel.COMMUNITY]


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def level_of(code: str) -> str:
    return next(level for level, length in CODE_LENGTH.items() if length == len(code))


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert plain rows fast: COPY on PostgreSQL (the full rebuild writes millions), the ORM elsewhere.

    Values are the Python values psycopg adapts itself (dates, aware datetimes, numbers,
    strings); JSON fields are serialised here.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=CHUNK)
        return
    fields = [f for f in model._meta.concrete_fields if f.attname in rows[0] or f.name in rows[0]]
    names = [f.attname if f.attname in rows[0] else f.name for f in fields]
    json_at = [i for i, f in enumerate(fields) if isinstance(f, JSONField)]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = [row[name] for name in names]
            for i in json_at:
                values[i] = json.dumps(values[i], ensure_ascii=False)
            copy.write_row(values)


@dataclass
class RefreshResult:
    """What one refresh did."""

    skipped: bool = False
    full: bool = False
    cases_checked: int = 0
    cases_changed: int = 0
    orders_changed: int = 0
    keys: int = 0
    duration_ms: int = 0
    refreshed_at: dt.datetime | None = None


@dataclass
class Dirty:
    """Aggregate keys a refresh must sum again."""

    months: dict[dt.date, set[str]] = field(default_factory=lambda: defaultdict(set))  # month → alley codes
    weeks: dict[dt.date, set[str]] = field(default_factory=lambda: defaultdict(set))  # week → alley codes
    categories: dict[dt.date, set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )  # month → communities
    departments: set[tuple[int, dt.date]] = field(default_factory=set)  # (department, month)
    activity: dict[dt.date, set[int]] = field(default_factory=lambda: defaultdict(set))  # month → alley ids

    def case_key(self, alley_code: str, month: dt.date, week: dt.date) -> None:
        self.months[month].add(alley_code)
        self.weeks[week].add(alley_code)
        self.categories[month].add(alley_code[:COMMUNITY_LEN])

    @property
    def size(self) -> int:
        return (
            sum(map(len, self.months.values()))
            + sum(map(len, self.weeks.values()))
            + len(self.departments)
            + sum(map(len, self.activity.values()))
        )


# --- entry point --------------------------------------------------------------------------------------


def refresh_rollups(*, now: dt.datetime | None = None, full: bool = False) -> RefreshResult:
    """Bring every rollup up to date; skipped (not queued) if another refresh is running."""
    now = now or timezone.now()
    started = time.monotonic()
    RollupState.objects.get_or_create(key="main")
    with transaction.atomic():
        # One refresh at a time: a second worker finds the row locked and leaves.
        state = RollupState.objects.select_for_update(skip_locked=True).filter(key="main").first()
        if state is None:
            return RefreshResult(skipped=True)
        marks = _current_marks()
        clock = WorkClock.shared()
        if full or state.full_at is None:
            result = _full(now=now, clock=clock)
            state.full_at = now
            state.marks = [marks]
        else:
            result = _incremental(now=now, clock=clock, since=_low_mark(state.marks), upto=marks)
            state.marks = _keep_marks([*state.marks, marks])
        _snapshot_open(now)
        _snapshot_department_open(now)
        result.duration_ms = int((time.monotonic() - started) * 1000)
        result.refreshed_at = now
        state.refreshed_at = now
        state.last_changed = result.cases_changed
        state.last_duration_ms = result.duration_ms
        state.save()
    return result


def _current_marks() -> dict[str, Any]:
    from issues.models import CaseEvent, DispatchOrder, PatrolLog

    from .models import DepartmentEvaluation, SurveyAnswer

    def top(model: Any) -> int:
        return int(model.objects.aggregate(m=Max("pk"))["m"] or 0)

    return {
        # Marks are about commit visibility in real time, so they use the wall clock, not ``now``.
        "at": timezone.now().isoformat(),
        "event": top(CaseEvent),
        "answer": top(SurveyAnswer),
        "evaluation": top(DepartmentEvaluation),
        "patrol": top(PatrolLog),
        "order": top(DispatchOrder),
    }


def _low_mark(marks: list[dict[str, Any]]) -> dict[str, Any]:
    """The newest mark at least LAG old (or the oldest kept): read everything after it again."""
    if not marks:
        return {"event": 0, "answer": 0, "evaluation": 0, "patrol": 0, "order": 0}
    cutoff = timezone.now() - LAG
    old = [m for m in marks if dt.datetime.fromisoformat(m["at"]) <= cutoff]
    return old[-1] if old else marks[0]


def _keep_marks(marks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cutoff = timezone.now() - LAG
    old = [m for m in marks if dt.datetime.fromisoformat(m["at"]) <= cutoff]
    recent = [m for m in marks if dt.datetime.fromisoformat(m["at"]) > cutoff]
    return [*old[-1:], *recent]


# --- incremental and full --------------------------------------------------------------------------------


def _incremental(
    *, now: dt.datetime, clock: WorkClock, since: dict[str, Any], upto: dict[str, Any]
) -> RefreshResult:
    from issues.models import CaseEvent, DispatchOrder, PatrolLog

    from .models import DepartmentEvaluation, SurveyAnswer

    case_ids: set[int] = set(
        CaseEvent.objects.filter(pk__gt=since["event"], pk__lte=upto["event"]).values_list(
            "case_id", flat=True
        )
    )
    case_ids |= set(
        SurveyAnswer.objects.filter(pk__gt=since["answer"], pk__lte=upto["answer"]).values_list(
            "survey__case_id", flat=True
        )
    )
    case_ids |= set(CaseFact.objects.filter(pending_until__lte=now).values_list("case_id", flat=True))
    dirty = Dirty()
    changed = _update_case_facts(sorted(case_ids), now=now, clock=clock, dirty=dirty)

    order_ids: set[int] = set(
        DepartmentEvaluation.objects.filter(
            pk__gt=since["evaluation"], pk__lte=upto["evaluation"]
        ).values_list("order_id", flat=True)
    )
    order_ids |= set(DispatchOrder.objects.filter(pk__gt=since["order"]).values_list("pk", flat=True))
    order_ids |= set(OrderFact.objects.filter(pending_until__lte=now).values_list("order_id", flat=True))
    for batch in chunks(sorted(case_ids)):
        order_ids |= set(DispatchOrder.objects.filter(case_id__in=batch).values_list("pk", flat=True))
        order_ids |= set(
            DispatchOrder.objects.filter(common_issue__cases__in=batch).values_list("pk", flat=True)
        )
    orders_changed = _update_order_facts(sorted(order_ids), now=now, clock=clock, dirty=dirty)

    for alley_id, day in PatrolLog.objects.filter(pk__gt=since["patrol"], pk__lte=upto["patrol"]).values_list(
        "alley_id", "date"
    ):
        dirty.activity[month_of(day)].add(alley_id)

    _sum_areas(dirty)
    _sum_departments(dirty.departments)
    _sum_activity(dirty.activity)
    return RefreshResult(
        cases_checked=len(case_ids), cases_changed=changed, orders_changed=orders_changed, keys=dirty.size
    )


def _full(*, now: dt.datetime, clock: WorkClock) -> RefreshResult:
    from issues.models import DispatchOrder, PatrolLog

    for model in (
        CaseFact,
        OrderFact,
        AreaMonthStat,
        AreaWeekStat,
        AreaMonthCategoryStat,
        DepartmentMonthStat,
        AlleyMonthActivity,
    ):
        model.objects.all().delete()
    dirty = Dirty()
    changed = _rebuild_case_facts(now=now, clock=clock, dirty=dirty)
    order_ids = DispatchOrder.objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=CHUNK)
    orders = 0
    for batch in chunks(order_ids):
        orders += _update_order_facts(batch, now=now, clock=clock, dirty=dirty, fresh=True)
    for alley_id, day in PatrolLog.objects.values_list("alley_id", "date").distinct():
        dirty.activity[month_of(day)].add(alley_id)
    _sum_areas(dirty)
    _sum_departments(dirty.departments, everything=True)
    _sum_activity(dirty.activity)
    return RefreshResult(
        full=True, cases_checked=changed, cases_changed=changed, orders_changed=orders, keys=dirty.size
    )


# --- facts ------------------------------------------------------------------------------------------------

FACT_FIELDS: tuple[str, ...] = (
    "alley_code",
    "category_id",
    "class_code",
    "month",
    "week",
    "day",
    "tenths",
    "pending_until",
    *CASE_COUNTERS,
)


CASE_META: tuple[str, ...] = ("alley__code", "category_id", "category__category_class__code")


def _update_case_facts(case_ids: list[int], *, now: dt.datetime, clock: WorkClock, dirty: Dirty) -> int:
    """Recompute the facts of these cases; mark the keys of the ones that changed. Returns the count."""
    changed = 0
    for batch in chunks(case_ids):
        inputs, meta = load_case_rows(case_ids=batch, extra=CASE_META)
        old: dict[int, Mapping[str, Any]] = {
            f["case_id"]: f for f in CaseFact.objects.filter(case_id__in=batch).values()
        }
        changed += _write_case_facts(batch, inputs, meta, old, now=now, clock=clock, dirty=dirty)
    return changed


def _rebuild_case_facts(*, now: dt.datetime, clock: WorkClock, dirty: Dirty) -> int:
    """Every case's fact, walking the table in id ranges (the facts table was emptied)."""
    from issues.models import Case

    bounds = Case.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return 0
    changed = 0
    for lo in range(bounds["lo"], bounds["hi"] + 1, CHUNK):
        inputs, meta = load_case_rows(id_range=(lo, lo + CHUNK), extra=CASE_META)
        changed += _write_case_facts(sorted(inputs), inputs, meta, {}, now=now, clock=clock, dirty=dirty)
    return changed


def _write_case_facts(
    batch: list[int],
    inputs: dict[int, Any],
    meta: dict[int, dict[str, Any]],
    old: dict[int, Mapping[str, Any]],
    *,
    now: dt.datetime,
    clock: WorkClock,
    dirty: Dirty,
) -> int:
    changed = 0
    new: list[dict[str, Any]] = []
    gone: list[int] = []
    for case_id in batch:
        previous = old.get(case_id)
        if case_id not in inputs:  # deleted since
            if previous is not None:
                gone.append(case_id)
                dirty.case_key(previous["alley_code"], previous["month"], previous["week"])
                changed += 1
            continue
        m = meta[case_id]
        day = local_date(m["created_at"])
        cls = classify_case(inputs[case_id], now=now, clock=clock)
        values: dict[str, Any] = {
            "alley_code": m["alley__code"],
            "category_id": m["category_id"],
            "class_code": m["category__category_class__code"],
            "month": month_of(day),
            "week": week_of(day),
            "day": day,
            "tenths": cls.tenths,
            "pending_until": cls.pending_until,
            **cls.counts.as_dict(),
        }
        if previous is not None and all(previous[k] == values[k] for k in FACT_FIELDS):
            continue
        changed += 1
        if previous is not None:
            gone.append(case_id)
            dirty.case_key(previous["alley_code"], previous["month"], previous["week"])
        dirty.case_key(values["alley_code"], values["month"], values["week"])
        new.append({"case_id": case_id, **values})
    if gone:
        CaseFact.objects.filter(case_id__in=gone).delete()
    insert_rows(CaseFact, new)
    return changed


ORDER_FACT_FIELDS: tuple[str, ...] = (
    "department_id",
    "role",
    "month",
    "day",
    "area_code",
    "pending_until",
    *ORDER_COUNTERS,
)


def _update_order_facts(
    order_ids: list[int], *, now: dt.datetime, clock: WorkClock, dirty: Dirty, fresh: bool = False
) -> int:
    from issues.models import DispatchOrder

    changed = 0
    for batch in chunks(order_ids):
        inputs = load_order_inputs(batch, now=now, clock=clock)
        meta = {
            row["pk"]: row
            for row in DispatchOrder.objects.filter(pk__in=batch).values(
                "pk", "department_id", "role", "dispatched_at", "case__alley__code", "dispatcher_area__code"
            )
        }
        if any(m["case__alley__code"] is None for m in meta.values()):
            # A common issue's order: it counts for the community of its first case.
            first_case = {
                order_id: code
                for order_id, code in DispatchOrder.objects.filter(pk__in=batch, case__isnull=True)
                .annotate(code=Max("common_issue__cases__alley__code"))
                .values_list("pk", "code")
            }
        else:
            first_case = {}
        old: dict[int, Mapping[str, Any]] = (
            {} if fresh else {f["order_id"]: f for f in OrderFact.objects.filter(order_id__in=batch).values()}
        )
        new: list[dict[str, Any]] = []
        gone: list[int] = []
        for order_id in batch:
            previous = old.get(order_id)
            if order_id not in inputs:
                if previous is not None:
                    gone.append(order_id)
                    dirty.departments.add((previous["department_id"], previous["month"]))
                    changed += 1
                continue
            m = meta[order_id]
            alley_code = m["case__alley__code"] or first_case.get(order_id) or m["dispatcher_area__code"]
            cls = classify_order(inputs[order_id], now=now)
            values: dict[str, Any] = {
                "department_id": m["department_id"],
                "role": m["role"],
                "month": month_of(local_date(m["dispatched_at"])),
                "day": local_date(m["dispatched_at"]),
                "area_code": alley_code[:COMMUNITY_LEN],
                "pending_until": cls.pending_until,
                **{name: getattr(cls.counts, name) for name in ORDER_COUNTERS},
            }
            if previous is not None and all(previous[k] == values[k] for k in ORDER_FACT_FIELDS):
                continue
            changed += 1
            if previous is not None:
                gone.append(order_id)
                dirty.departments.add((previous["department_id"], previous["month"]))
            dirty.departments.add((values["department_id"], values["month"]))
            new.append({"order_id": order_id, **values})
        if gone:
            OrderFact.objects.filter(order_id__in=gone).delete()
        insert_rows(OrderFact, new)
    return changed


# --- aggregates -------------------------------------------------------------------------------------------

CASE_SUMS = {name: Sum(name) for name in CASE_COUNTERS}
ORDER_SUMS = {name: Sum(name) for name in ORDER_COUNTERS}


def _ancestors(code: str) -> list[str]:
    return [code[: CODE_LENGTH[level]] for level in LEVELS_ABOVE_ALLEY]


def _sum_areas(dirty: Dirty) -> None:
    for month, alleys in dirty.months.items():
        _sum_period(AreaMonthStat, "month", month, alleys, with_hist=True)
    for week, alleys in dirty.weeks.items():
        _sum_period(AreaWeekStat, "week", week, alleys, with_hist=False)
    for month, communities in dirty.categories.items():
        _sum_categories(month, communities)


def _counters(row: Mapping[str, Any]) -> list[Any]:
    return [row[name] or 0 for name in CASE_COUNTERS]


def _add_into(total: list[Any], values: list[Any]) -> None:
    for i, value in enumerate(values):
        total[i] += value


def _counter_dict(values: list[Any]) -> dict[str, Any]:
    return dict(zip(CASE_COUNTERS, values, strict=True))


def _sum_period(model: Any, key: str, when: dt.date, alleys: set[str], *, with_hist: bool) -> None:
    """Sum the facts of these alleys for one month/week, then every area above them."""
    facts = CaseFact.objects.filter(**{key: when, "alley_code__in": sorted(alleys)})
    rows = {r["alley_code"]: _counters(r) for r in facts.values("alley_code").annotate(**CASE_SUMS)}
    hists: dict[str, dict[str, int]] = defaultdict(dict)
    if with_hist:
        for code, tenths, n in (
            facts.filter(tenths__isnull=False).values("alley_code", "tenths").annotate(n=Count("pk"))
        ).values_list("alley_code", "tenths", "n"):
            hists[code][str(tenths)] = n
    model.objects.filter(**{"level": AreaLevel.ALLEY, key: when, "area_code__in": sorted(alleys)}).delete()
    insert_rows(
        model,
        [
            {
                "level": AreaLevel.ALLEY,
                "area_code": code,
                key: when,
                **_counter_dict(values),
                **({"hours_hist": hists.get(code, {})} if with_hist else {}),
            }
            for code, values in rows.items()
        ],
    )
    # The areas above: every alley row under the affected cities, summed per ancestor.
    cities = sorted({code[: CODE_LENGTH[AreaLevel.CITY]] for code in alleys})
    affected = {a for code in alleys for a in _ancestors(code)}
    children = model.objects.filter(**{"level": AreaLevel.ALLEY, key: when}).filter(
        _prefix_q("area_code", cities)
    )
    totals: dict[str, list[Any]] = {}
    merged: dict[str, Counter[str]] = defaultdict(Counter)
    fields = [*CASE_COUNTERS, "area_code", *(["hours_hist"] if with_hist else [])]
    for child in children.values(*fields):
        values = _counters(child)
        for ancestor in _ancestors(child["area_code"]):
            if ancestor in affected:
                _add_into(totals.setdefault(ancestor, [0] * len(CASE_COUNTERS)), values)
                if with_hist and child["hours_hist"]:
                    merged[ancestor].update(child["hours_hist"])
    model.objects.filter(**{key: when, "area_code__in": sorted(affected)}).delete()
    insert_rows(
        model,
        [
            {
                "level": level_of(code),
                "area_code": code,
                key: when,
                **_counter_dict(values),
                **({"hours_hist": dict(merged.get(code, {}))} if with_hist else {}),
            }
            for code, values in totals.items()
        ],
    )


def _prefix_q(field_name: str, prefixes: Iterable[str]) -> Q:
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(**{f"{field_name}__startswith": prefix})
    return q


def _sum_categories(month: dt.date, communities: set[str]) -> None:
    """Per category type: the communities' facts of one month, then the areas above them."""
    rows: list[Mapping[str, Any]] = list(
        CaseFact.objects.filter(month=month)
        .annotate(community=Substr("alley_code", 1, COMMUNITY_LEN))
        .filter(community__in=sorted(communities))
        .values("community", "category_id", "class_code")
        .annotate(**CASE_SUMS)
    )
    AreaMonthCategoryStat.objects.filter(
        level=AreaLevel.COMMUNITY, month=month, area_code__in=sorted(communities)
    ).delete()
    insert_rows(
        AreaMonthCategoryStat,
        [
            {
                "level": AreaLevel.COMMUNITY,
                "area_code": r["community"],
                "month": month,
                "category_id": r["category_id"],
                "class_code": r["class_code"],
                **_counter_dict(_counters(r)),
            }
            for r in rows
        ],
    )
    cities = sorted({code[: CODE_LENGTH[AreaLevel.CITY]] for code in communities})
    affected = {code[: CODE_LENGTH[level]] for code in communities for level in CATEGORY_LEVELS[:-1]}
    totals: dict[tuple[str, int, str], list[Any]] = {}
    for child in (
        AreaMonthCategoryStat.objects.filter(level=AreaLevel.COMMUNITY, month=month)
        .filter(_prefix_q("area_code", cities))
        .values("area_code", "category_id", "class_code", *CASE_COUNTERS)
    ):
        values = _counters(child)
        for level in CATEGORY_LEVELS[:-1]:
            ancestor = child["area_code"][: CODE_LENGTH[level]]
            if ancestor in affected:
                key = (ancestor, child["category_id"], child["class_code"])
                _add_into(totals.setdefault(key, [0] * len(CASE_COUNTERS)), values)
    AreaMonthCategoryStat.objects.filter(month=month, area_code__in=sorted(affected)).delete()
    insert_rows(
        AreaMonthCategoryStat,
        [
            {
                "level": level_of(code),
                "area_code": code,
                "month": month,
                "category_id": category_id,
                "class_code": class_code,
                **_counter_dict(values),
            }
            for (code, category_id, class_code), values in totals.items()
        ],
    )


def _sum_departments(keys: set[tuple[int, dt.date]], *, everything: bool = False) -> None:
    """Department rows of the touched (department, month) keys, or all of them in one query."""
    if everything:
        DepartmentMonthStat.objects.all().delete()
        batches: list[Any] = [OrderFact.objects.all()]
    else:
        batches = [OrderFact.objects.filter(department_id=d, month=m) for d, m in sorted(keys)]
        for d, m in sorted(keys):
            DepartmentMonthStat.objects.filter(department_id=d, month=m).delete()
    for facts in batches:
        rows: list[Mapping[str, Any]] = list(
            facts.values("department_id", "month", "role", "area_code").annotate(**ORDER_SUMS)
        )
        insert_rows(
            DepartmentMonthStat,
            [
                {
                    "department_id": r["department_id"],
                    "month": r["month"],
                    "role": r["role"],
                    "area_code": r["area_code"],
                    **{name: r[name] or 0 for name in ORDER_COUNTERS},
                }
                for r in rows
            ],
        )


def _sum_activity(keys: dict[dt.date, set[int]]) -> None:
    from alleys.models import Area
    from issues.models import PatrolLog

    for month, alley_ids in keys.items():
        end = (month + dt.timedelta(days=32)).replace(day=1)
        logs = PatrolLog.objects.filter(alley_id__in=sorted(alley_ids), date__gte=month, date__lt=end)
        patrols: dict[int, Mapping[str, Any]] = {
            r["alley_id"]: r
            for r in logs.filter(kind=PatrolKind.PATROL)
            .values("alley_id")
            .annotate(days=Count("date", distinct=True), n=Count("pk"))
        }
        visits: dict[int, Mapping[str, Any]] = {
            r["alley_id"]: r
            for r in logs.filter(kind=PatrolKind.VISIT)
            .values("alley_id")
            .annotate(weeks=Count("date", distinct=True), households=Sum("households_visited"))
        }
        codes = dict(Area.objects.filter(pk__in=sorted(alley_ids)).values_list("pk", "code"))
        AlleyMonthActivity.objects.filter(month=month, alley_code__in=sorted(codes.values())).delete()
        insert_rows(
            AlleyMonthActivity,
            [
                dict(
                    alley_code=codes[alley_id],
                    month=month,
                    patrol_days=patrols.get(alley_id, {}).get("days", 0),
                    patrol_logs=patrols.get(alley_id, {}).get("n", 0),
                    visit_weeks=visits.get(alley_id, {}).get("weeks", 0),
                    households_visited=visits.get(alley_id, {}).get("households") or 0,
                )
                for alley_id in sorted(alley_ids)
                if alley_id in codes and (alley_id in patrols or alley_id in visits)
            ],
        )


# --- snapshots (clock-dependent, recomputed from open items only) ---------------------------------------------


def due_today_q(now: dt.datetime) -> Q:
    """Not yet overdue, and the governing deadline (``issues.deadline_state``) falls today."""
    day = timezone.localtime(now).date()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())
    end = start + dt.timedelta(days=1)
    return Q(governing_due__gt=now, governing_due__gte=start, governing_due__lt=end)


def _snapshot_open(now: dt.datetime) -> None:
    from issues.models import Case

    rows = (
        Case.objects.filter(state__in=sorted(OPEN_STATES))
        .alias(governing_due=governing_due())
        .values("alley__code", "category__category_class__code", "state")
        .annotate(
            n=Count("pk"),
            overdue=Count("pk", filter=overdue_q(now)),
            due_today=Count("pk", filter=due_today_q(now)),
            near=Count("pk", filter=near_q(now)),
            supervised=Count("pk", filter=Q(supervised=True)),
        )
    )
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for r in rows:
        code = r["alley__code"]
        for area_code in [code, *_ancestors(code)]:
            t = totals[(area_code, r["category__category_class__code"], r["state"])]
            t[0] += r["n"]
            t[1] += r["overdue"]
            t[2] += r["due_today"]
            t[3] += r["supervised"]
            t[4] += r["near"]
    OpenStat.objects.all().delete()
    insert_rows(
        OpenStat,
        [
            dict(
                level=level_of(code),
                area_code=code,
                class_code=class_code,
                state=state,
                open=t[0],
                overdue=t[1],
                due_today=t[2],
                supervised=t[3],
                near=t[4],
            )
            for (code, class_code, state), t in totals.items()
        ],
    )


def _snapshot_department_open(now: dt.datetime) -> None:
    from issues.models import DispatchOrder

    rows = (
        DispatchOrder.objects.filter(state__in=sorted(ACTIVE_ORDER_STATES))
        .values("department_id", "role", "case__alley__code", "dispatcher_area__code")
        .annotate(
            n=Count("pk"),
            overdue_report=Count("pk", filter=order_report_overdue_q(now)),
            overdue_complete=Count("pk", filter=order_complete_overdue_q(now)),
        )
    )
    totals: Counter[tuple[int, str, str, str]] = Counter()
    for r in rows:
        code = (r["case__alley__code"] or r["dispatcher_area__code"])[:COMMUNITY_LEN]
        key = (r["department_id"], r["role"], code)
        totals[(*key, "active")] += r["n"]
        totals[(*key, "overdue_report")] += r["overdue_report"]
        totals[(*key, "overdue_complete")] += r["overdue_complete"]
    keys = sorted({k[:3] for k in totals})
    DepartmentOpenStat.objects.all().delete()
    insert_rows(
        DepartmentOpenStat,
        [
            dict(
                department_id=dept,
                role=role,
                area_code=code,
                active=totals[(dept, role, code, "active")],
                overdue_report=totals[(dept, role, code, "overdue_report")],
                overdue_complete=totals[(dept, role, code, "overdue_complete")],
            )
            for dept, role, code in keys
        ],
    )
