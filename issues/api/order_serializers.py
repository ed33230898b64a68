"""API representations of department orders, extension requests and common issues, and their inputs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from alleys.models import Department
from core.api.base import VisiblePrimaryKeyField
from issues.models import CommonIssue, DispatchOrder, ExtensionRequest


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
    report_on_time = serializers.BooleanField(read_only=True, allow_null=True)
    extensions = ExtensionSerializer(many=True, read_only=True)

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
        )
        read_only_fields = fields


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
    """报到: the responsible leader, the contact person and the work plan."""

    leader_name = serializers.CharField(max_length=50)
    contact_name = serializers.CharField(max_length=50)
    contact_phone = serializers.CharField(max_length=32)
    work_plan = serializers.CharField(max_length=10000)


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
