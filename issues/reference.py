"""Category types and a case's reference rows from the process's copy (see ``alleys.reference``).

Every hot path that shows a case (the residents' tracking page, the API's case detail,
Open311) and every intake (the form, Open311 POST) reads the same rarely-changing rows:
the category type with its class, the alley, the unit holding the case, the lead
department. They come from per-process copies that any save or delete drops everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from alleys import reference
from alleys.reference import FrozenRow
from dispatch.models import CategoryClass, CategoryType

from .models import Case

# Every category type with its class, in their order, frozen: read once per process.
_categories: reference.ReferenceCache[str, Mapping[int, FrozenRow[CategoryType]]] = reference.ReferenceCache(
    "categories"
)


def category_rows() -> Mapping[int, FrozenRow[CategoryType]]:
    """{id: frozen category type with its class} of every type (no query once read; the same
    read-only mapping until a type or class changes, so a caller may key its own memo on it)."""

    def load() -> Mapping[int, FrozenRow[CategoryType]]:
        rows = CategoryType.objects.select_related("category_class")
        return MappingProxyType({c.pk: FrozenRow.of(c, "category_class") for c in rows})

    return _categories.get("all", load) or MappingProxyType({})


def all_categories() -> dict[int, CategoryType]:
    """{id: category type} of every type, active or not, with its class: the caller's own instances."""
    return {pk: row.thaw() for pk, row in category_rows().items()}


def category_by_id(pk: int) -> CategoryType | None:
    """A category type (active or not) with its class, from the process's copy (the caller's own)."""
    row = category_rows().get(pk)
    return None if row is None else row.thaw()


def attach_reference_rows(case: Case) -> Case:
    """Give ``case`` its category, alley, holder and lead department from the process's copies.

    Each is built for this case from the process's frozen copies (no query). A row the copy
    does not know (or was not yet told about) loads from the database on first use.
    """
    category = category_by_id(case.category_id)
    if category is not None:
        case.category = category
    for name in ("alley", "holder_area"):
        area = reference.area_by_id(getattr(case, f"{name}_id"))
        if area is not None:
            setattr(case, name, area)
    if case.lead_department_id:
        department = reference.department_by_id(case.lead_department_id)
        if department is not None:
            case.lead_department = department
    return case


def clear() -> None:
    """Forget this process's categories (tests; the signals do it in production)."""
    _categories.clear()


def connect_signals() -> None:
    """Called from IssuesConfig.ready(): a saved or deleted category type or class is dropped."""
    from django.db.models.signals import post_delete, post_save

    for model in (CategoryType, CategoryClass):
        post_save.connect(_categories.changed, sender=model, dispatch_uid=f"refdata-{model.__name__}-save")
        post_delete.connect(_categories.changed, sender=model, dispatch_uid=f"refdata-{model.__name__}-del")
