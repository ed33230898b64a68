"""API representations of cases, their timeline, categories and patrol logs, and the transitions' inputs.

Personal data: lists carry none; a case's detail shows the reporter through
``issues.privacy.reporter_for`` (in full to those handling the case, masked otherwise).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alleys.api.serializers import person_name
from alleys.choices import TIER_CHOICES, AreaLevel
from alleys.models import Area, Department
from core.api.base import VisiblePrimaryKeyField, VisibleSlugField
from dispatch.models import CategoryClass, CategoryType
from issues.choices import (
    CaseSource,
    CaseState,
    FeedbackSolved,
    PatrolKind,
    ReturnVisitChannel,
    Satisfaction,
    Urgency,
)

from ..deadline_state import case_due
from ..models import Case, CaseEvent, CasePhoto, DispatchOrder, Feedback, PatrolLog, ReturnVisit
from . import selectors
from .order_serializers import OrderSummarySerializer

# --- fast representations ------------------------------------------------------------------------
#
# The case list and detail are the API's busiest reads. DRF's generic ``to_representation`` builds
# (deep-copies) every declared field for every serializer instance and looks every label up through
# ``get_FOO_display``, which hashes the lazily translated choices on each call: measured on the case
# detail, 8 ms of CPU per request against 0.7 ms written by hand. These serializers therefore write
# their representation by hand, key for key in ``Meta.fields`` order; the declared fields still
# describe the API to drf-spectacular, and tests/api/test_representation.py checks that the output
# is byte for byte DRF's generic rendering.

# DRF's own field classes convert the values that need converting, so the formats are DRF's.
_DATETIME = serializers.DateTimeField(read_only=True)
_COORDINATE = serializers.DecimalField(max_digits=9, decimal_places=6, read_only=True)


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def _coordinate(value: Decimal | None) -> str | None:
    return None if value is None else _COORDINATE.to_representation(value)


def _labels(model: type[models.Model], field_name: str) -> dict[Any, Any]:
    """A model field's choices as ``value -> label`` (the labels stay lazy: translated when shown)."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.Field)
    return dict(field.flatchoices)


def _label(labels: dict[Any, Any], value: Any) -> str:
    """What ``get_FOO_display()`` answers, without rebuilding the choices on every call."""
    return str(labels.get(value, value))


