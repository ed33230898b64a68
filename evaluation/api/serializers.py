"""API representations of department evaluations (一哨一考核) and of the rates."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from alleys.api.serializers import person_name
from alleys.choices import AreaLevel
from alleys.models import Area
from core.api.base import VisiblePrimaryKeyField, VisibleSlugField
from evaluation.choices import Rating, Timeliness
from evaluation.models import DepartmentEvaluation
from issues.models import DispatchOrder


class EvaluationSerializer(serializers.ModelSerializer[DepartmentEvaluation]):
    """The whistling community's evaluation of a department's work on one order."""

    department_name = serializers.CharField(source="department.name", read_only=True)
    community: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    community_name = serializers.CharField(source="community.name", read_only=True)
    evaluator = serializers.SerializerMethodField()

    class Meta:
        model = DepartmentEvaluation
        fields = (
            "id",
            "order",
            "case",
            "department",
            "department_name",
            "role",
            "community",
            "community_name",
            "report_timeliness_auto",
            "report_timeliness",
            "timeliness_override_reason",
            "plan_quality",
            "work_quality",
            "cooperation",
            "overall_score",
            "opinion",
            "item_completed_at",
            "evaluator",
            "evaluated_at",
        )
        read_only_fields = fields

    def get_evaluator(self, obj: DepartmentEvaluation) -> str:
        return person_name(obj.evaluator)


class EvaluationInputSerializer(serializers.Serializer[Any]):
    """A community's evaluation of a completed, verified order (once per order and community)."""

    order = VisiblePrimaryKeyField(queryset=DispatchOrder.objects.all())
    plan_quality = serializers.ChoiceField(choices=Rating.choices)
    work_quality = serializers.ChoiceField(choices=Rating.choices)
    cooperation = serializers.ChoiceField(choices=Rating.choices)
    overall_score = serializers.IntegerField(min_value=0, max_value=100)
    opinion = serializers.CharField(max_length=5000)
    report_timeliness = serializers.ChoiceField(
        choices=Timeliness.choices, required=False, allow_null=True, help_text="留空则按系统记录"
    )
    timeliness_override_reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    community = VisibleSlugField(
        slug_field="code",
        queryset=Area.objects.filter(level=AreaLevel.COMMUNITY),
        required=False,
        allow_null=True,
        help_text="以哪个社区的名义评价（共性问题涉及多个社区时）",
    )


class CaseRatesSerializer(serializers.Serializer[Any]):
    """The rates of a set of cases (the one definition in evaluation.rates) and their counters."""

    mode = serializers.ChoiceField(
        choices=[("direct", "direct"), ("rollup", "rollup")],
        help_text="direct：按筛选条件直接计算；rollup：读取区域月度汇总（area + period）",
    )
    as_of = serializers.DateTimeField(allow_null=True, help_text="汇总数据的更新时间（rollup 模式）")
    counts = serializers.DictField(child=serializers.FloatField())
    response_rate = serializers.FloatField(allow_null=True)
    resolution_rate = serializers.FloatField(allow_null=True)
    satisfaction_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    avg_hours = serializers.FloatField(allow_null=True)
    median_hours = serializers.FloatField(allow_null=True)
    reopen_rate = serializers.FloatField(allow_null=True)
    proactive_share = serializers.FloatField(allow_null=True)
    escalation_profile = serializers.DictField(child=serializers.FloatField(allow_null=True))
    composite = serializers.FloatField(allow_null=True)
    samples = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="每个比率的样本数（分母）n；n 小于 min_sample 时页面显示“样本不足”",
    )
    min_sample = serializers.IntegerField(help_text="比率显示所需的最小样本数（JXT_RATE_MIN_SAMPLE）")


class OrderRatesSerializer(serializers.Serializer[Any]):
    """The department rates of a set of orders (the one definition in evaluation.rates)."""

    counts = serializers.DictField(child=serializers.FloatField())
    report_rate = serializers.FloatField(allow_null=True)
    resolution_rate = serializers.FloatField(allow_null=True)
    satisfaction_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    avg_evaluation = serializers.FloatField(allow_null=True)
    composite = serializers.FloatField(allow_null=True)
    samples = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="每个比率的样本数（分母）n；n 小于 min_sample 时页面显示“样本不足”",
    )
    min_sample = serializers.IntegerField(help_text="比率显示所需的最小样本数（JXT_RATE_MIN_SAMPLE）")
