"""Filters every API shares: stable ordering, area-code subtrees, ids."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request

MAX_ID = 2**63 - 1


# drf-spectacular would guess "number" (a NumberFilter) or nothing (a filter with a method): say what is accepted.
@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number from 1 to the largest bigint."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StableOrderingFilter(OrderingFilter):
    """``?ordering=`` that always ends on the primary key, so pages never repeat or skip a row."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering.append("-id")
        return ordering


class AreaCodeFilterMixin:
    """``?under=<code>``: the area and everything below it."""

    def filter_under(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(**{f"{name}__startswith": value.strip()}) if value.strip() else queryset
