"""The case, its timeline, photos, feedback and the chiefs' patrol logs."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import TIER_CHOICES as LEVEL_TIER_CHOICES
from alleys.choices import AreaLevel
from alleys.models import Area, Department
from alleys.people import Actor
from alleys.scoping import scope_for
from dispatch.deadlines import walks_predicted_days
from dispatch.models import CategoryType

from ..choices import (
    AWAITING_ANSWER_STATES,
    OPEN_STATES,
    CaseSource,
    CaseState,
    EventKind,
    FeedbackChannel,
    FeedbackSolved,
    Light,
    PatrolKind,
    PhotoKind,
    PhotoState,
    ReturnVisitChannel,
    Satisfaction,
    Urgency,
)
from ..deadline_state import case_due, overdue_q

# A case is held at a tier, never at a building (alleys.choices.TIER_CHOICES).
TIER_CHOICES = LEVEL_TIER_CHOICES


class CaseQuerySet(models.QuerySet["Case"]):
    """Cases with territorial and departmental scoping."""

    def open(self) -> CaseQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def visible_to(self, user: Actor) -> CaseQuerySet:
        """Cases in the user's territory, or dispatched to the user's department."""
        scope = scope_for(user)
        if scope.is_global:
            return self
        if scope.is_empty:
            return self.none()
        q: Any = scope.area_q("alley__code")
        if scope.building_codes:
            # A building head: the cases filed for their building (the alley's team sees them by the alley).
            q |= Q(building__code__in=scope.building_codes)
        if scope.department_ids:
            # DispatchOrder (issues/models/orders.py) is declared after Case; reach it by the relation.
            orders: Any = self.model._meta.get_field("orders").related_model
            q |= Exists(orders.objects.filter(case_id=OuterRef("pk"), department_id__in=scope.department_ids))
        return self.filter(q)

    def overdue(self, now: Any = None) -> CaseQuerySet:
        """Cases past their governing deadline (``issues.deadline_state``)."""
        return self.filter(overdue_q(now or timezone.now()))


def new_tracking_code() -> str:
    """A short code a resident can read out on the phone: no 0/O, 1/I/L."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(8))


