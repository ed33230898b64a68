"""Read-only API of the supervision list (mounted under /api/v1/ by config.api_urls).

``supervision-commitments``: the commitments in the caller's territory. ``supervision-results/{code}/``:
one alley's results of a quarter (``?quarter=2026Q3``, default the last completed one), the same
figures as the alley page and the staff page, from ``participation.supervision.quarter_results``.
Writes go through the staff pages' services; the API offers none.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from alleys.choices import AreaLevel
from alleys.models import Area
from core.api.base import ApiViewMixin, filter_backends
from core.api.filters import AreaCodeFilterMixin

from . import supervision as sv
from .models import Commitment, CommitmentSource


class CommitmentSerializer(serializers.ModelSerializer[Commitment]):
    alley_code = serializers.CharField(source="alley.code", read_only=True)
    alley_name = serializers.CharField(source="alley.name", read_only=True)

    class Meta:
        model = Commitment
        fields = ("id", "alley_code", "alley_name", "text", "source", "position", "is_active", "retired_at")


class CommitmentFilter(AreaCodeFilterMixin, django_filters.FilterSet):
    alley = django_filters.CharFilter(field_name="alley__code", method="filter_under", label=_("区域编码"))
    source = django_filters.ChoiceFilter(choices=CommitmentSource.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Commitment
        fields = ("alley", "source", "is_active")


class CommitmentViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet[Commitment]):
    """An alley's public commitments (群众监督清单) inside the caller's territory."""

    serializer_class = CommitmentSerializer
    filterset_class = CommitmentFilter
    filter_backends = filter_backends()
    ordering_fields = ("id", "position")
    ordering = ("alley__code", "position", "id")

    def get_queryset(self) -> QuerySet[Commitment]:
        return sv.commitments_visible_to(self.request.user)


class CommitmentResultSerializer(serializers.Serializer[Any]):
    commitment_id = serializers.IntegerField()
    text = serializers.CharField()
    satisfied = serializers.IntegerField(source="counts.satisfied", default=0)
    basic = serializers.IntegerField(source="counts.basic", default=0)
    dissatisfied = serializers.IntegerField(source="counts.dissatisfied", default=0)
    n = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True, help_text=_("满意与基本满意的占比；样本不足时为空"))


class QuarterResultsSerializer(serializers.Serializer[Any]):
    alley_code = serializers.CharField()
    quarter = serializers.CharField(source="results.quarter.key")
    ballots = serializers.IntegerField(source="results.ballots")
    minimum = serializers.IntegerField(source="results.minimum")
    overall = serializers.FloatField(source="results.overall", allow_null=True)
    commitments = CommitmentResultSerializer(source="results.rows", many=True)


class SupervisionResultViewSet(ApiViewMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Area]):
    """One alley's quarterly results of the residents' ratings."""

    serializer_class = QuarterResultsSerializer
    lookup_field = "code"
    lookup_value_regex = "[0-9]{4,15}"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Area]:
        return Area.objects.visible_to(self.request.user).filter(level=AreaLevel.ALLEY)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "quarter",
                OpenApiTypes.STR,
                description=str(_("季度，如 2026Q3；默认上一个完整季度")),
                pattern=r"^\d{4}Q[1-4]$",
            )
        ]
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        alley = self.get_object()
        raw = request.query_params.get("quarter", "")
        quarter = sv.Quarter.parse(raw) if raw else sv.Quarter.at().previous
        if quarter is None:
            raise ValidationError({"quarter": [str(_("季度格式应为 2026Q3。"))]})
        results = sv.quarter_results(alley, quarter)
        return Response(self.get_serializer({"alley_code": alley.code, "results": results}).data)


router = SimpleRouter()
router.register("supervision-commitments", CommitmentViewSet, basename="supervision-commitment")
router.register("supervision-results", SupervisionResultViewSet, basename="supervision-result")
