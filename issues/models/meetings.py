"""Joint meetings (联席会议), their agendas and decisions, and the standing mechanisms (长效机制) they make.

Ma'anshan: a community's hard items go to its quarterly Party-building joint meeting, then to
the street; what district departments cannot solve goes to the city after the district's
meeting; long-term items end in a standing mechanism "fixed in a document". Quanzhou runs
street–community two-level joint meetings. The writes are services in
``issues.workflow.meetings`` and ``issues.workflow.mechanisms``.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import AreaLevel
from alleys.models import Area, Department, ancestor_codes
from alleys.people import Actor
from alleys.scoping import scope_for
from dispatch.models import CategoryClass, CategoryType

from ..choices import AgendaState, Decision, MeetingState
from .cases import Case
from .orders import CommonIssue

# The levels that hold joint meetings: the community (quarterly), the street, the district (its
# committee's meeting before anything goes to the city) and the city. Alleys have none.
MEETING_LEVELS: tuple[str, ...] = (AreaLevel.COMMUNITY, AreaLevel.STREET, AreaLevel.DISTRICT, AreaLevel.CITY)


def document_path(instance: Any, filename: str) -> str:
    """A random name under documents/ with the extension the content was checked to be.

    Never the uploader's name (it is kept in ``name`` for the download): nothing typed reaches the
    file system, and no URL can be guessed (files are served by permission-checked views only).
    """
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    stamp = timezone.now().strftime("%Y/%m")
    return f"documents/{stamp}/{secrets.token_hex(12)}.{extension}"


def _meeting_scope_q(user: Actor) -> Any:
    """Who sees a meeting (None: everyone, a superuser).

    The unit's own staff and the tiers above it (the meeting's area lies in their territory);
    the units recorded present (a community at its street's meeting); the departments present
    or named in one of its decisions.
    """
    scope = scope_for(user)
    if scope.is_global:
        return None
    if scope.is_empty:
        return Q(pk__in=[])
    q: Any = scope.area_q("area__code") if scope.area_prefixes else Q(pk__in=[])
    present = JointMeeting.present_areas.through.objects.filter(jointmeeting_id=OuterRef("pk"))
    for prefix in scope.area_prefixes:
        q |= Exists(present.filter(area__code__startswith=prefix))
    if scope.department_ids:
        departments = sorted(scope.department_ids)
        attended = JointMeeting.present_departments.through.objects.filter(
            jointmeeting_id=OuterRef("pk"), department_id__in=departments
        )
        named = AgendaItem.departments.through.objects.filter(
            agendaitem__meeting_id=OuterRef("pk"), department_id__in=departments
        )
        q |= Exists(attended) | Exists(named)
    return q


class JointMeetingQuerySet(models.QuerySet["JointMeeting"]):
    """Joint meetings, scoped to who may see them (``_meeting_scope_q``)."""

    def visible_to(self, user: Actor) -> JointMeetingQuerySet:
        q = _meeting_scope_q(user)
        return self if q is None else self.filter(q)


class JointMeeting(models.Model):
    """A joint meeting (联席会议) of a community, street, district or city: who came, its agenda and minutes."""

    area = models.ForeignKey(
        Area,
        verbose_name=_("召开单位"),
        on_delete=models.PROTECT,
        related_name="joint_meetings",
        limit_choices_to={"level__in": MEETING_LEVELS},
        help_text=_("会议所属的社区、街道、区或市；会议层级即其层级。"),
    )
    title = models.CharField(_("会议名称"), max_length=200)
    date = models.DateField(_("会议日期"))
    state = models.CharField(
        _("状态"), max_length=12, choices=MeetingState.choices, default=MeetingState.PLANNED
    )
    present_departments = models.ManyToManyField(
        Department, verbose_name=_("出席部门"), blank=True, related_name="+"
    )
    present_areas = models.ManyToManyField(
        Area, verbose_name=_("出席单位（社区、街道）"), blank=True, related_name="+"
    )
    attendees = models.TextField(_("出席人员"), blank=True, help_text=_("其他出席人员或单位，自由填写。"))
    minutes = models.TextField(_("会议纪要"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("拟定人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("拟定时间"), default=timezone.now)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    held_at = models.DateTimeField(_("登记召开时间"), null=True, blank=True)

    objects = JointMeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("联席会议")
        verbose_name_plural = _("联席会议")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["area", "date"], name="meeting_area_date")]

    def __str__(self) -> str:
        return self.title

    @property
    def level(self) -> str:
        """The meeting's level: its area's."""
        return str(self.area.level)

    def get_level_display(self) -> str:
        return str(AreaLevel(self.area.level).label)


class AgendaItem(models.Model):
    """One item of a meeting's agenda (a case or a common issue) and the one decision taken on it."""

    meeting = models.ForeignKey(
        JointMeeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="items"
    )
    position = models.PositiveIntegerField(_("序号"), default=0)
    case = models.ForeignKey(
        Case,
        verbose_name=_("案件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agenda_items",
    )
    common_issue = models.ForeignKey(
        CommonIssue,
        verbose_name=_("共性问题"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agenda_items",
    )
    grounds = models.JSONField(_("列入理由"), default=list, blank=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=AgendaState.choices, default=AgendaState.PENDING
    )
    decision = models.CharField(_("决定"), max_length=16, choices=Decision.choices, blank=True)
    assignments = models.TextField(
        _("分工"), blank=True, help_text=_("就地解决时：由谁负责做什么、何时完成。")
    )
    departments = models.ManyToManyField(Department, verbose_name=_("点名部门"), blank=True, related_name="+")
    note = models.TextField(_("说明"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("会议议题")
        verbose_name_plural = _("会议议题")
        ordering = ["meeting", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(case__isnull=False, common_issue__isnull=True)
                | Q(case__isnull=True, common_issue__isnull=False),
                name="agenda_case_xor_common_issue",
            ),
            models.UniqueConstraint(
                fields=["meeting", "case"], condition=Q(case__isnull=False), name="agenda_case_once"
            ),
            models.UniqueConstraint(
                fields=["meeting", "common_issue"],
                condition=Q(common_issue__isnull=False),
                name="agenda_common_issue_once",
            ),
            # One decision per item: decided exactly when a decision is recorded.
            models.CheckConstraint(
                condition=Q(state=AgendaState.PENDING, decision="")
                | (Q(state=AgendaState.DECIDED) & ~Q(decision="")),
                name="agenda_decided_has_decision",
            ),
        ]

    def __str__(self) -> str:
        subject = self.case or self.common_issue
        return f"{self.meeting_id} · {subject}"


class MeetingAttachment(models.Model):
    """A file of a meeting (minutes as signed, sign-in sheet, photos): checked by content, served privately."""

    meeting = models.ForeignKey(
        JointMeeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("文件"), upload_to=document_path, max_length=200)
    name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("会议附件")
        verbose_name_plural = _("会议附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class StandingMechanismQuerySet(models.QuerySet["StandingMechanism"]):
    """Standing mechanisms, scoped by territory and department."""

    def visible_to(self, user: Actor) -> StandingMechanismQuerySet:
        """Mechanisms of the user's territory, those that apply to it (made by a unit above it), and
        those of the user's departments (owner or cooperating)."""
        scope = scope_for(user)
        if scope.is_global:
            return self
        if scope.is_empty:
            return self.none()
        q: Any = scope.area_q("area__code") if scope.area_prefixes else Q(pk__in=[])
        above = {code for prefix in scope.area_prefixes for code in ancestor_codes(prefix)}
        if above:
            q |= Q(area__code__in=sorted(above))
        if scope.department_ids:
            departments = sorted(scope.department_ids)
            cooperating = StandingMechanism.cooperating_departments.through.objects.filter(
                standingmechanism_id=OuterRef("pk"), department_id__in=departments
            )
            q |= Q(owner_department_id__in=departments) | Exists(cooperating)
        return self.filter(q)


class StandingMechanism(models.Model):
    """A standing mechanism (长效机制): a class of problem, its owner department, the document that fixes it, its reviews."""

    title = models.CharField(_("名称"), max_length=200)
    description = models.TextField(_("主要内容"), blank=True)
    area = models.ForeignKey(
        Area,
        verbose_name=_("建立单位"),
        on_delete=models.PROTECT,
        related_name="standing_mechanisms",
        help_text=_("作出决定的联席会议所属的社区、街道、区或市；机制适用于其辖区。"),
    )
    category_type = models.ForeignKey(
        CategoryType,
        verbose_name=_("事项类型"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    category_class = models.ForeignKey(
        CategoryClass,
        verbose_name=_("事项分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner_department = models.ForeignKey(
        Department, verbose_name=_("牵头责任部门"), on_delete=models.PROTECT, related_name="+"
    )
    cooperating_departments = models.ManyToManyField(
        Department, verbose_name=_("配合部门"), blank=True, related_name="+"
    )
    document_title = models.CharField(_("文件名称"), max_length=200, blank=True)
    document_number = models.CharField(_("文号"), max_length=100, blank=True)
    document = models.FileField(_("文件"), upload_to=document_path, max_length=200, blank=True)
    document_name = models.CharField(_("文件名"), max_length=120, blank=True)
    document_content_type = models.CharField(_("文件类型"), max_length=100, blank=True)
    document_size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    common_issue = models.ForeignKey(
        CommonIssue,
        verbose_name=_("来源共性问题"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mechanisms",
    )
    cases = models.ManyToManyField(Case, verbose_name=_("来源案件"), blank=True, related_name="mechanisms")
    decision = models.OneToOneField(
        AgendaItem,
        verbose_name=_("会议决定"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mechanism",
    )
    is_active = models.BooleanField(_("有效"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("建立时间"), default=timezone.now)

    objects = StandingMechanismQuerySet.as_manager()

    class Meta:
        verbose_name = _("长效机制")
        verbose_name_plural = _("长效机制")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The problem class: one type, or one whole class (A/B/C/D).
            models.CheckConstraint(
                condition=Q(category_type__isnull=False, category_class__isnull=True)
                | Q(category_type__isnull=True, category_class__isnull=False),
                name="mechanism_type_xor_class",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def problem_label(self) -> str:
        """The class of problem it covers: a type, or a whole class."""
        return str(self.category_type or self.category_class or "")


class MechanismReview(models.Model):
    """A review date of a standing mechanism: the owner department is reminded on it, then records the review."""

    mechanism = models.ForeignKey(
        StandingMechanism, verbose_name=_("长效机制"), on_delete=models.CASCADE, related_name="reviews"
    )
    due_on = models.DateField(_("复核日期"))
    reminded_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("复核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("复核情况"), blank=True)

    class Meta:
        verbose_name = _("长效机制复核")
        verbose_name_plural = _("长效机制复核")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["mechanism", "due_on"], name="mechanism_review_once_per_day"),
        ]
        indexes = [
            # The daily reminder's range scan: reviews due and neither reminded nor done.
            models.Index(
                fields=["due_on"],
                name="mechanism_review_to_remind",
                condition=Q(reminded_at__isnull=True, done_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mechanism_id} · {self.due_on}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
