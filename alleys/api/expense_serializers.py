"""API representations of chiefs' expenses (alleys/expenses.py): the expense, the inputs of its moves, the report."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alleys.choices import AreaLevel, ExpensePurpose
from alleys.expenses import allowed_transitions
from alleys.models import EXPENSE_MAX, EXPENSE_MIN, Area, Expense
from core.api.base import VisibleSlugField

from .serializers import person_name


class ExpenseSerializer(serializers.ModelSerializer[Expense]):
    """One expense; ``allowed`` lists the moves the caller may make now (approve, return, pay, resubmit)."""

    alley: serializers.SlugRelatedField[Area] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    alley_name = serializers.CharField(source="alley.name", read_only=True)
    chief_name = serializers.SerializerMethodField()
    decided_by_name = serializers.SerializerMethodField()
    allowed = serializers.SerializerMethodField()

    class Meta:
        model = Expense
        fields = (
            "id",
            "alley",
            "alley_name",
            "chief_name",
            "amount",
            "purpose",
            "description",
            "spent_on",
            "state",
            "submitted_at",
            "decided_by_name",
            "decided_at",
            "return_reason",
            "paid_on",
            "allowed",
        )
        read_only_fields = fields

    def get_chief_name(self, obj: Expense) -> str:
        return person_name(obj.chief)

    def get_decided_by_name(self, obj: Expense) -> str:
        return person_name(obj.decided_by)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed(self, obj: Expense) -> list[str]:
        request = self.context.get("request")
        return allowed_transitions(obj, request.user) if request is not None else []


class AlleyCodeField(VisibleSlugField):
    """An alley's code, among the areas the caller may see."""

    def get_queryset(self) -> Any:
        return super().get_queryset().filter(level=AreaLevel.ALLEY)


class ExpenseValuesSerializer(serializers.Serializer[Any]):
    """What a chief states about an expense (the service checks the rules again)."""

    amount = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=EXPENSE_MIN, max_value=EXPENSE_MAX
    )
    purpose = serializers.ChoiceField(choices=ExpensePurpose.choices)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    spent_on = serializers.DateField()


class ExpenseFileInputSerializer(ExpenseValuesSerializer):
    """A new expense: the alley (its code), what was spent, and the receipt photo (checked by content)."""

    alley = AlleyCodeField(slug_field="code", queryset=Area.objects.all(), help_text=_("街巷编码"))
    receipt = serializers.FileField(help_text=_("票据照片（JPEG、PNG 或 WebP，按内容检查）"))


class ExpenseResubmitInputSerializer(ExpenseValuesSerializer):
    """A returned expense corrected; a new receipt photo is optional."""

    receipt = serializers.FileField(required=False, allow_null=True, default=None)


class ExpenseReturnInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=300, help_text=_("退回理由"))


class ExpensePayInputSerializer(serializers.Serializer[Any]):
    paid_on = serializers.DateField(help_text=_("报销日期"))


class ExpenseReportQuerySerializer(serializers.Serializer[Any]):
    community = serializers.CharField(max_length=15, help_text=_("社区编码"))
    year = serializers.IntegerField(
        min_value=2000, max_value=2100, required=False, help_text=_("年份（默认今年）")
    )


class ExpenseReportRowSerializer(serializers.Serializer[Any]):
    alley = serializers.CharField(source="alley.code")
    alley_name = serializers.CharField(source="alley.name")
    paid = serializers.DictField(child=serializers.DecimalField(max_digits=12, decimal_places=2))
    paid_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    pending_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    count = serializers.IntegerField()


class ExpenseReportSerializer(serializers.Serializer[Any]):
    """A community's year (by the date spent): paid per alley and purpose, and what is not paid yet."""

    community = serializers.CharField(source="community.code")
    community_name = serializers.CharField(source="community.name")
    year = serializers.IntegerField()
    rows = ExpenseReportRowSerializer(many=True)
    paid_by_purpose = serializers.DictField(child=serializers.DecimalField(max_digits=12, decimal_places=2))
    paid_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    pending_total = serializers.DecimalField(max_digits=12, decimal_places=2)
