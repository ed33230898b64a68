"""Where a case goes and by when: categories and their classes, deadline policies, calendar overrides."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from alleys.choices import TIER_CHOICES as LEVEL_TIER_CHOICES
from alleys.choices import ServiceKind
from alleys.models import Department

from .choices import CalendarDayKind, TimeUnit

# Tiers only: a building is never a tier (alleys.choices.TIER_CHOICES).
TIER_CHOICES = LEVEL_TIER_CHOICES


class CategoryClass(models.Model):
    """A difficulty class (A/B/C/D) with the highest tier its cases climb to by themselves.

    Every report starts with the alley's team (``dispatch.chain.START_TIER``); the class
    sets how high a missed deadline escalates it ("小事不出社区、大事不出街道"), the
    deadlines at each tier (``DeadlinePolicy``), and, through its types, who is alerted at once.
    """

    code = models.CharField(_("分类代码"), max_length=1, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    description = models.TextField(_("说明"), blank=True)
    top_tier = models.CharField(
        _("最高办理层级"),
        max_length=16,
        choices=TIER_CHOICES,
        help_text=_("超过期限时自动上报最高到这一层级，在此层级超期则自动督办；更高层级须由工作人员吹哨。"),
    )

    class Meta:
        verbose_name = _("事项分类")
        verbose_name_plural = _("事项分类")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CategoryType(models.Model):
    """One type of matter (路灯不亮, 占道经营, …) with its defaults."""

    code = models.CharField(_("事项编码"), max_length=16, unique=True)
    name = models.CharField(_("事项名称"), max_length=50)
    category_class = models.ForeignKey(
        CategoryClass, verbose_name=_("分类"), on_delete=models.PROTECT, related_name="types"
    )
    top_tier = models.CharField(
        _("最高办理层级"),
        max_length=16,
        choices=TIER_CHOICES,
        blank=True,
        help_text=_("留空则按分类的最高办理层级。"),
    )
    alert_tier = models.CharField(
        _("立即告知至"),
        max_length=16,
        choices=TIER_CHOICES,
        blank=True,
        help_text=_(
            "群众反映后立即告知社区直至这一层级的单位（例如危房、消防隐患告知社区和街道）；"
            "留空则不提前告知。标为紧急的反映至少告知社区。"
        ),
    )
    default_department_role = models.CharField(
        _("默认责任部门（职能）"),
        max_length=16,
        blank=True,
        help_text=_("部门的职能简称，例如 cg（城管）；派单时取案件所在区的对应部门。"),
    )
    departments = models.ManyToManyField(
        Department, verbose_name=_("责任部门（权责清单）"), blank=True, related_name="categories"
    )
    service_kind = models.CharField(_("对口服务队员"), max_length=20, choices=ServiceKind.choices, blank=True)
    accept_hours = models.PositiveIntegerField(
        _("受理时限（工作小时）"), null=True, blank=True, help_text=_("留空则按时限策略。")
    )
    resolve_hours = models.PositiveIntegerField(
        _("办结时限（工作小时）"), null=True, blank=True, help_text=_("留空则按时限策略。")
    )
    needs_contact = models.BooleanField(_("必须留联系方式"), default=False)
    fix_photo_required = models.BooleanField(_("办结需整改照片"), default=True)
    common = models.BooleanField(_("居民表单常用"), default=False)
    icon = models.CharField(_("图标"), max_length=20, default="other")
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("事项类型")
        verbose_name_plural = _("事项类型")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def highest_tier(self) -> str:
        """The tier a missed deadline escalates this type's cases to at most."""
        return self.top_tier or self.category_class.top_tier


class DeadlinePolicy(models.Model):
    """Time to accept and to resolve, per category class and tier."""

    category_class = models.ForeignKey(
        CategoryClass, verbose_name=_("事项分类"), on_delete=models.CASCADE, related_name="deadline_policies"
    )
    tier = models.CharField(_("层级"), max_length=16, choices=TIER_CHOICES)
    accept_value = models.PositiveIntegerField(_("受理时限"))
    accept_unit = models.CharField(
        _("受理时限单位"), max_length=8, choices=TimeUnit.choices, default=TimeUnit.HOURS
    )
    resolve_value = models.PositiveIntegerField(_("办结时限"))
    resolve_unit = models.CharField(
        _("办结时限单位"), max_length=8, choices=TimeUnit.choices, default=TimeUnit.DAYS
    )

    class Meta:
        verbose_name = _("时限策略")
        verbose_name_plural = _("时限策略")
        ordering = ["category_class__code", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["category_class", "tier"], name="policy_unique_class_tier")
        ]

    def __str__(self) -> str:
        return f"{self.category_class.code} · {self.get_tier_display()}"


class OrderSettings(models.Model):
    """Department-order defaults (one row): report within a week, complete within a quarter."""

    report_days = models.PositiveIntegerField(_("报到时限（工作日）"), default=5)
    complete_days = models.PositiveIntegerField(_("办结时限（工作日）"), default=60)
    verify_days = models.PositiveIntegerField(
        _("核实时限（工作日）"),
        default=3,
        help_text=_("责任单位报告办结后，社区核实整改结果的时限；超期记在社区。"),
    )
    consult_days = models.PositiveIntegerField(
        _("派单前征求意见答复时限（工作日）"),
        default=1,
        help_text=_("期限内等待部门答复；期限过后未答复的不影响派单。"),
    )

    class Meta:
        verbose_name = _("派单时限设置")
        verbose_name_plural = _("派单时限设置")

    def __str__(self) -> str:
        return str(_("派单时限设置"))

    @classmethod
    def current(cls) -> OrderSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class CalendarYear(models.Model):
    """A year whose holidays the admin has entered by hand (beyond the package's data)."""

    year = models.PositiveIntegerField(_("年份"), unique=True)
    note = models.CharField(
        _("依据"), max_length=200, help_text=_("例如：国务院办公厅关于某年部分节假日安排的通知")
    )

    class Meta:
        verbose_name = _("手工维护的日历年份")
        verbose_name_plural = _("手工维护的日历年份")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """An override of one day: an extra holiday or an extra (make-up) workday."""

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=CalendarDayKind.choices)
    name = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("日历调整")
        verbose_name_plural = _("日历调整")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"
