"""What every API view shares: pagination, ordering, the schema generator, scoped fields.

Authentication and the default permission are the project's ``REST_FRAMEWORK`` settings (the token
schemes first, so an anonymous caller is told how to authenticate, then the session).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import serializers
from rest_framework.pagination import BasePagination, LimitOffsetPagination
from rest_framework.schemas.inspectors import ViewInspector

from .filters import StableOrderingFilter
from .schema import ApiAutoSchema


class ApiPagination(LimitOffsetPagination):
    """``?limit=&offset=``; 50 by default, at most 200 a page."""

    default_limit = 50
    max_limit = 200


class ApiViewMixin:
    """Shared declarations of the API's views; ``get_queryset`` in each view scopes with ``visible_to``."""

    pagination_class: type[BasePagination] | None = ApiPagination
    schema: ViewInspector | None = ApiAutoSchema()
    ordering: Sequence[str] = ("-id",)

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()  # type: ignore[misc]
        # One "now" per request, so every row of a page is judged overdue against the same moment.
        context.setdefault("now", timezone.now())
        return context


def filter_backends() -> list[Any]:
    from django_filters.rest_framework import DjangoFilterBackend

    return [DjangoFilterBackend, StableOrderingFilter]


class VisibleRelatedMixin:
    """A related field whose choices are the objects the requesting user may see."""

    def get_queryset(self) -> QuerySet[Any]:
        queryset: QuerySet[Any] = super().get_queryset()  # type: ignore[misc]
        request = self.context.get("request")  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        return queryset.visible_to(user)  # type: ignore[attr-defined]


class VisiblePrimaryKeyField(VisibleRelatedMixin, serializers.PrimaryKeyRelatedField):
    """A primary key among the objects the user may see (others do not exist for them)."""


class VisibleSlugField(VisibleRelatedMixin, serializers.SlugRelatedField):
    """A slug (a code) among the objects the user may see."""
