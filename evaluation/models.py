"""One whistle one evaluation, satisfaction surveys, the annual assessment, weights, exports and rollups.

The rollup tables at the end are what the dashboards read: they are maintained by
``evaluation.rollups`` (a Celery task every minute, and ``manage.py refresh_rollups``)
so that no page ever scans the case history.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import TIER_CHOICES, AreaLevel
from alleys.models import Area, Department
from alleys.people import Actor
from alleys.scoping import scope_for
from issues.choices import FeedbackSolved, OrderRole, Satisfaction

from .choices import (
    AssessmentEventKind,
    AssessmentState,
    ExportFormat,
    Rating,
    RespondentKind,
    SurveyState,
    Timeliness,
)

# --- one whistle, one evaluation (一哨一考核) --------------------------------------------------


class DepartmentEvaluationQuerySet(models.QuerySet["DepartmentEvaluation"]):
    """Evaluations in the user's territory, or of the user's own department."""

    def visible_to(self, user: Actor) -> DepartmentEvaluationQuerySet:
        scope = scope_for(user)
        if scope.is_global:
            return self
        if scope.is_empty:
            return self.none()
        return self.filter(scope.area_q("community__code") | Q(department_id__in=scope.department_ids))


class DepartmentEvaluation(models.Model):
    """The whistling community's evaluation of one department's work on one order (一哨一考核)."""

    order = models.ForeignKey(
        "issues.DispatchOrder",
        verbose_name=_("派单"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("被评价部门"), on_delete=models.PROTECT, related_name="evaluations"
    )
    role = models.CharField(_("角色"), max_length=12, choices=OrderRole.choices)
    community = models.ForeignKey(
        Area,
        verbose_name=_("评价社区"),
        on_delete=models.PROTECT,
        related_name="department_evaluations",
        limit_choices_to={"level": AreaLevel.COMMUNITY},
    )
    case = models.ForeignKey(
        "issues.Case",
        verbose_name=_("案件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="department_evaluations",
    )
    report_timeliness_auto = models.CharField(
        _("报到及时性（系统计算）"), max_length=16, choices=Timeliness.choices, editable=False
    )
    report_timeliness = models.CharField(_("报到及时性"), max_length=16, choices=Timeliness.choices)
    timeliness_override_reason = models.TextField(
        _("更正理由"), blank=True, help_text=_("与系统计算结果不同时必须说明理由。")
    )
    plan_quality = models.PositiveSmallIntegerField(_("工作方案质量"), choices=Rating.choices)
    work_quality = models.PositiveSmallIntegerField(_("办理质量"), choices=Rating.choices)
    cooperation = models.PositiveSmallIntegerField(_("配合程度"), choices=Rating.choices)
    overall_score = models.PositiveSmallIntegerField(
        _("综合评分"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    opinion = models.TextField(_("初步评价意见"))
    # When the department finished the item: the year of the annual assessment it counts in.
    item_completed_at = models.DateTimeField(_("办结时间"))
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("评价人"), on_delete=models.PROTECT, related_name="+"
    )
    evaluated_at = models.DateTimeField(_("评价时间"), default=timezone.now, db_index=True)

    objects = DepartmentEvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = _("一哨一考核评价")
        verbose_name_plural = _("一哨一考核评价")
        ordering = ["-evaluated_at", "-id"]
        constraints = [
            # Once per order and whistling community (a case order has exactly one community).
            models.UniqueConstraint(fields=["order", "community"], name="evaluation_once_per_order"),
            models.CheckConstraint(
                condition=Q(overall_score__gte=0) & Q(overall_score__lte=100), name="evaluation_score_range"
            ),
        ]
        indexes = [models.Index(fields=["community", "item_completed_at"], name="evaluation_community_year")]

    def __str__(self) -> str:
        return f"{self.department} · {self.overall_score}"

    @property
    def timeliness_overridden(self) -> bool:
        return self.report_timeliness != self.report_timeliness_auto


# --- satisfaction surveys ------------------------------------------------------------------------


def new_survey_token() -> str:
    return secrets.token_urlsafe(16)


INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_invite_code() -> str:
    """Eight characters without 0/O, 1/I/L: easy to type from a printed slip."""
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))


class SurveyQuerySet(models.QuerySet["Survey"]):
    """Surveys in the user's territory."""

    def visible_to(self, user: Actor) -> SurveyQuerySet:
        scope = scope_for(user)
        if scope.is_empty:
            return self.none()
        return self.filter(scope.area_q("community__code"))