def _ordered(values: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    # A KeyError here means a field was added to Meta.fields without its value below.
    return {name: values[name] for name in fields}


class StaffSource(models.TextChoices):
    """Sources a staff member or an integration may give a case (residents and Open311 have their own doors)."""

    PATROL = CaseSource.PATROL.value, CaseSource.PATROL.label
    VISIT = CaseSource.VISIT.value, CaseSource.VISIT.label
    GRID_WORKER = CaseSource.GRID_WORKER.value, CaseSource.GRID_WORKER.label
    HOTLINE = CaseSource.HOTLINE.value, CaseSource.HOTLINE.label
    API = CaseSource.API.value, CaseSource.API.label


class CategoryClassSerializer(serializers.ModelSerializer[CategoryClass]):
    """A difficulty class (A/B/C/D) and the highest tier its cases climb to by themselves."""

    class Meta:
        model = CategoryClass
        fields = ("code", "name", "description", "top_tier")


class CategoryTypeSerializer(serializers.ModelSerializer[CategoryType]):
    """A type of matter with its defaults."""

    category_class: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    category_class_name = serializers.CharField(source="category_class.name", read_only=True)
    highest_tier = serializers.ChoiceField(
        choices=TIER_CHOICES, read_only=True, help_text="超期自动上报的最高层级（类型或分类的设置）"
    )

    class Meta:
        model = CategoryType
        fields = (
            "code",
            "name",
            "category_class",
            "category_class_name",
            "highest_tier",
            "top_tier",
            "alert_tier",
            "default_department_role",
            "service_kind",
            "accept_hours",
            "resolve_hours",
            "needs_contact",
            "fix_photo_required",
            "keywords",
            "is_active",
        )


class CaseListSerializer(serializers.ModelSerializer[Case]):
    """A case as listed: where it is, who holds it, its deadlines; no personal data."""

    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    category_name = serializers.CharField(source="category.name", read_only=True)
    category_class = serializers.CharField(source="category.category_class.code", read_only=True)
    alley: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    alley_name = serializers.CharField(source="alley.name", read_only=True)
    building: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="楼栋编码（18 位；街巷未设楼栋或未指定时为 null）",
    )
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    light = serializers.CharField(read_only=True)
    tier_label = serializers.CharField(source="get_tier_display", read_only=True)
    holder_area: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    holder = serializers.SerializerMethodField(help_text="当前责任单位的名称（派单后为牵头部门）")
    lead_department_name = serializers.CharField(
        source="lead_department.name", read_only=True, allow_null=True, default=None
    )
    current_due = serializers.DateTimeField(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    assignee: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="承办人（当前责任单位中由谁处理）的用户 id"
    )

    class Meta:
        model = Case
        fields: tuple[str, ...] = (
            "id",
            "tracking_code",
            "source",
            "category",
            "category_name",
            "category_class",
            "alley",
            "alley_name",
            "building",
            "description",
            "state",
            "state_label",
            "light",
            "tier",
            "tier_label",
            "holder_area",
            "holder",
            "lead_department",
            "lead_department_name",
            "urgency",
            "supervised",
            "chase_count",
            "reopen_count",
            "assignee",
            "accept_due",
            "resolve_due",
            "current_due",
            "overdue",
            "latitude",
            "longitude",
            "created_at",
            "updated_at",
            "accepted_at",
            "resolved_at",
            "closed_at",
        )
        read_only_fields = fields

    def get_holder(self, obj: Case) -> str:
        from dispatch.chain import unit_label

        if obj.lead_department_id and obj.lead_department is not None:
            return obj.lead_department.name
        return unit_label(obj.tier, obj.holder_area)

    def to_representation(self, instance: Case) -> dict[str, Any]:
        return _ordered(self.field_values(instance), self.Meta.fields)

    def field_values(self, case: Case) -> dict[str, Any]:
        """Every field of ``Meta.fields`` for ``case`` (see "fast representations" above)."""
        category = case.category
        lead = case.lead_department if case.lead_department_id else None
        return {
            "id": case.pk,
            "tracking_code": case.tracking_code,
            "source": case.source,
            "category": category.code,
            "category_name": category.name,
            "category_class": category.category_class.code,
            "alley": case.alley.code,
            "alley_name": case.alley.name,
            "building": case.building.code if case.building_id and case.building is not None else None,
            "description": case.description,
            "state": case.state,
            "state_label": _label(_CASE_STATE_LABELS, case.state),
            "light": str(case.light),
            "tier": case.tier,
            "tier_label": _label(_CASE_TIER_LABELS, case.tier),
            "holder_area": case.holder_area.code,
            "holder": self.get_holder(case),
            "lead_department": case.lead_department_id,
            "lead_department_name": lead.name if lead is not None else None,
            "urgency": case.urgency,
            "supervised": case.supervised,
            "chase_count": case.chase_count,
            "reopen_count": case.reopen_count,
            "assignee": case.assignee_id,
            "accept_due": _when(case.accept_due),
            "resolve_due": _when(case.resolve_due),
            "current_due": _when(case.current_due),
            "overdue": self.get_overdue(case),
            "latitude": _coordinate(case.latitude),
            "longitude": _coordinate(case.longitude),
            "created_at": _when(case.created_at),
            "updated_at": _when(case.updated_at),
            "accepted_at": _when(case.accepted_at),
            "resolved_at": _when(case.resolved_at),
            "closed_at": _when(case.closed_at),
        }

    def get_overdue(self, obj: Case) -> bool:
        due = case_due(obj, self.context.get("now") or timezone.now())
        return bool(due and due.is_overdue)


class ReporterSerializer(serializers.Serializer[Any]):
    """The reporter as the caller may see them: in full when handling the case, masked otherwise."""

    name = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()


