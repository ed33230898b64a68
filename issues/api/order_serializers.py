"""API representations of department orders, extension requests and common issues, and their inputs."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alleys.models import Department
from core.api.base import VisiblePrimaryKeyField
from issues.choices import AttendanceState, ConsultationOpinion, ReportOutcome
from issues.models import Attendance, CommonIssue, Consultation, DispatchOrder, ExtensionRequest


class ExtensionSerializer(serializers.ModelSerializer[ExtensionRequest]):
    """A department's request for more time and where its approval stands."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = ExtensionRequest
        fields = (
            "id",
            "order",
            "reason",
            "requested_due",
            "previous_due",
            "state",
            "state_label",
            "requested_at",
            "community_decided_at",
            "org_decided_at",
            "decision_note",
        )
        read_only_fields = fields


class AttendanceSerializer(serializers.ModelSerializer[Attendance]):
    """A visit the department announced (who, when) and what the whistling community recorded of it."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    visitors = serializers.ListField(child=serializers.CharField(), read_only=True)
    present = serializers.ListField(child=serializers.CharField(), read_only=True)
    community: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = Attendance
        fields = (
            "id",
            "state",
            "state_label",
            "planned_at",
            "visitors",
            "reported_at",
            "attended_at",
            "present",
            "note",
            "community",
            "decided_at",
        )
        read_only_fields = fields


class ConsultationSerializer(serializers.ModelSerializer[Consultation]):
    """An opinion the organisation department asked of one department before it dispatched (派单前征求意见)."""

    case_tracking_code = serializers.CharField(source="case.tracking_code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    asker_area: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    opinion_label = serializers.CharField(source="get_opinion_display", read_only=True)
    answered_late = serializers.BooleanField(read_only=True)

    class Meta:
        model = Consultation
        fields = (
            "id",
            "case",
            "case_tracking_code",
            "department",
            "department_name",
            "asker_area",
            "question",
            "asked_at",
            "answer_due",
            "state",
            "state_label",
            "opinion",
            "opinion_label",
            "suggested_department",
            "answer",
            "answered_at",
            "answered_late",
            "order",
        )
        read_only_fields = fields


class OrderSummarySerializer(serializers.ModelSerializer[DispatchOrder]):
    """An order as listed on its case."""

    department_name = serializers.CharField(source="department.name", read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = DispatchOrder
        fields: tuple[str, ...] = (
            "id",
            "department",
            "department_name",
            "role",
            "role_label",
            "state",
            "state_label",
            "dispatched_at",
            "report_due",
            "reported_at",
            "attended_at",
            "complete_due",
            "completed_at",
            "deadline_provisional",
        )
        read_only_fields = fields


class OrderSerializer(OrderSummarySerializer):
    """A department order (派单) with its report, plan, deadlines and extensions."""

    case_tracking_code = serializers.CharField(source="case.tracking_code", read_only=True, allow_null=True)
    dispatcher_area: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    dispatcher_area_name = serializers.CharField(source="dispatcher_area.name", read_only=True)
    report_on_time = serializers.BooleanField(
        read_only=True, allow_null=True, help_text="社区确认的到场时间是否在报到期限内（未确认时为 null）"
    )
    report_outcome = serializers.SerializerMethodField(help_text="报到：按时到场、逾期到场、未到场或待报到")
    extensions = ExtensionSerializer(many=True, read_only=True)
    attendances = AttendanceSerializer(many=True, read_only=True)
    consultations = ConsultationSerializer(many=True, read_only=True, help_text="派单前该部门的意见")

    class Meta(OrderSummarySerializer.Meta):
        fields = (
            *OrderSummarySerializer.Meta.fields,
            "case",
            "case_tracking_code",
            "common_issue",
            "dispatcher_area",
            "dispatcher_area_name",
            "instructions",
            "received_at",
            "report_on_time",
            "report_outcome",
            "leader_name",
            "contact_name",
            "contact_phone",
            "work_plan",
            "completion_note",
            "rejection_reason",
            "report_overdue_at",
            "complete_overdue_at",
            "replaced_by",
            "withdrawn_at",
            "withdrawal_reason",
            "extensions",
            "attendances",
            "consultations",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ReportOutcome.choices))
    def get_report_outcome(self, obj: DispatchOrder) -> str:
        no_show = any(a.state == AttendanceState.MISSED for a in obj.attendances.all())
        return obj.report_outcome(timezone.now(), no_show=no_show)


class CommonIssueSerializer(serializers.ModelSerializer[CommonIssue]):
    """Cases from several communities coordinated as one (共性问题)."""

    coordinator_area: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    cases: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    cooperating_departments: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = CommonIssue
        fields = (
            "id",
            "title",
            "description",
            "coordinator_area",
            "is_long_term",
            "lead_department",
            "cooperating_departments",
            "cases",
            "created_at",
        )
        read_only_fields = fields


# --- inputs of the order and extension actions -------------------------------------------------


class ReportInputSerializer(serializers.Serializer[Any]):
    """报到: the leader, the contact, the work plan, and who will come to the whistling community when."""

    leader_name = serializers.CharField(max_length=50)
    contact_name = serializers.CharField(max_length=50)
    contact_phone = serializers.CharField(max_length=32)
    work_plan = serializers.CharField(max_length=10000)
    visit_at = serializers.DateTimeField(help_text="约定到社区报到的时间（报到以社区确认到场为准）")
    visitors = serializers.ListField(
        child=serializers.CharField(max_length=50),
        min_length=1,
        max_length=30,
        help_text="到社区报到的人员，须有分管负责人或联系人",
    )


class AttendanceConfirmInputSerializer(serializers.Serializer[Any]):
    """The whistling community confirms the department came: the actual time and the people present."""

    attended_at = serializers.DateTimeField(help_text="实际到场时间（不晚于现在，不早于派单）")
    present = serializers.ListField(child=serializers.CharField(max_length=50), min_length=1, max_length=30)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class OptionalNoteInputSerializer(serializers.Serializer[Any]):
    """A note, which may be left out."""

    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ConsultationAnswerInputSerializer(serializers.Serializer[Any]):
    """A department's answer before dispatch: agree, another department (which, and why), or another opinion."""

    opinion = serializers.ChoiceField(choices=ConsultationOpinion.choices)
    # Any active department: the one answering sees only itself through its scope, and the names of
    # departments are no secret; the service checks the suggestion.
    suggested_department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="建议承办的部门（opinion 为 other_department 时必填）",
    )
    text = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class OrderNoteInputSerializer(serializers.Serializer[Any]):
    """A progress note, or the reason for insisting on an order."""

    note = serializers.CharField(max_length=5000)


class OrderCompleteInputSerializer(serializers.Serializer[Any]):
    """The completion note and photos of the fix (multipart for photos)."""

    note = serializers.CharField(max_length=5000)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class OrderRejectInputSerializer(serializers.Serializer[Any]):
    """退单: why the matter is not this department's."""

    reason = serializers.CharField(max_length=5000)


class RedispatchInputSerializer(serializers.Serializer[Any]):
    """The department the organisation department sends a rejected order to instead."""

    department = VisiblePrimaryKeyField(queryset=Department.objects.all())
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ExtensionInputSerializer(serializers.Serializer[Any]):
    """An extension request: the reason and the new completion date."""

    reason = serializers.CharField(max_length=5000)
    new_due = serializers.DateTimeField()


class CommunityDecisionInputSerializer(serializers.Serializer[Any]):
    """The whistling community's opinion on an extension (a reason when it refuses)."""

    agree = serializers.BooleanField()
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class OrgDecisionInputSerializer(serializers.Serializer[Any]):
    """The organisation department's decision on an extension (a reason when it refuses)."""

    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
