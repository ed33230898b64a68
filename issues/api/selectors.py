"""The case detail as the API reads it: the case, its timeline, and only the relations it has.

The detail is the API's busiest read (integrations poll it), so it is read in as few
statements as the data allow: the case's own row, with whether it has any photos, orders,
feedback or return visits, in one statement; then the timeline, and each of those only
when there are some. Its category (with class), alley, holder and lead department are
reference data, read from the process's copy (``alleys.reference``, as the residents'
tracking page does): joining them cost more to compile and to plan in PostgreSQL than to
run. The case it was merged into loads on first use (merged cases only).
"""

from __future__ import annotations

from typing import Any

from django.db import connection, models
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from alleys.people import Actor
from issues.choices import PhotoState
from issues.models import Case, CaseEvent, CasePhoto, Feedback, ReturnVisit
from issues.reference import attach_reference_rows

from ..models import DispatchOrder

# Attribute names the detail's rows are loaded into (read by CaseDetailSerializer).
TIMELINE = "timeline_rows"
PHOTOS = "photo_rows"
ORDERS = "order_rows"
FEEDBACKS = "feedback_rows"
RETURN_VISITS = "return_visit_rows"


def _has_rows(model: type[models.Model], **equal: Any) -> RawSQL:
    """Whether the case has a row in ``model``'s table (one whose ``case_id`` is the case's id and
    whose fields hold the values in ``equal``, passed as parameters).

    Written as SQL because Django builds and compiles an ``Exists(...)`` subquery like a whole
    query: three of them cost more CPU per request than the queries they save (measured ~3 ms).
    Only model metadata goes into the text, never input.
    """
    quote = connection.ops.quote_name
    foreign_key, pk = model._meta.get_field("case"), Case._meta.pk
    assert isinstance(foreign_key, models.ForeignKey) and foreign_key.column and pk and pk.column
    table = quote(model._meta.db_table)
    column = quote(foreign_key.column)
    case_id = f"{quote(Case._meta.db_table)}.{quote(pk.column)}"
    conditions = [f"{table}.{column} = {case_id}"]
    for name in equal:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field) and field.column
        conditions.append(f"{table}.{quote(field.column)} = %s")
    sql = f"EXISTS (SELECT 1 FROM {table} WHERE {' AND '.join(conditions)})"  # noqa: S608
    return RawSQL(sql, tuple(equal.values()), output_field=models.BooleanField())  # noqa: S611


def case_detail_queryset(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """``queryset`` (already scoped) with which of the case's relations are not empty."""
    return queryset.annotate(
        has_photos=_has_rows(CasePhoto, state=PhotoState.READY.value),  # as ``processed()`` below
        has_orders=_has_rows(DispatchOrder),
        has_feedbacks=_has_rows(Feedback),
        has_return_visits=_has_rows(ReturnVisit),
    )


# Ids are 64-bit; a larger number in the URL is no case (and must not reach the database).
_MAX_ID = 2**63 - 1


def visible_case(user: Actor, pk: Any) -> Case | None:
    """The case ``pk`` with its relation flags if ``user`` may see it (``visible_to``), else None."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        return None
    if not -_MAX_ID <= number <= _MAX_ID:
        return None
    # No ordering, as ``QuerySet.get`` reads one row.
    rows = list(case_detail_queryset(Case.objects.visible_to(user)).filter(pk=number).order_by())
    return rows[0] if rows else None


def _relations(pk: int) -> tuple[tuple[str, str, QuerySet[Any]], ...]:
    """(flag, attribute, queryset) of each relation the detail shows."""
    return (
        ("has_photos", PHOTOS, CasePhoto.objects.processed().filter(case_id=pk).order_by("created_at", "id")),
        (
            "has_orders",
            ORDERS,
            DispatchOrder.objects.filter(case_id=pk)
            .select_related("department")
            .order_by("dispatched_at", "id"),
        ),
        ("has_feedbacks", FEEDBACKS, Feedback.objects.filter(case_id=pk).order_by("-created_at")),
        (
            "has_return_visits",
            RETURN_VISITS,
            ReturnVisit.objects.filter(case_id=pk)
            .select_related("recorded_by__staff_profile", "feedback")
            .order_by("visited_at", "id"),
        ),
    )


def load_case_detail(case: Case) -> Case:
    """Attach the reference rows, load the timeline and the non-empty relations of a case.

    One plain query per relation (for a single case Django's prefetch machinery costs more than
    the query); a relation flagged empty (``case_detail_queryset``) is not queried at all.
    """
    attach_reference_rows(case)
    timeline = (
        CaseEvent.objects.filter(case_id=case.pk).select_related("actor__staff_profile").order_by("at", "id")
    )
    setattr(case, TIMELINE, list(timeline))
    for flag, attr, queryset in _relations(case.pk):
        # Without the flag (a case read some other way) every relation is queried.
        setattr(case, attr, list(queryset) if getattr(case, flag, True) else [])
    return case
