"""Serializers of the notices and deliberation API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from alleys.models import Area
from core.api.base import VisibleSlugField

from ..deliberation import MAX_OPTIONS, MIN_OPTIONS
from ..models import Notice, Topic, TopicOption


class NoticeSerializer(serializers.ModelSerializer[Notice]):
    """A notice as staff see it."""

    area: serializers.SlugRelatedField[Area] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)

    class Meta:
        model = Notice
        fields = (
            "id",
            "area",
            "area_name",
            "title",
            "body",
            "state",
            "send_sms",
            "created_at",
            "published_at",
            "expires_at",
            "withdrawn_at",
        )
        read_only_fields = fields


class NoticeCreateSerializer(serializers.Serializer[Any]):
    """A draft notice: the area by its code (an alley, community or street the caller publishes for)."""

    area = VisibleSlugField(slug_field="code", queryset=Area.objects.all())
    title = serializers.CharField(max_length=100)
    body = serializers.CharField(max_length=4000)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    send_sms = serializers.BooleanField(required=False, default=True)


class EmptySerializer(serializers.Serializer[Any]):
    """No input."""


class TopicOptionSerializer(serializers.ModelSerializer[TopicOption]):
    class Meta:
        model = TopicOption
        fields = ("id", "position", "label")
        read_only_fields = fields


class TopicSerializer(serializers.ModelSerializer[Topic]):
    """A topic with its options and the votes per option (staff see counts live)."""

    area: serializers.SlugRelatedField[Area] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)
    options = TopicOptionSerializer(many=True, read_only=True)
    votes = serializers.SerializerMethodField()

    class Meta:
        model = Topic
        fields = (
            "id",
            "area",
            "area_name",
            "title",
            "body",
            "state",
            "opens_at",
            "closes_at",
            "closed_at",
            "options",
            "votes",
            "outcome",
            "outcome_at",
        )
        read_only_fields = fields

    def get_votes(self, topic: Topic) -> dict[str, int]:
        counts: dict[int, int] = getattr(topic, "vote_counts", {})
        return {str(option.pk): counts.get(option.pk, 0) for option in topic.options.all()}


class TopicCreateSerializer(serializers.Serializer[Any]):
    """A draft topic of an alley or community, 2–6 options and a deadline."""

    area = VisibleSlugField(slug_field="code", queryset=Area.objects.all())
    title = serializers.CharField(max_length=100)
    body = serializers.CharField(max_length=4000)
    options = serializers.ListField(
        child=serializers.CharField(max_length=100), min_length=MIN_OPTIONS, max_length=MAX_OPTIONS
    )
    closes_at = serializers.DateTimeField()


class OutcomeSerializer(serializers.Serializer[Any]):
    outcome = serializers.CharField(max_length=4000)