class CaseEventSerializer(serializers.ModelSerializer[CaseEvent]):
    """One line of the timeline (staff see every line, with the acting person)."""

    # Declared because DRF drops allow_blank from read-only model fields (the schema must allow "").
    from_state = serializers.ChoiceField(choices=CaseState.choices, allow_blank=True, read_only=True)
    to_state = serializers.ChoiceField(choices=CaseState.choices, allow_blank=True, read_only=True)
    from_tier = serializers.ChoiceField(choices=TIER_CHOICES, allow_blank=True, read_only=True)
    to_tier = serializers.ChoiceField(choices=TIER_CHOICES, allow_blank=True, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    actor = serializers.SerializerMethodField(help_text="操作人姓名（系统操作为 null）")

    class Meta:
        model = CaseEvent
        fields = (
            "id",
            "at",
            "kind",
            "kind_label",
            "actor",
            "actor_label",
            "from_state",
            "to_state",
            "from_tier",
            "to_tier",
            "note",
            "public",
            "data",
        )
        read_only_fields = fields

    def get_actor(self, obj: CaseEvent) -> str | None:
        return person_name(obj.actor) if obj.actor_id else None

    def to_representation(self, instance: CaseEvent) -> dict[str, Any]:
        return event_representation(instance)


class CasePhotoSerializer(serializers.ModelSerializer[CasePhoto]):
    """A photo's facts (the image itself is served by the permission-checked photo view)."""

    class Meta:
        model = CasePhoto
        fields = ("id", "kind", "event", "is_public", "width", "height", "created_at")
        read_only_fields = fields

    def to_representation(self, instance: CasePhoto) -> dict[str, Any]:
        return photo_representation(instance)


class FeedbackSerializer(serializers.ModelSerializer[Feedback]):
    """The reporter's answer, or a return call, for one round."""

    class Meta:
        model = Feedback
        fields = ("round", "solved", "satisfaction", "comment", "channel", "created_at")
        read_only_fields = fields

    def to_representation(self, instance: Feedback) -> dict[str, Any]:
        return feedback_representation(instance)


class ReturnVisitSerializer(serializers.ModelSerializer[ReturnVisit]):
    """One return-visit attempt of the community (staff only: the resident's words are not public)."""

    solved = serializers.ChoiceField(
        choices=FeedbackSolved.choices,
        source="feedback.solved",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="联系上时反映人的回答，否则为 null",
    )
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices,
        source="feedback.satisfaction",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="联系上时反映人的回答，否则为 null",
    )
    recorded_by = serializers.SerializerMethodField(help_text="回访人姓名")

    class Meta:
        model = ReturnVisit
        fields = (
            "id",
            "round",
            "channel",
            "visited_at",
            "reached",
            "solved",
            "satisfaction",
            "words",
            "note",
            "recorded_by",
            "recorded_at",
        )
        read_only_fields = fields

    def get_recorded_by(self, obj: ReturnVisit) -> str:
        return person_name(obj.recorded_by)

    def to_representation(self, instance: ReturnVisit) -> dict[str, Any]:
        return return_visit_representation(instance)


_CASE_STATE_LABELS = _labels(Case, "state")
_CASE_TIER_LABELS = _labels(Case, "tier")
_EVENT_KIND_LABELS = _labels(CaseEvent, "kind")
_ORDER_ROLE_LABELS = _labels(DispatchOrder, "role")
_ORDER_STATE_LABELS = _labels(DispatchOrder, "state")


def event_representation(event: CaseEvent) -> dict[str, Any]:
    """One line of the timeline, as ``CaseEventSerializer`` declares it."""
    values = {
        "id": event.pk,
        "at": _when(event.at),
        "kind": event.kind,
        "kind_label": _label(_EVENT_KIND_LABELS, event.kind),
        "actor": person_name(event.actor) if event.actor_id else None,
        "actor_label": event.actor_label,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "from_tier": event.from_tier,
        "to_tier": event.to_tier,
        "note": event.note,
        "public": event.public,
        "data": event.data,
    }
    return _ordered(values, CaseEventSerializer.Meta.fields)


def photo_representation(photo: CasePhoto) -> dict[str, Any]:
    """A photo's facts, as ``CasePhotoSerializer`` declares them."""
    values = {
        "id": photo.pk,
        "kind": photo.kind,
        "event": photo.event_id,
        "is_public": photo.is_public,
        "width": photo.width,
        "height": photo.height,
        "created_at": _when(photo.created_at),
    }
    return _ordered(values, CasePhotoSerializer.Meta.fields)