class Case(models.Model):
    """A resident's problem (or one found on patrol) and where it stands in the chain."""

    # Unique through Meta.constraints (case_tracking_code_unique): a field's unique=True also
    # builds a second, pattern-ops index for LIKE that nothing here asks for, and every
    # insert and every escalation would write into it.
    tracking_code = models.CharField(_("查询码"), max_length=12, default=new_tracking_code, editable=False)
    source = models.CharField(
        _("来源"), max_length=20, choices=CaseSource.choices, default=CaseSource.RESIDENT_FORM
    )
    category = models.ForeignKey(
        CategoryType, verbose_name=_("事项类型"), on_delete=models.PROTECT, related_name="cases"
    )
    alley = models.ForeignKey(
        Area,
        verbose_name=_("街巷"),
        on_delete=models.PROTECT,
        related_name="cases",
        limit_choices_to={"level": AreaLevel.ALLEY},
        db_index=False,  # case_alley_created (alley, created_at) serves it
    )
    # Optional: where the alley has buildings (楼栋) and the reporter named one. The building lies
    # under the case's alley: checked by case_submit (a message) and, on PostgreSQL, by the
    # composite foreign key case_building_in_alley (migration issues/0019).
    building = models.ForeignKey(
        Area,
        verbose_name=_("楼栋"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="building_cases",
        limit_choices_to={"level": AreaLevel.BUILDING},
        db_index=False,  # case_building (partial) serves it
    )
    description = models.TextField(_("问题描述"))
    address_detail = models.CharField(_("详细位置"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    # Personal data: shown only to those handling the case, masked elsewhere, never logged.
    reporter_name = models.CharField(_("反映人姓名"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("反映人电话"), max_length=20, blank=True)
    consent_at = models.DateTimeField(_("同意个人信息使用时间"), null=True, blank=True)
    # The resident asked for an SMS at each step (accepted, escalated, resolved, closed); only a
    # mobile number receives one (issues.resident_sms).
    sms_opt_in = models.BooleanField(_("短信通知办理进展"), default=False)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)

    state = models.CharField(_("状态"), max_length=24, choices=CaseState.choices, default=CaseState.SUBMITTED)
    tier = models.CharField(_("当前层级"), max_length=16, choices=TIER_CHOICES, default=AreaLevel.ALLEY)
    holder_area = models.ForeignKey(
        Area,
        verbose_name=_("当前责任单位"),
        on_delete=models.PROTECT,
        related_name="held_cases",
        db_index=False,  # case_holder_state (holder_area, state) serves it
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("牵头部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_cases",
        db_index=False,  # case_lead_department (partial) serves it
    )
    tier_entered_at = models.DateTimeField(_("进入本层级时间"), default=timezone.now)
    accept_due = models.DateTimeField(_("受理期限"), null=True, blank=True)
    resolve_due = models.DateTimeField(_("办结期限"), null=True, blank=True)
    # The community's deadline to verify a reported fix (set on resolve; OrderSettings.verify_days).
    verify_due = models.DateTimeField(_("核实期限"), null=True, blank=True)
    # The deadline that escalates the case if missed (null when orders or verification govern).
    escalation_due = models.DateTimeField(_("超时上报时间"), null=True, blank=True)
    # When the holder gets the "deadline near" warning (null once sent, or none due).
    warn_at = models.DateTimeField(_("临期提醒时间"), null=True, blank=True)
    deadline_provisional = models.BooleanField(
        _("期限待定"),
        default=False,
        help_text=_("期限涉及尚未公布节假日安排的年份，按法定节假日推算，公布后自动重算。"),
    )
    supervised = models.BooleanField(_("督办"), default=False)
    # One person of the holding unit who works on the case (由我处理, or assigned by a colleague);
    # cleared whenever the case moves to another unit (issues.workflow.placement, the sweep's escalation).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # case_assignee (partial) serves it
    )
    chase_count = models.PositiveIntegerField(_("催办次数"), default=0)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并到"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
        db_index=False,  # case_merged_into (partial) serves it
    )
    rejection_reason = models.TextField(_("不予受理理由"), blank=True)
    resolved_tier = models.CharField(_("办结层级"), max_length=16, choices=TIER_CHOICES, blank=True)
    reopen_count = models.PositiveIntegerField(_("重办次数"), default=0)
    feedback_round = models.PositiveIntegerField(_("评价轮次"), default=1)
    patrol = models.ForeignKey(
        "PatrolLog",
        verbose_name=_("发现于巡查/走访"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,  # case_patrol (partial) serves it
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # case_created_by (partial) serves it
    )
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("诉求案件")
        verbose_name_plural = _("诉求案件")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep's two range scans touch only cases that can still move.
            models.Index(
                fields=["escalation_due"],
                name="case_escalation_due_open",
                # The state too: the sweep's claim then reads this index in deadline order
                # and stops after one batch (without it the planner intersects two indexes
                # and sorts every due row, once per batch).
                condition=Q(escalation_due__isnull=False, state__in=sorted(OPEN_STATES)),
            ),
            models.Index(fields=["warn_at"], name="case_warn_at_pending", condition=Q(warn_at__isnull=False)),
            models.Index(
                fields=["resolve_due"],
                name="case_open_by_deadline",
                condition=Q(state__in=sorted(OPEN_STATES)),
            ),
            models.Index(
                fields=["verify_due"],
                name="case_awaiting_verification",
                condition=Q(state="awaiting_verification"),
            ),
            models.Index(fields=["holder_area", "state"], name="case_holder_state"),
            models.Index(fields=["alley", "created_at"], name="case_alley_created"),
            # 我的反映 (/mine/): a verified number's cases, newest first; most cases have a number.
            models.Index(
                fields=["reporter_phone", "-created_at"],
                name="case_reporter_phone",
                condition=~Q(reporter_phone=""),
            ),
            models.Index(
                fields=["verified_at"], name="case_awaiting_feedback", condition=Q(state="awaiting_feedback")
            ),
            # Foreign keys most cases leave empty index only the cases that have them. An
            # escalation rewrites the row in every index (its indexed columns change), and a
            # full index on one of these holds an entry for every NULL too.
            *(
                models.Index(fields=[name], name=f"case_{name}", condition=Q(**{f"{name}__isnull": False}))
                for name in ("lead_department", "merged_into", "patrol", "created_by", "assignee", "building")
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tracking_code"], name="case_tracking_code_unique"),
            models.CheckConstraint(
                condition=~Q(state=CaseState.MERGED) | Q(merged_into__isnull=False),
                name="case_merged_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_code} {self.category.name if self.category_id else ''}".strip()

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def light(self) -> str:
        """The Jilin light the resident sees."""
        if self.state in (CaseState.SUBMITTED,):
            return Light.GREY
        if self.state in (CaseState.ACCEPTED, CaseState.IN_PROGRESS, CaseState.REOPENED):
            return Light.YELLOW
        if self.state == CaseState.AWAITING_VERIFICATION:
            return Light.GREEN
        if self.state in AWAITING_ANSWER_STATES:
            return Light.ORANGE
        return Light.DONE

    @property
    def public_state(self) -> str:
        """The state as the residents' pages and Open311 name it.

        While the resident's answer is awaited (their own, or the community's return visit) it
        is the orange light, named as in Jilin: the resident need not tell the two apart.
        """
        if self.state in AWAITING_ANSWER_STATES:
            return str(Light.ORANGE.label)
        return str(self.get_state_display())

    def walked_predicted_days(self, due: dt.datetime | None) -> bool:
        """Whether ``due``, one of the case's deadlines, is provisional: ``deadline_provisional`` says
        that some deadline counted from ``tier_entered_at`` walked a predicted day; this asks of one.
        """
        return bool(self.deadline_provisional and due and walks_predicted_days(self.tier_entered_at, due))

    @property
    def accept_due_provisional(self) -> bool:
        return self.walked_predicted_days(self.accept_due)

    @property
    def resolve_due_provisional(self) -> bool:
        return self.walked_predicted_days(self.resolve_due)

    @property
    def current_due(self) -> Any:
        """The deadline that governs now (``issues.deadline_state``): accept, resolve or verify; else None."""
        due = case_due(self, timezone.now())
        return due.due if due else None

    def clean(self) -> None:
        if self.alley_id and self.alley.level != AreaLevel.ALLEY:
            raise ValidationError({"alley": _("请选择街巷/网格一级的区域。")})
        building = self.building if self.building_id else None
        if building is not None and (
            building.level != AreaLevel.BUILDING or building.parent_id != self.alley_id
        ):
            raise ValidationError({"building": _("所选楼栋不在该街巷内。")})


class CaseEvent(models.Model):
    """One immutable line of a case's timeline (the audit trail)."""

    # event_case_at (case, at) serves lookups by case: one index fewer to write per event.
    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="events", db_index=False
    )
    # Read by case (event_case_at) and by id range (the roll-ups), never by time alone: no index
    # of its own, which every event (ten thousand in a mass escalation) would write into.
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # event_actor, partial: system and residents' events have no actor
    )
    actor_label = models.CharField(
        _("操作单位"), max_length=100, blank=True, help_text=_("对群众显示的单位名，不显示个人。")
    )
    kind = models.CharField(_("事件"), max_length=32, choices=EventKind.choices)
    from_state = models.CharField(_("原状态"), max_length=24, choices=CaseState.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=24, choices=CaseState.choices, blank=True)
    from_tier = models.CharField(_("原层级"), max_length=16, choices=TIER_CHOICES, blank=True)
    to_tier = models.CharField(_("新层级"), max_length=16, choices=TIER_CHOICES, blank=True)
    note = models.TextField(_("说明"), blank=True)
    public = models.BooleanField(_("对群众公开"), default=True)
    data = models.JSONField(_("附加数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="event_case_at"),
            # Only deleting a user looks events up by actor (PROTECT); most events (the sweep's,
            # the residents') have none, and an index of NULLs would be written for each of them.
            models.Index(fields=["actor"], name="event_actor", condition=Q(actor__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError(_("办理记录不可修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError(_("办理记录不可删除。"))


def photo_path(instance: CasePhoto, filename: str) -> str:
    stamp = timezone.now().strftime("%Y/%m")
    return f"cases/{stamp}/{secrets.token_hex(12)}.jpg"


def thumbnail_path(instance: CasePhoto, filename: str) -> str:
    stamp = timezone.now().strftime("%Y/%m")
    return f"thumbs/{stamp}/{secrets.token_hex(12)}.jpg"


def upload_path(instance: CasePhoto, filename: str) -> str:
    # The raw upload, kept only until it is processed; no URL serves MEDIA_ROOT (settings).
    stamp = timezone.now().strftime("%Y/%m")
    return f"uploads/{stamp}/{secrets.token_hex(12)}.bin"


class CasePhotoQuerySet(models.QuerySet["CasePhoto"]):
    """Which photos may be shown where (issues.photos: processed first, then public if staff say so)."""

    def processed(self) -> CasePhotoQuerySet:
        return self.filter(state=PhotoState.READY)

    def public(self) -> CasePhotoQuerySet:
        """What anyone may see: processed, and marked public by staff."""
        return self.filter(state=PhotoState.READY, is_public=True)


class CasePhoto(models.Model):
    """A photo of the problem or of the fix; re-encoded by a task after upload, public only when staff say so."""

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(
        CaseEvent,
        verbose_name=_("所属记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="photos",
    )
    kind = models.CharField(_("类型"), max_length=10, choices=PhotoKind.choices, default=PhotoKind.REPORT)
    # Empty until processed (``state``); then the re-encoded JPEG without metadata.
    image = models.ImageField(
        _("图片"), upload_to=photo_path, width_field="width", height_field="height", blank=True
    )
    thumbnail = models.FileField(_("缩略图"), upload_to=thumbnail_path, blank=True, editable=False)
    # The upload as it came, checked only at its header: never shown, deleted once processed.
    upload = models.FileField(_("原始上传"), upload_to=upload_path, blank=True, editable=False)
    state = models.CharField(
        _("处理状态"), max_length=12, choices=PhotoState.choices, default=PhotoState.PENDING
    )
    # When its processing task was last published: the sweep publishes it again when this is old.
    queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    failure = models.CharField(_("处理失败原因"), max_length=200, blank=True, editable=False)
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    is_public = models.BooleanField(
        _("可公开"), default=False, help_text=_("确认照片中没有人脸、门牌等个人信息后再公开。")
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    objects = CasePhotoQuerySet.as_manager()

    class Meta:
        verbose_name = _("照片")
        verbose_name_plural = _("照片")
        ordering = ["created_at", "id"]
        indexes = [
            # The sweep's relay looks for photos left pending; almost none are, so the index is tiny.
            models.Index(fields=["queued_at"], name="photo_pending", condition=Q(state=PhotoState.PENDING)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()}"

    @property
    def is_processed(self) -> bool:
        return self.state == PhotoState.READY


class Feedback(models.Model):
    """The reporter's answer (or a return call): solved? satisfied? One per resolution round."""

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="feedbacks")
    round = models.PositiveIntegerField(_("轮次"), default=1)
    solved = models.CharField(_("是否解决"), max_length=12, choices=FeedbackSolved.choices)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices)
    comment = models.TextField(_("意见"), blank=True)
    channel = models.CharField(
        _("方式"), max_length=12, choices=FeedbackChannel.choices, default=FeedbackChannel.RESIDENT
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("评价时间"), default=timezone.now)

    class Meta:
        verbose_name = _("群众评价")
        verbose_name_plural = _("群众评价")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["case", "round"], name="feedback_once_per_round")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_solved_display()} {self.get_satisfaction_display()}"


class ReturnVisitQuerySet(models.QuerySet["ReturnVisit"]):
    """Return visits, scoped like their cases."""

    def visible_to(self, user: Actor) -> ReturnVisitQuerySet:
        return self.filter(case__in=Case.objects.visible_to(user))


class ReturnVisit(models.Model):
    """One attempt of the community to reach the resident before the case closes (回访; Jilin's orange light).

    Written only by ``issues.workflow.case_return_visit``. A reached attempt records the
    resident's answer as the round's ``Feedback`` (so rates count it like the resident's own);
    a failed one counts towards ``JXT_RETURN_VISIT_ATTEMPTS``, after which the case closes unrated.
    """

    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="return_visits", db_index=False
    )
    round = models.PositiveIntegerField(_("轮次"), help_text=_("案件的评价轮次：重新办理后回访重新计数。"))
    channel = models.CharField(_("回访方式"), max_length=12, choices=ReturnVisitChannel.choices)
    visited_at = models.DateTimeField(_("回访时间"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回访人"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # only deleting a user looks it up; PROTECT keeps the record's author
    )
    reached = models.BooleanField(_("联系上反映人"))
    words = models.TextField(_("群众原话"), blank=True, help_text=_("只在工作人员页面显示，不公开。"))
    note = models.TextField(_("情况说明"), blank=True, help_text=_("如无人接听、关机、不在家。"))
    feedback = models.OneToOneField(
        Feedback,
        verbose_name=_("登记的评价"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="return_visit",
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    objects = ReturnVisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["visited_at", "id"]
        indexes = [models.Index(fields=["case", "round"], name="return_visit_case_round")]
        constraints = [
            # A reached visit carries the answer; a failed one none.
            models.CheckConstraint(
                condition=Q(reached=True, feedback__isnull=False) | Q(reached=False, feedback__isnull=True),
                name="return_visit_answer_iff_reached",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_channel_display()} {self.visited_at:%Y-%m-%d %H:%M}"


class PatrolLogQuerySet(models.QuerySet["PatrolLog"]):
    """Patrol logs, scoped to the user's territory."""

    def visible_to(self, user: Actor) -> PatrolLogQuerySet:
        return self.filter(scope_for(user).area_q("alley__code"))


class PatrolLog(models.Model):
    """A chief's daily patrol (日巡查) or weekly visit (周走访) of one alley."""

    kind = models.CharField(_("类型"), max_length=10, choices=PatrolKind.choices, default=PatrolKind.PATROL)
    chief = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("巷长"), on_delete=models.PROTECT, related_name="patrols"
    )
    alley = models.ForeignKey(
        Area,
        verbose_name=_("街巷"),
        on_delete=models.PROTECT,
        related_name="patrols",
        limit_choices_to={"level": AreaLevel.ALLEY},
    )
    date = models.DateField(_("日期"), help_text=_("走访记录按所在周的周一记。"))
    checked = models.JSONField(_("检查项目"), default=list, blank=True)
    households_visited = models.PositiveIntegerField(_("走访户数"), default=0)
    notes = models.TextField(_("情况记录"), blank=True)
    expense_yuan = models.DecimalField(_("工作经费（元）"), max_digits=8, decimal_places=2, default=0)
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    objects = PatrolLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("巡查走访记录")
        verbose_name_plural = _("巡查走访记录")
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["chief", "alley", "kind", "date"], name="patrol_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.alley} {self.get_kind_display()} {self.date}"


class Submission(models.Model):
    """A submission's idempotency key and the case it filed: a repeat of the key gets that case back.

    The residents' form carries a one-time key in each rendering (a double tap, a reload or a
    back-and-resubmit sends it again); an Open311 client's key is its identical request within
    a short window. The unique key makes two concurrent repeats one case on every database.
    Kept ``JXT_SUBMISSION_KEEP_DAYS`` days, then pruned by the sweep.
    """

    key = models.CharField(_("提交标识"), max_length=80, unique=True)
    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("提交时间"), db_index=True)

    class Meta:
        verbose_name = _("提交记录")
        verbose_name_plural = _("提交记录")

    def __str__(self) -> str:
        return self.key


class ApiClient(models.Model):
    """An integration (hotline system, mini-program, Open311 client) with its key and scope."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    key_prefix = models.CharField(_("密钥前缀"), max_length=8, editable=False, db_index=True)
    key_hash = models.CharField(_("密钥摘要"), max_length=128, editable=False)
    area = models.ForeignKey(
        Area,
        verbose_name=_("服务区域"),
        on_delete=models.PROTECT,
        related_name="api_clients",
        help_text=_("该客户端可提交和查询的区域范围。"),
    )
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("服务账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="api_client",
        help_text=_("REST 接口以该账号的角色和范围访问；Open311 只用区域范围。"),
    )
    can_write = models.BooleanField(_("可提交诉求"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)
    contact = models.CharField(_("对接联系人"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("对接客户端")
        verbose_name_plural = _("对接客户端")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_key(raw: str) -> str:
        import hashlib

        return hashlib.sha256(raw.encode()).hexdigest()

    def set_new_key(self) -> str:
        """Generate, store (hashed) and return a new key; the raw key is shown once."""
        raw = secrets.token_urlsafe(32)
        self.key_prefix = raw[:8]
        self.key_hash = self.hash_key(raw)
        return raw

    @classmethod
    def authenticate(cls, raw: str) -> ApiClient | None:
        """The active client whose key is ``raw`` (with its area and service user), else None.

        Keys are 32 random bytes, so one SHA-256 digest compared in constant time is sound (a
        slow password hash protects guessable secrets).
        """
        if not raw or len(raw) < 16:
            return None
        digest = cls.hash_key(raw)
        prefix = raw[:8]
        # The prefix is only an index: two keys may share it, so every candidate is compared.
        rows = cls.objects.filter(key_prefix=prefix, is_active=True).select_related("area", "service_user")
        for client in rows:
            if secrets.compare_digest(client.key_hash, digest):
                return client
        return None