class Survey(models.Model):
    """A community's satisfaction survey on one completed whistle item, answered by invited people."""

    case = models.OneToOneField(
        "issues.Case", verbose_name=_("案件"), on_delete=models.PROTECT, related_name="survey"
    )
    community = models.ForeignKey(
        Area,
        verbose_name=_("组织社区"),
        on_delete=models.PROTECT,
        related_name="surveys",
        limit_choices_to={"level": AreaLevel.COMMUNITY},
    )
    token = models.CharField(
        _("链接令牌"), max_length=32, unique=True, default=new_survey_token, editable=False
    )
    title = models.CharField(_("标题"), max_length=200)
    state = models.CharField(_("状态"), max_length=10, choices=SurveyState.choices, default=SurveyState.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    closes_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        verbose_name = _("满意度调查")
        verbose_name_plural = _("满意度调查")
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def accepts_answers(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.state == SurveyState.OPEN and (self.closes_at is None or now < self.closes_at)


class SurveyInvite(models.Model):
    """A one-time code handed to one Party member or resident: one code, one answer."""

    survey = models.ForeignKey(
        Survey, verbose_name=_("调查"), on_delete=models.CASCADE, related_name="invites"
    )
    code = models.CharField(_("邀请码"), max_length=12, default=new_invite_code)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("调查邀请码")
        verbose_name_plural = _("调查邀请码")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "code"], name="invite_code_unique_in_survey")
        ]

    def __str__(self) -> str:
        return self.code


class SurveyAnswer(models.Model):
    """One person's answer (anonymous: only the invite it used, never a name or phone)."""

    survey = models.ForeignKey(
        Survey, verbose_name=_("调查"), on_delete=models.CASCADE, related_name="answers"
    )
    invite = models.OneToOneField(
        SurveyInvite, verbose_name=_("邀请码"), on_delete=models.PROTECT, related_name="answer"
    )
    respondent_kind = models.CharField(_("身份"), max_length=16, choices=RespondentKind.choices)
    solved = models.CharField(_("是否解决"), max_length=12, choices=FeedbackSolved.choices)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices)
    comment = models.TextField(_("意见建议"), blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("调查答卷")
        verbose_name_plural = _("调查答卷")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.get_satisfaction_display()}"


# --- the annual assessment -------------------------------------------------------------------------


class AnnualAssessmentQuerySet(models.QuerySet["AnnualAssessment"]):
    """Assessments of the streets in the user's territory."""

    def visible_to(self, user: Actor) -> AnnualAssessmentQuerySet:
        scope = scope_for(user)
        if scope.is_empty:
            return self.none()
        return self.filter(scope.area_q("street__code"))


class AnnualAssessment(models.Model):
    """A street's annual evaluation proposal of every department its communities evaluated."""

    street = models.ForeignKey(
        Area,
        verbose_name=_("街道"),
        on_delete=models.PROTECT,
        related_name="annual_assessments",
        limit_choices_to={"level": AreaLevel.STREET},
    )
    year = models.PositiveIntegerField(_("年度"))
    state = models.CharField(
        _("状态"), max_length=12, choices=AssessmentState.choices, default=AssessmentState.DRAFT
    )
    computed_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("审定时间"), null=True, blank=True)

    objects = AnnualAssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("年度考核")
        verbose_name_plural = _("年度考核")
        ordering = ["-year", "street__code"]
        constraints = [
            models.UniqueConstraint(fields=["street", "year"], name="assessment_once_per_street_year")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.street}"

    @property
    def is_frozen(self) -> bool:
        return self.state == AssessmentState.APPROVED

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_frozen:
            raise ValidationError(_("年度考核已审定冻结，不能删除。"))
        return super().delete(*args, **kwargs)


def _assessment_frozen(assessment_id: int | None) -> bool:
    if assessment_id is None:
        return False
    return AnnualAssessment.objects.filter(pk=assessment_id, state=AssessmentState.APPROVED).exists()