def feedback_representation(feedback: Feedback) -> dict[str, Any]:
    """One round's feedback, as ``FeedbackSerializer`` declares it."""
    values = {
        "round": feedback.round,
        "solved": feedback.solved,
        "satisfaction": feedback.satisfaction,
        "comment": feedback.comment,
        "channel": feedback.channel,
        "created_at": _when(feedback.created_at),
    }
    return _ordered(values, FeedbackSerializer.Meta.fields)


def return_visit_representation(visit: ReturnVisit) -> dict[str, Any]:
    """One attempt, as ``ReturnVisitSerializer`` declares it."""
    feedback = visit.feedback if visit.feedback_id else None
    values = {
        "id": visit.pk,
        "round": visit.round,
        "channel": visit.channel,
        "visited_at": _when(visit.visited_at),
        "reached": visit.reached,
        "solved": feedback.solved if feedback is not None else None,
        "satisfaction": feedback.satisfaction if feedback is not None else None,
        "words": visit.words,
        "note": visit.note,
        "recorded_by": person_name(visit.recorded_by),
        "recorded_at": _when(visit.recorded_at),
    }
    return _ordered(values, ReturnVisitSerializer.Meta.fields)


def order_representation(order: DispatchOrder) -> dict[str, Any]:
    """An order on its case, as ``issues.api.order_serializers.OrderSummarySerializer`` declares it."""
    values = {
        "id": order.pk,
        "department": order.department_id,
        "department_name": order.department.name,
        "role": order.role,
        "role_label": _label(_ORDER_ROLE_LABELS, order.role),
        "state": order.state,
        "state_label": _label(_ORDER_STATE_LABELS, order.state),
        "dispatched_at": _when(order.dispatched_at),
        "report_due": _when(order.report_due),
        "reported_at": _when(order.reported_at),
        "attended_at": _when(order.attended_at),
        "complete_due": _when(order.complete_due),
        "completed_at": _when(order.completed_at),
        "deadline_provisional": order.deadline_provisional,
    }
    return _ordered(values, OrderSummarySerializer.Meta.fields)


def _rows(case: Case, attr: str, relation: str) -> list[Any]:
    """Rows loaded by ``selectors.load_case_detail``, else the relation (a case read another way)."""
    rows = getattr(case, attr, None)
    return list(getattr(case, relation).all()) if rows is None else rows


