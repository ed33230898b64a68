"""Form fields the case's and the orders' staff forms share: several photos, departments by district."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from alleys.models import Area, Department
from alleys.people import Actor

from .workflow import may_receive_orders_from


class MultipleFileInput(forms.ClearableFileInput):
    """A file input that accepts several photos at once."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several uploaded files as a list (empty when none)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class DepartmentMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Departments labelled with their district or city."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.area.name}）"


class DepartmentChoiceField(forms.ModelChoiceField):
    """One department, labelled with its district or city."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.area.name}）"


def dispatchable_departments(user: Actor, area: Area) -> QuerySet[Department]:
    """Active departments the user sees that may take orders from the organisation department of ``area``.

    The rule itself is ``issues.workflow.may_receive_orders_from`` (its own district's departments,
    and the city-wide enterprises and public-service companies); this only applies it to the choices.
    """
    candidates = Department.objects.visible_to(user).filter(is_active=True).select_related("area")
    ids = [d.pk for d in candidates if may_receive_orders_from(d, area)]
    return Department.objects.filter(pk__in=ids).select_related("area").order_by("area__code", "name")


def departments_dispatchable_from(area: Area) -> QuerySet[Department]:
    """Every active department the organisation department of ``area`` may dispatch to, whoever asks.

    A department answering a consultation suggests another department of the same dispatch level,
    which it would not see through its own scope (a department sees only itself).
    """
    candidates = Department.objects.filter(is_active=True).select_related("area")
    ids = [d.pk for d in candidates if may_receive_orders_from(d, area)]
    return Department.objects.filter(pk__in=ids).select_related("area").order_by("area__code", "name")