class AssessmentLine(models.Model):
    """One department's line in a street's annual proposal: computed, possibly adjusted, then frozen."""

    assessment = models.ForeignKey(
        AnnualAssessment, verbose_name=_("年度考核"), on_delete=models.CASCADE, related_name="lines"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="assessment_lines"
    )
    evaluations = models.PositiveIntegerField(_("评价次数"), default=0)
    communities = models.PositiveIntegerField(_("评价社区数"), default=0)
    on_time_reports = models.PositiveIntegerField(_("按时报到次数"), default=0)
    avg_plan = models.DecimalField(_("方案质量均分"), max_digits=4, decimal_places=2, null=True, blank=True)
    avg_work = models.DecimalField(_("办理质量均分"), max_digits=4, decimal_places=2, null=True, blank=True)
    avg_cooperation = models.DecimalField(
        _("配合程度均分"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    computed_score = models.DecimalField(_("计算得分"), max_digits=5, decimal_places=2)
    adjusted_score = models.DecimalField(
        _("调整后得分"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    adjustment_reason = models.TextField(_("调整理由"), blank=True)
    rank = models.PositiveIntegerField(_("排名"), null=True, blank=True)

    class Meta:
        verbose_name = _("年度考核明细")
        verbose_name_plural = _("年度考核明细")
        ordering = ["rank", "-computed_score", "department__name"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "department"], name="assessment_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.final_score}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Frozen means frozen for every writer (admin, shell, services), not only the pages.
        if _assessment_frozen(self.assessment_id):
            raise ValidationError(_("年度考核已审定冻结，不能修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if _assessment_frozen(self.assessment_id):
            raise ValidationError(_("年度考核已审定冻结，不能修改。"))
        return super().delete(*args, **kwargs)

    @property
    def final_score(self) -> Any:
        return self.adjusted_score if self.adjusted_score is not None else self.computed_score

    @property
    def on_time_share(self) -> float | None:
        return self.on_time_reports / self.evaluations if self.evaluations else None


class AssessmentEvent(models.Model):
    """One immutable line of an annual assessment's audit trail (every computation and adjustment)."""

    assessment = models.ForeignKey(
        AnnualAssessment, verbose_name=_("年度考核"), on_delete=models.CASCADE, related_name="events"
    )
    line = models.ForeignKey(
        AssessmentLine,
        verbose_name=_("明细"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    kind = models.CharField(_("操作"), max_length=16, choices=AssessmentEventKind.choices)
    department_name = models.CharField(_("部门"), max_length=100, blank=True)
    old_score = models.DecimalField(_("原分数"), max_digits=5, decimal_places=2, null=True, blank=True)
    new_score = models.DecimalField(_("新分数"), max_digits=5, decimal_places=2, null=True, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("年度考核记录")
        verbose_name_plural = _("年度考核记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.assessment_id} {self.get_kind_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError(_("考核记录不可修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError(_("考核记录不可删除。"))


# --- weights and exports ------------------------------------------------------------------------------


class RateWeights(models.Model):
    """The composite score's weights (one row, editable in the admin)."""

    response = models.PositiveSmallIntegerField(_("响应率权重"), default=30)
    resolution = models.PositiveSmallIntegerField(_("解决率权重"), default=35)
    satisfaction = models.PositiveSmallIntegerField(_("满意率权重"), default=35)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("综合评分权重")
        verbose_name_plural = _("综合评分权重")

    def __str__(self) -> str:
        return f"{self.response}/{self.resolution}/{self.satisfaction}"

    def clean(self) -> None:
        if self.response + self.resolution + self.satisfaction <= 0:
            raise ValidationError(_("权重之和必须大于 0。"))

    @classmethod
    def current(cls) -> RateWeights:
        obj = cls.objects.order_by("pk").first()
        return obj if obj is not None else cls.objects.create()


class ExportLog(models.Model):
    """Who exported which table, with which filters and how many rows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导出人"), on_delete=models.PROTECT, related_name="+"
    )
    what = models.CharField(_("导出内容"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    fmt = models.CharField(_("格式"), max_length=8, choices=ExportFormat.choices)
    filters = models.JSONField(_("筛选条件"), default=dict)
    rows = models.PositiveIntegerField(_("行数"))
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("导出记录")
        verbose_name_plural = _("导出记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} {self.title} {self.at:%Y-%m-%d %H:%M}"


# --- rollups (maintained by evaluation.rollups; read by the dashboards) ------------------------------


class CaseCounters(models.Model):
    """The additive counters every case rollup row carries (see evaluation.rates for their meaning)."""

    submitted = models.PositiveIntegerField(_("提交"), default=0)
    cases = models.PositiveIntegerField(_("有效案件"), default=0)
    rejected = models.PositiveIntegerField(_("不予受理"), default=0)
    open = models.PositiveIntegerField(_("未办结"), default=0)
    proactive = models.PositiveIntegerField(_("主动发现"), default=0)
    resp_on_time = models.PositiveIntegerField(_("按时受理"), default=0)
    resp_late = models.PositiveIntegerField(_("超时受理"), default=0)
    resolved = models.PositiveIntegerField(_("已办结"), default=0)
    on_time = models.PositiveIntegerField(_("按时办结"), default=0)
    late = models.PositiveIntegerField(_("超时办结或超期未结"), default=0)
    hours_n = models.PositiveIntegerField(_("计时案件数"), default=0)
    hours_sum = models.FloatField(_("办结用时合计（工作小时）"), default=0)
    fb_cases = models.PositiveIntegerField(_("有评价案件"), default=0)
    fb_solved = models.PositiveIntegerField(_("评价已解决"), default=0)
    answers = models.PositiveIntegerField(_("满意度答卷"), default=0)
    satisfied = models.PositiveIntegerField(_("满意及基本满意"), default=0)
    ever_resolved = models.PositiveIntegerField(_("曾办结"), default=0)
    reopened = models.PositiveIntegerField(_("重办案件"), default=0)
    tier_alley = models.PositiveIntegerField(_("巷内办结"), default=0)
    tier_community = models.PositiveIntegerField(_("社区办结"), default=0)
    tier_street = models.PositiveIntegerField(_("街道办结"), default=0)
    tier_district = models.PositiveIntegerField(_("区级办结"), default=0)
    tier_city = models.PositiveIntegerField(_("市级办结"), default=0)

    class Meta:
        abstract = True


class CaseFact(CaseCounters):
    """One case's current contribution to the rollups (so a refresh recomputes only what changed)."""

    case = models.OneToOneField(
        "issues.Case", primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    alley_code = models.CharField(max_length=15)
    category_id = models.IntegerField()
    class_code = models.CharField(max_length=4)
    month = models.DateField()
    week = models.DateField()
    # The local day of submission: rolling windows and custom ranges sum the facts by day.
    day = models.DateField(null=True)
    # The resolution time in tenths of a working hour (the median's histogram key).
    tenths = models.IntegerField(null=True)
    # When the classification changes by itself (a deadline passes), if nothing else happens first.
    pending_until = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("案件统计事实")
        verbose_name_plural = _("案件统计事实")
        indexes = [
            models.Index(fields=["month", "alley_code"], name="casefact_month_alley"),
            models.Index(fields=["week", "alley_code"], name="casefact_week_alley"),
            models.Index(fields=["day", "alley_code"], name="casefact_day_alley"),
            models.Index(
                fields=["pending_until"], name="casefact_pending", condition=Q(pending_until__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return str(self.case_id)


class AreaMonthStat(CaseCounters):
    """Counters of the cases submitted in one month in one area (every level of the tree)."""

    level = models.CharField(_("层级"), max_length=16, choices=TIER_CHOICES)
    area_code = models.CharField(_("区域编码"), max_length=15)
    month = models.DateField(_("月份"))
    # {"<tenths of a working hour>": count}: resolution times for the exact median.
    hours_hist = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("区域月度统计")
        verbose_name_plural = _("区域月度统计")
        constraints = [models.UniqueConstraint(fields=["area_code", "month"], name="areamonth_unique")]
        indexes = [models.Index(fields=["level", "month", "area_code"], name="areamonth_level")]

    def __str__(self) -> str:
        return f"{self.area_code} {self.month:%Y-%m}"


class AreaWeekStat(CaseCounters):
    """Counters of the cases submitted in one week (Monday) in one area (every level of the tree)."""

    level = models.CharField(_("层级"), max_length=16, choices=TIER_CHOICES)
    area_code = models.CharField(_("区域编码"), max_length=15)
    week = models.DateField(_("周（周一）"))

    class Meta:
        verbose_name = _("区域每周统计")
        verbose_name_plural = _("区域每周统计")
        constraints = [models.UniqueConstraint(fields=["area_code", "week"], name="areaweek_unique")]
        indexes = [models.Index(fields=["level", "week", "area_code"], name="areaweek_level")]

    def __str__(self) -> str:
        return f"{self.area_code} {self.week}"


class AreaMonthCategoryStat(CaseCounters):
    """Counters per category type, month and area (community and above)."""

    level = models.CharField(_("层级"), max_length=16, choices=TIER_CHOICES)
    area_code = models.CharField(_("区域编码"), max_length=15)
    month = models.DateField(_("月份"))
    category_id = models.IntegerField(_("事项类型"))
    class_code = models.CharField(_("分类"), max_length=4)

    class Meta:
        verbose_name = _("事项月度统计")
        verbose_name_plural = _("事项月度统计")
        constraints = [
            models.UniqueConstraint(fields=["area_code", "month", "category_id"], name="areacat_unique")
        ]
        indexes = [models.Index(fields=["level", "month", "area_code"], name="areacat_level")]

    def __str__(self) -> str:
        return f"{self.area_code} {self.month:%Y-%m} {self.category_id}"


class OpenStat(models.Model):
    """Open cases now, per area, category class and state (a snapshot refreshed every minute)."""

    level = models.CharField(_("层级"), max_length=16, choices=TIER_CHOICES)
    area_code = models.CharField(_("区域编码"), max_length=15)
    class_code = models.CharField(_("分类"), max_length=4)
    state = models.CharField(_("状态"), max_length=24)
    open = models.PositiveIntegerField(_("在办"), default=0)
    overdue = models.PositiveIntegerField(_("超期"), default=0)
    due_today = models.PositiveIntegerField(_("今日到期"), default=0)
    # Not overdue, due within JXT_NEAR_HOURS (issues.deadline_state.near_q): the workbench's 临期.
    near = models.PositiveIntegerField(_("临期"), default=0)
    supervised = models.PositiveIntegerField(_("督办"), default=0)

    class Meta:
        verbose_name = _("在办快照")
        verbose_name_plural = _("在办快照")
        constraints = [
            models.UniqueConstraint(fields=["area_code", "class_code", "state"], name="openstat_unique")
        ]
        indexes = [models.Index(fields=["level", "area_code"], name="openstat_level")]

    def __str__(self) -> str:
        return f"{self.area_code} {self.class_code} {self.state}"


class OrderCounters(models.Model):
    """The additive counters of department orders (see evaluation.rates)."""

    orders = models.PositiveIntegerField(_("派单数"), default=0)
    active = models.PositiveIntegerField(_("在办"), default=0)
    # The report (报到) counts only as the community confirmed the attendance (issues.attendance).
    report_on_time = models.PositiveIntegerField(_("按时到场报到"), default=0)
    report_late = models.PositiveIntegerField(_("逾期到场报到"), default=0)
    report_missed = models.PositiveIntegerField(_("未到场报到"), default=0)
    report_no_show = models.PositiveIntegerField(_("有未按约到场记录"), default=0)
    completed = models.PositiveIntegerField(_("已办结"), default=0)
    complete_on_time = models.PositiveIntegerField(_("按时办结"), default=0)
    complete_late = models.PositiveIntegerField(_("超时办结或超期未结"), default=0)
    rejected = models.PositiveIntegerField(_("退单"), default=0)
    extended = models.PositiveIntegerField(_("获批延期"), default=0)
    fb_cases = models.PositiveIntegerField(_("有评价案件"), default=0)
    fb_solved = models.PositiveIntegerField(_("评价已解决"), default=0)
    answers = models.PositiveIntegerField(_("满意度答卷"), default=0)
    satisfied = models.PositiveIntegerField(_("满意及基本满意"), default=0)
    eval_n = models.PositiveIntegerField(_("社区评价数"), default=0)
    eval_score_sum = models.PositiveIntegerField(_("社区评价总分"), default=0)

    class Meta:
        abstract = True


class OrderFact(OrderCounters):
    """One order's current contribution to the department rollups."""

    order = models.OneToOneField(
        "issues.DispatchOrder",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    department_id = models.IntegerField()
    role = models.CharField(max_length=12)
    month = models.DateField()
    # The local day of dispatch: rolling windows and custom ranges sum the facts by day.
    day = models.DateField(null=True)
    area_code = models.CharField(max_length=15)
    pending_until = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("派单统计事实")
        verbose_name_plural = _("派单统计事实")
        indexes = [
            models.Index(fields=["department_id", "month"], name="orderfact_dept_month"),
            models.Index(fields=["day", "area_code"], name="orderfact_day_area"),
            models.Index(
                fields=["pending_until"], name="orderfact_pending", condition=Q(pending_until__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return str(self.order_id)


class DepartmentMonthStat(OrderCounters):
    """Order counters per department, role, month of dispatch and community of the case."""

    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(_("角色"), max_length=12, choices=OrderRole.choices)
    month = models.DateField(_("月份"))
    area_code = models.CharField(_("社区编码"), max_length=15)

    class Meta:
        verbose_name = _("部门月度统计")
        verbose_name_plural = _("部门月度统计")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "role", "month", "area_code"], name="deptmonth_unique"
            )
        ]
        indexes = [models.Index(fields=["month", "area_code"], name="deptmonth_month_area")]

    def __str__(self) -> str:
        return f"{self.department_id} {self.role} {self.month:%Y-%m}"


class DepartmentOpenStat(models.Model):
    """Active orders now per department, role and community, with the overdue ones (snapshot)."""

    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(_("角色"), max_length=12, choices=OrderRole.choices)
    area_code = models.CharField(_("社区编码"), max_length=15)
    active = models.PositiveIntegerField(_("在办"), default=0)
    overdue_report = models.PositiveIntegerField(_("超期未报到"), default=0)
    overdue_complete = models.PositiveIntegerField(_("超期未办结"), default=0)

    class Meta:
        verbose_name = _("部门在办快照")
        verbose_name_plural = _("部门在办快照")
        constraints = [
            models.UniqueConstraint(fields=["department", "role", "area_code"], name="deptopen_unique")
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.role} {self.area_code}"


class AlleyMonthActivity(models.Model):
    """The chiefs' patrols and visits of one alley in one month."""

    alley_code = models.CharField(_("街巷编码"), max_length=15)
    month = models.DateField(_("月份"))
    patrol_days = models.PositiveIntegerField(_("巡查天数"), default=0)
    patrol_logs = models.PositiveIntegerField(_("巡查记录"), default=0)
    visit_weeks = models.PositiveIntegerField(_("走访周数"), default=0)
    households_visited = models.PositiveIntegerField(_("走访户数"), default=0)

    class Meta:
        verbose_name = _("街巷月度巡查走访")
        verbose_name_plural = _("街巷月度巡查走访")
        constraints = [models.UniqueConstraint(fields=["alley_code", "month"], name="alleyactivity_unique")]
        indexes = [models.Index(fields=["month", "alley_code"], name="alleyactivity_month")]

    def __str__(self) -> str:
        return f"{self.alley_code} {self.month:%Y-%m}"


class RollupState(models.Model):
    """Where the rollups stand: when they were last refreshed and how far the change logs were read."""

    key = models.CharField(max_length=20, unique=True, default="main")
    refreshed_at = models.DateTimeField(_("数据更新于"), null=True, blank=True)
    full_at = models.DateTimeField(_("上次全量重算"), null=True, blank=True)
    # [{"at": iso, "event": id, "answer": id, "evaluation": id, "patrol": id}, …] for the last minutes.
    marks = models.JSONField(default=list)
    last_changed = models.PositiveIntegerField(_("上次更新案件数"), default=0)
    last_duration_ms = models.PositiveIntegerField(_("上次用时（毫秒）"), default=0)

    class Meta:
        verbose_name = _("统计刷新状态")
        verbose_name_plural = _("统计刷新状态")

    def __str__(self) -> str:
        return f"{self.key} {self.refreshed_at}"