class CaseDetailSerializer(CaseListSerializer):
    """A case with its reporter (as the caller may see them), timeline, photos, orders and next actions."""

    reporter = serializers.SerializerMethodField()
    resolved_tier = serializers.ChoiceField(choices=TIER_CHOICES, allow_blank=True, read_only=True)
    merged_into_code = serializers.CharField(
        source="merged_into.tracking_code", read_only=True, allow_null=True, default=None
    )
    timeline = CaseEventSerializer(source="events", many=True, read_only=True)
    photos = CasePhotoSerializer(many=True, read_only=True)
    orders = OrderSummarySerializer(many=True, read_only=True)
    feedbacks = FeedbackSerializer(many=True, read_only=True)
    return_visits = ReturnVisitSerializer(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField(help_text="调用者现在可以执行的操作（按钮）")

    class Meta(CaseListSerializer.Meta):
        fields = (
            *CaseListSerializer.Meta.fields,
            "reporter",
            "consent_at",
            "escalation_due",
            "deadline_provisional",
            "rejection_reason",
            "merged_into",
            "merged_into_code",
            "resolved_tier",
            "feedback_round",
            "verified_at",
            "patrol",
            "tier_entered_at",
            "timeline",
            "photos",
            "orders",
            "feedbacks",
            "return_visits",
            "allowed_actions",
        )
        read_only_fields = fields

    @extend_schema_field(ReporterSerializer)
    def get_reporter(self, obj: Case) -> dict[str, str]:
        from issues.privacy import reporter_for

        request = self.context.get("request")
        return reporter_for(getattr(request, "user", None), obj)

    def get_allowed_actions(self, obj: Case) -> list[str]:
        from issues.workflow import API, allowed_transitions

        request = self.context.get("request")
        return [t.name for t in allowed_transitions(obj, getattr(request, "user", None)) if API in t.via]

    def field_values(self, case: Case) -> dict[str, Any]:
        values = super().field_values(case)
        merged = case.merged_into if case.merged_into_id else None
        values.update(
            {
                "reporter": self.get_reporter(case),
                "consent_at": _when(case.consent_at),
                "escalation_due": _when(case.escalation_due),
                "deadline_provisional": case.deadline_provisional,
                "rejection_reason": case.rejection_reason,
                "merged_into": case.merged_into_id,
                "merged_into_code": merged.tracking_code if merged is not None else None,
                "resolved_tier": case.resolved_tier,
                "feedback_round": case.feedback_round,
                "verified_at": _when(case.verified_at),
                "patrol": case.patrol_id,
                "tier_entered_at": _when(case.tier_entered_at),
                "timeline": [event_representation(e) for e in _rows(case, selectors.TIMELINE, "events")],
                # A photo is shown once processed (issues.photos): no unprocessed upload leaves the site.
                "photos": [
                    photo_representation(p) for p in _rows(case, selectors.PHOTOS, "photos") if p.is_processed
                ],
                "orders": [order_representation(o) for o in _rows(case, selectors.ORDERS, "orders")],
                "feedbacks": [
                    feedback_representation(f) for f in _rows(case, selectors.FEEDBACKS, "feedbacks")
                ],
                "return_visits": [
                    return_visit_representation(v)
                    for v in _rows(case, selectors.RETURN_VISITS, "return_visits")
                ],
                "allowed_actions": self.get_allowed_actions(case),
            }
        )
        return values


class CaseCreateSerializer(serializers.Serializer[Any]):
    """A case entered by staff (patrol, visit, hotline) or an integration; it enters the state machine."""

    category = serializers.SlugRelatedField(
        slug_field="code", queryset=CategoryType.objects.filter(is_active=True), help_text="事项类型编码"
    )
    alley = VisibleSlugField(
        slug_field="code", queryset=Area.objects.filter(level=AreaLevel.ALLEY), help_text="街巷/网格编码"
    )
    description = serializers.CharField(max_length=4000)
    source = serializers.ChoiceField(choices=StaffSource.choices, default=StaffSource.HOTLINE)  # type: ignore[assignment]
    reporter_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    reporter_phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    address_detail = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    consent = serializers.BooleanField(default=False, help_text="反映人同意使用其联系方式")
    sms_opt_in = serializers.BooleanField(
        default=False, help_text="反映人要求短信通知办理进展（受理、上报、办结、关闭；仅手机号码）"
    )
    patrol = VisiblePrimaryKeyField(
        queryset=PatrolLog.objects.all(),
        required=False,
        allow_null=True,
        help_text="发现该问题的巡查/走访记录",
    )
    start_tier = serializers.ChoiceField(
        choices=TIER_CHOICES,
        required=False,
        allow_null=True,
        help_text="开始办理的层级：默认街巷服务团队；工作人员可在本人所在层级登记（不高于事项分类的最高办理层级）",
    )
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)


# --- inputs of the case transitions ---------------------------------------------------------------


class NoteInputSerializer(serializers.Serializer[Any]):
    """An optional note."""

    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class EmptyInputSerializer(serializers.Serializer[Any]):
    """Nothing to send (由我处理: the caller takes the case)."""


class AssignInputSerializer(serializers.Serializer[Any]):
    """指定承办人: a colleague of the holding unit, or null for nobody."""

    assignee = serializers.IntegerField(
        allow_null=True, min_value=1, max_value=2**63 - 1, help_text="同一责任单位人员的用户 id；null 为取消"
    )


class CaseNoteInputSerializer(serializers.Serializer[Any]):
    """An internal note (staff only; never public)."""

    text = serializers.CharField(max_length=2000)


class ProgressInputSerializer(serializers.Serializer[Any]):
    """A progress update the resident reads on the tracking page (phone numbers in it are masked there)."""

    note = serializers.CharField(max_length=2000)


class CaseNoteSerializer(serializers.Serializer[Any]):
    """An internal note as staff read it."""

    id = serializers.IntegerField()
    author = serializers.CharField(help_text="记录人")
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReasonInputSerializer(serializers.Serializer[Any]):
    """A reason (shown to the resident when the case is rejected)."""

    reason = serializers.CharField(max_length=5000)


