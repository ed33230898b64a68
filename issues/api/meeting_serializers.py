"""API representations of joint meetings, their agenda items and files, standing mechanisms, and their inputs."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alleys.choices import TIER_CHOICES
from alleys.models import Area, Department
from core.api.base import VisiblePrimaryKeyField
from dispatch.models import CategoryClass, CategoryType
from issues.choices import AgendaGround, AgendaState, Decision
from issues.models import (
    MEETING_LEVELS,
    AgendaItem,
    Case,
    CommonIssue,
    JointMeeting,
    MechanismReview,
    MeetingAttachment,
    StandingMechanism,
)
from issues.workflow.mechanisms import MechanismDraft


class AgendaItemSerializer(serializers.ModelSerializer[AgendaItem]):
    """One item of a meeting's agenda (a case or a common issue), why it is there, and its one decision."""

    case_tracking_code = serializers.CharField(source="case.tracking_code", read_only=True, allow_null=True)
    grounds = serializers.ListField(
        child=serializers.ChoiceField(choices=AgendaGround.choices),
        read_only=True,
        help_text="列入议程的理由：hard_class（C/D 类难点）、supervised（督办）、overdue（超期）、"
        "held_here（本级在办）、common_issue（共性问题）、added（工作人员添加）",
    )
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    decision = serializers.ChoiceField(choices=Decision.choices, allow_blank=True, read_only=True)
    decision_label = serializers.CharField(source="get_decision_display", read_only=True)
    departments: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="点名部门（吹哨上报的责任部门，或就地解决的配合部门）"
    )
    mechanism = serializers.SerializerMethodField(help_text="该决定形成的长效机制")

    class Meta:
        model = AgendaItem
        fields = (
            "id",
            "position",
            "case",
            "case_tracking_code",
            "common_issue",
            "grounds",
            "state",
            "state_label",
            "decision",
            "decision_label",
            "assignments",
            "departments",
            "note",
            "decided_at",
            "mechanism",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_mechanism(self, obj: AgendaItem) -> int | None:
        mechanism = getattr(obj, "mechanism", None) if obj.state == AgendaState.DECIDED else None
        return mechanism.pk if mechanism is not None else None


class MeetingAttachmentSerializer(serializers.ModelSerializer[MeetingAttachment]):
    """A file of the meeting; ``url`` downloads it (as the meeting's readers only)."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = MeetingAttachment
        fields = ("id", "name", "content_type", "size", "uploaded_at", "url")
        read_only_fields = fields

    def get_url(self, obj: MeetingAttachment) -> str:
        return reverse("v1:meeting-attachment", kwargs={"pk": obj.meeting_id, "attachment_id": obj.pk})


class MeetingListSerializer(serializers.ModelSerializer[JointMeeting]):
    """A joint meeting as listed."""

    area: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)
    level = serializers.ChoiceField(
        source="area.level",
        choices=TIER_CHOICES,
        read_only=True,
        help_text="会议层级：社区、街道、区、市",
    )
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    items_count = serializers.IntegerField(read_only=True, help_text="议题数")
    decided_count = serializers.IntegerField(read_only=True, help_text="已作出决定的议题数")

    class Meta:
        model = JointMeeting
        fields: tuple[str, ...] = (
            "id",
            "title",
            "area",
            "area_name",
            "level",
            "date",
            "state",
            "state_label",
            "items_count",
            "decided_count",
        )
        read_only_fields = fields


class MeetingSerializer(MeetingListSerializer):
    """A joint meeting with who came, its minutes, its agenda and decisions, and its files."""

    present_departments: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    present_areas: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    items = AgendaItemSerializer(many=True, read_only=True)
    attachments = MeetingAttachmentSerializer(many=True, read_only=True)

    class Meta(MeetingListSerializer.Meta):
        fields = (
            *MeetingListSerializer.Meta.fields,
            "present_departments",
            "present_areas",
            "attendees",
            "minutes",
            "held_at",
            "created_at",
            "items",
            "attachments",
        )
        read_only_fields = fields


class MechanismReviewSerializer(serializers.ModelSerializer[MechanismReview]):
    """A review date: when the owner department was reminded, and the review it recorded."""

    class Meta:
        model = MechanismReview
        fields = ("id", "due_on", "reminded_at", "done_at", "note")
        read_only_fields = fields


class StandingMechanismSerializer(serializers.ModelSerializer[StandingMechanism]):
    """A standing mechanism (长效机制): the class of problem, the owner department, the document, the reviews."""

    area: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)
    category_type: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    category_class: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    owner_department_name = serializers.CharField(source="owner_department.name", read_only=True)
    cooperating_departments: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    cases: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    meeting = serializers.IntegerField(
        source="decision.meeting_id", read_only=True, allow_null=True, help_text="作出决定的联席会议"
    )
    document_url = serializers.SerializerMethodField(help_text="机制文件的下载地址（未上传为 null）")
    reviews = MechanismReviewSerializer(many=True, read_only=True)

    class Meta:
        model = StandingMechanism
        fields = (
            "id",
            "title",
            "description",
            "area",
            "area_name",
            "category_type",
            "category_class",
            "owner_department",
            "owner_department_name",
            "cooperating_departments",
            "document_title",
            "document_number",
            "document_name",
            "document_url",
            "common_issue",
            "cases",
            "decision",
            "meeting",
            "is_active",
            "created_at",
            "reviews",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_document_url(self, obj: StandingMechanism) -> str | None:
        if not obj.document:
            return None
        return reverse("v1:mechanism-document-file", kwargs={"pk": obj.pk})


# --- inputs --------------------------------------------------------------------------------------


class MeetingCreateInputSerializer(serializers.Serializer[Any]):
    """A new meeting of a unit the caller staffs; its agenda is proposed from the unit's hard items."""

    area = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Area.objects.filter(level__in=MEETING_LEVELS),
        help_text="召开单位（社区、街道、区、市）的统一编码",
    )
    date = serializers.DateField(help_text="会议日期")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AgendaAddInputSerializer(serializers.Serializer[Any]):
    """One more item on a planned meeting's agenda: a case or a common issue (exactly one)."""

    case = VisiblePrimaryKeyField(queryset=Case.objects.all(), required=False, allow_null=True, default=None)
    common_issue = VisiblePrimaryKeyField(
        queryset=CommonIssue.objects.all(), required=False, allow_null=True, default=None
    )


