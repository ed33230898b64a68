"""API of notices and deliberation topics: reads scoped by ``visible_to`` (out of scope is 404);
each action calls the service in ``participation/notices.py`` or ``deliberation.py``, which decides
who may act (403) and when (409)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alleys.people import signed_in
from core.api.base import ApiViewMixin, filter_backends

from .. import deliberation, notices
from ..models import Notice, Topic, TopicVote
from .serializers import (
    EmptySerializer,
    NoticeCreateSerializer,
    NoticeSerializer,
    OutcomeSerializer,
    TopicCreateSerializer,
    TopicSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="通知公告列表（本辖区）", tags=["participation"]),
    retrieve=extend_schema(summary="通知公告详情", tags=["participation"]),
    create=extend_schema(
        summary="拟写通知（草稿）",
        tags=["participation"],
        request=NoticeCreateSerializer,
        responses={201: NoticeSerializer},
    ),
)
class NoticeViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Notice]):
    """Notices of the areas in the caller's territory (drafts, published and withdrawn)."""

    serializer_class = NoticeSerializer
    filter_backends = filter_backends()
    filterset_fields = ("state",)
    ordering_fields = ("id", "published_at")
    ordering = ("-id",)

    def get_queryset(self) -> QuerySet[Notice]:
        return Notice.objects.visible_to(self.request.user).select_related("area")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = NoticeCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        notice = notices.notice_create(user=signed_in(request.user), **data.validated_data)
        return Response(NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="发布通知（短信通知订阅居民）",
        request=EmptySerializer,
        responses={200: NoticeSerializer},
        tags=["participation"],
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        notice = notices.notice_publish(notice=self.get_object(), user=signed_in(request.user))
        return Response(NoticeSerializer(notice).data)

    @extend_schema(
        summary="撤回通知", request=EmptySerializer, responses={200: NoticeSerializer}, tags=["participation"]
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        notice = notices.notice_withdraw(notice=self.get_object(), user=signed_in(request.user))
        return Response(NoticeSerializer(notice).data)


@extend_schema_view(
    list=extend_schema(summary="议事议题列表（本辖区）", tags=["participation"]),
    retrieve=extend_schema(summary="议事议题详情（选项、票数、结果）", tags=["participation"]),
    create=extend_schema(
        summary="发起议题（草稿）",
        tags=["participation"],
        request=TopicCreateSerializer,
        responses={201: TopicSerializer},
    ),
)
class TopicViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Topic]):
    """Deliberation topics of the areas in the caller's territory."""

    serializer_class = TopicSerializer
    filter_backends = filter_backends()
    filterset_fields = ("state",)
    ordering_fields = ("id", "closes_at")
    ordering = ("-id",)

    def get_queryset(self) -> QuerySet[Topic]:
        return Topic.objects.visible_to(self.request.user).select_related("area").prefetch_related("options")

    def get_serializer(self, *args: Any, **kwargs: Any) -> serializers.BaseSerializer[Any]:
        if args and self.action in ("list", "retrieve"):
            rows = args[0] if isinstance(args[0], list) else [args[0]]
            _attach_counts(rows)
        return super().get_serializer(*args, **kwargs)

    def _answer(self, topic: Topic, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=topic.pk)
        _attach_counts([fresh])
        return Response(TopicSerializer(fresh).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = TopicCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        topic = deliberation.topic_create(user=signed_in(request.user), **data.validated_data)
        return self._answer(topic, status.HTTP_201_CREATED)

    @extend_schema(
        summary="开始投票", request=EmptySerializer, responses={200: TopicSerializer}, tags=["participation"]
    )
    @action(detail=True, methods=["post"], url_path="open")
    def open_votes(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(deliberation.topic_open(topic=self.get_object(), user=signed_in(request.user)))

    @extend_schema(
        summary="截止投票", request=EmptySerializer, responses={200: TopicSerializer}, tags=["participation"]
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(deliberation.topic_close(topic=self.get_object(), user=signed_in(request.user)))

    @extend_schema(
        summary="公布议事结果（截止后）",
        request=OutcomeSerializer,
        responses={200: TopicSerializer},
        tags=["participation"],
    )
    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, pk: str | None = None) -> Response:
        data = OutcomeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        topic = deliberation.topic_record_outcome(
            topic=self.get_object(), user=signed_in(request.user), outcome=data.validated_data["outcome"]
        )
        return self._answer(topic)


def _attach_counts(topics: list[Topic]) -> None:
    """Votes per option for a page of topics, in one grouped query."""
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    ids = [t.pk for t in topics if isinstance(t, Topic)]
    for topic_id, option_id, n in (
        TopicVote.objects.filter(topic_id__in=ids)
        .values("topic_id", "option_id")
        .annotate(n=Count("pk"))
        .values_list("topic_id", "option_id", "n")
    ):
        counts[topic_id][option_id] = n
    for t in topics:
        if isinstance(t, Topic):
            t.vote_counts = counts[t.pk]  # type: ignore[attr-defined]