class WhistleInputSerializer(serializers.Serializer[Any]):
    """吹哨: the reason; the street names the responsible departments and may set the urgency."""

    reason = serializers.CharField(max_length=5000)
    departments = serializers.ListField(
        child=VisiblePrimaryKeyField(queryset=Department.objects.filter(is_active=True)),
        required=False,
        default=list,
        max_length=20,
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, allow_null=True)


class DispatchInputSerializer(serializers.Serializer[Any]):
    """派单: one lead department and any cooperating departments."""

    lead = VisiblePrimaryKeyField(queryset=Department.objects.all())
    cooperating = serializers.ListField(
        child=VisiblePrimaryKeyField(queryset=Department.objects.all()),
        required=False,
        default=list,
        max_length=20,
    )
    instructions = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ConsultInputSerializer(serializers.Serializer[Any]):
    """派单前征求意见: the departments the organisation department means to dispatch to, and what it asks."""

    departments = serializers.ListField(
        child=VisiblePrimaryKeyField(queryset=Department.objects.all()), min_length=1, max_length=20
    )
    question = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ResolveInputSerializer(serializers.Serializer[Any]):
    """The result and photos of the fix (multipart for photos)."""

    note = serializers.CharField(max_length=5000)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)
    photos_public = serializers.BooleanField(default=False, help_text="确认照片不含个人信息后可公开")


class VerifyInputSerializer(serializers.Serializer[Any]):
    """The community's check of the fix (a reason when it fails)."""

    passed = serializers.BooleanField()
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class FeedbackInputSerializer(serializers.Serializer[Any]):
    """A return call (电话回访) recorded by staff."""

    solved = serializers.ChoiceField(choices=FeedbackSolved.choices)
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReturnVisitInputSerializer(serializers.Serializer[Any]):
    """One return-visit attempt: how, when, reached or not; when reached, the resident's answers and words."""

    channel = serializers.ChoiceField(choices=ReturnVisitChannel.choices)
    reached = serializers.BooleanField(help_text="是否联系上反映人")
    visited_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="回访时间，默认为现在；不早于核实，不晚于现在",
    )
    solved = serializers.ChoiceField(
        choices=FeedbackSolved.choices, required=False, allow_blank=True, default="", help_text="联系上时必填"
    )
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, required=False, allow_blank=True, default="", help_text="联系上时必填"
    )
    words = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="群众原话（不公开）"
    )
    note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="情况说明，如无人接听"
    )


class MergeInputSerializer(serializers.Serializer[Any]):
    """The case this one duplicates."""

    into = serializers.IntegerField(min_value=1, help_text="主案件的 id")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


# --- patrol logs -----------------------------------------------------------------------------------


class PatrolLogSerializer(serializers.ModelSerializer[PatrolLog]):
    """A chief's daily patrol or weekly visit of one alley (created by the chief, for their alley)."""

    chief = serializers.HiddenField(default=serializers.CurrentUserDefault())
    chief_id = serializers.IntegerField(read_only=True)
    chief_name = serializers.SerializerMethodField()
    alley = VisibleSlugField(slug_field="code", queryset=Area.objects.filter(level=AreaLevel.ALLEY))
    checked = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list, max_length=50
    )
    case_count = serializers.IntegerField(read_only=True, default=0, help_text="本次发现并登记的案件数")

    class Meta:
        model = PatrolLog
        fields = (
            "id",
            "kind",
            "chief",
            "chief_id",
            "chief_name",
            "alley",
            "date",
            "checked",
            "households_visited",
            "notes",
            "expense_yuan",
            "case_count",
            "created_at",
        )
        read_only_fields = ("id", "created_at")
        extra_kwargs = {"expense_yuan": {"min_value": Decimal(0)}}

    def get_chief_name(self, obj: PatrolLog) -> str:
        return person_name(obj.chief)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        attrs: dict[str, Any] = super().to_internal_value(data)
        day = attrs.get("date")
        if day is not None and day > timezone.localdate():
            raise serializers.ValidationError({"date": [_("不能登记未来日期的巡查或走访。")]})
        if attrs.get("kind") == PatrolKind.VISIT and day is not None:
            # Visits are weekly and recorded on their week's Monday, before the uniqueness check runs.
            attrs["date"] = day - dt.timedelta(days=day.weekday())
        return attrs