class AgendaRemoveInputSerializer(serializers.Serializer[Any]):
    """An item to take off a planned meeting's agenda."""

    item = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="议题 id")


class HoldInputSerializer(serializers.Serializer[Any]):
    """Who came (at least one department, unit or person) and the minutes."""

    present_departments = VisiblePrimaryKeyField(
        queryset=Department.objects.all(), many=True, required=False, default=list
    )
    present_areas = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Area.objects.all(),
        many=True,
        required=False,
        help_text="出席单位的统一编码",
    )
    attendees = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    minutes = serializers.CharField(max_length=50000, required=False, allow_blank=True, default="")


class MechanismInputSerializer(serializers.Serializer[Any]):
    """The standing mechanism a decision makes: one type or one class of problem, owner, first review."""

    title = serializers.CharField(max_length=200)
    owner_department = VisiblePrimaryKeyField(queryset=Department.objects.all())
    review_on = serializers.DateField(help_text="首次复核日期（今天以后）")
    category_type = serializers.SlugRelatedField(
        slug_field="code", queryset=CategoryType.objects.all(), required=False, allow_null=True, default=None
    )
    category_class = serializers.SlugRelatedField(
        slug_field="code", queryset=CategoryClass.objects.all(), required=False, allow_null=True, default=None
    )
    cooperating = VisiblePrimaryKeyField(
        queryset=Department.objects.all(), many=True, required=False, default=list
    )
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    document_title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    document_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class DecideInputSerializer(serializers.Serializer[Any]):
    """The one decision on an agenda item of a held meeting."""

    item = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="议题 id")
    decision = serializers.ChoiceField(
        choices=Decision.choices,
        help_text="settle 就地解决（须写分工）；whistle_up 吹哨上报（街道、区会议须点名部门，记录即上报）；"
        "mechanism 形成长效机制（须填 mechanism）",
    )
    assignments = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    departments = VisiblePrimaryKeyField(
        queryset=Department.objects.all(), many=True, required=False, default=list
    )
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    mechanism = MechanismInputSerializer(required=False, allow_null=True, default=None)


class AttachmentInputSerializer(serializers.Serializer[Any]):
    """A file of the meeting (multipart): PDF, .docx, .xlsx or a photo, checked by its content."""

    file = serializers.FileField()


class MechanismDocumentInputSerializer(serializers.Serializer[Any]):
    """The mechanism's document (multipart): its title and number, and the file (optional)."""

    document_title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    document_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    file = serializers.FileField(required=False, allow_null=True, default=None)


class MechanismReviewInputSerializer(serializers.Serializer[Any]):
    """A review done, and the next review date."""

    note = serializers.CharField(max_length=5000)
    next_review_on = serializers.DateField(required=False, allow_null=True, default=None)


def mechanism_draft(data: dict[str, Any] | None) -> MechanismDraft | None:
    """The service's draft from a validated ``MechanismInputSerializer`` (None when not given)."""
    if not data:
        return None
    return MechanismDraft(
        title=data["title"],
        owner_department=data["owner_department"],
        review_on=data["review_on"],
        category_type=data.get("category_type"),
        category_class=data.get("category_class"),
        cooperating=tuple(data.get("cooperating") or ()),
        description=data.get("description", ""),
        document_title=data.get("document_title", ""),
        document_number=data.get("document_number", ""),
    )
