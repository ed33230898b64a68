"""The case detail as the API reads it: the case, its timeline, and only the relations it has.

The detail is the API's busiest read (integrations poll it), so it is read in as few
statements as the data allow: the case's own row, with whether it has any photos, orders
or feedback, in one statement; then the timeline, and the photos, orders and feedback only
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

from dispatch.models import DispatchOrder
from issues.models import Case, CaseEvent, CasePhoto, Feedback
from issues.reference import attach_reference_rows

# Attribute names the detail's rows are loaded into (read by CaseDetailSerializer).
TIMELINE = "timeline_rows"
PHOTOS = "photo_rows"
ORDERS = "order_rows"
FEEDBACKS = "feedback_rows"


def _has_rows(model: type[models.Model]) -> RawSQL:
    """Whether the case has a row in ``model``'s table (one whose ``case_id`` is the case's id).

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
    sql = f"EXISTS (SELECT 1 FROM {table} WHERE {table}.{column} = {case_id})"  # noqa: S608
    return RawSQL(sql, (), output_field=models.BooleanField())  # noqa: S611


def case_detail_queryset(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """``queryset`` (already scoped) with which of the case's relations are not empty."""
    return queryset.annotate(
        has_photos=_has_rows(CasePhoto),
        has_orders=_has_rows(DispatchOrder),
        has_feedbacks=_has_rows(Feedback),
    )


def load_case_detail(case: Case) -> Case:
    """Attach the reference rows, load the timeline and the non-empty relations of a case.

    One plain query per relation (for a single case Django's prefetch machinery costs more than
    the query); a relation flagged empty (``case_detail_queryset``) is not queried at all.
    """
    attach_reference_rows(case)
    setattr(
        case,
        TIMELINE,
        list(
            CaseEvent.objects.filter(case_id=case.pk)
            .select_related("actor__staff_profile")
            .order_by("at", "id")
        ),
    )
    relations: tuple[tuple[str, str, QuerySet[Any]], ...] = (
        ("has_photos", PHOTOS, CasePhoto.objects.order_by("created_at", "id")),
        (
            "has_orders",
            ORDERS,
            DispatchOrder.objects.select_related("department").order_by("dispatched_at", "id"),
        ),
        ("has_feedbacks", FEEDBACKS, Feedback.objects.order_by("-created_at")),
    )
    for flag, attr, queryset in relations:
        # Without the flag (a case read some other way) every relation is queried.
        rows = list(queryset.filter(case_id=case.pk)) if getattr(case, flag, True) else []
        setattr(case, attr, rows)
    return case
