"""Deadline policies, the calendar overrides, whistles, dispatch orders, common issues, notifications."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import AreaLevel
from alleys.models import Area, Department
from alleys.people import Actor
from alleys.scoping import scope_for
from issues.models import Case, CaseEvent, CategoryClass

from .choices import (
    ACTIVE_ORDER_STATES,
    CalendarDayKind,
    ChannelKind,
    DeliveryState,
    ExtensionState,
    OrderRole,
    OrderState,
    TimeUnit,
)


class DeadlinePolicy(models.Model):
    """Time to accept and to resolve, per category class and tier."""

    category_class = models.ForeignKey(
        CategoryClass, verbose_name=_("事项分类"), on_delete=models.CASCADE, related_name="deadline_policies"
    )
    tier = models.CharField(_("层级"), max_length=16, choices=AreaLevel.choices)
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
    verify_days = models.PositiveIntegerField(_("核实时限（工作日）"), default=3)

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


class Whistle(models.Model):
    """A case passed one tier up, by a holder (吹哨) or by the sweep (超时上报): once per tier."""

    # whistle_once_per_tier (case, to_tier) serves lookups by case.
    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="whistles", db_index=False
    )
    from_tier = models.CharField(_("原层级"), max_length=16, choices=AreaLevel.choices)
    to_tier = models.CharField(_("上报至"), max_length=16, choices=AreaLevel.choices)
    reason = models.TextField(_("理由"))
    automatic = models.BooleanField(_("超时自动上报"), default=False)
    departments = models.ManyToManyField(
        Department, verbose_name=_("建议责任部门"), blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # whistle_actor (partial) serves it
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("吹哨记录")
        verbose_name_plural = _("吹哨记录")
        ordering = ["at"]
        indexes = [
            # Only deleting a user looks whistles up by actor (PROTECT); the sweep's automatic
            # whistles have none, and an index of NULLs would be written for each of them.
            models.Index(fields=["actor"], name="whistle_actor", condition=models.Q(actor__isnull=False)),
        ]
        constraints = [
            # Exactly once per case and tier, whatever runs twice.
            models.UniqueConstraint(fields=["case", "to_tier"], name="whistle_once_per_tier"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.from_tier}→{self.to_tier}"


class CommonIssueQuerySet(models.QuerySet["CommonIssue"]):
    """Common issues, scoped to the coordinating organisation department's territory."""

    def visible_to(self, user: Actor) -> CommonIssueQuerySet:
        scope = scope_for(user)
        if scope.is_global:
            return self
        q = scope.area_q("coordinator_area__code")
        for prefix in scope.area_prefixes:
            q |= Q(cases__alley__code__startswith=prefix)
        if scope.department_ids:
            q |= Q(orders__department_id__in=scope.department_ids)
        return self.filter(q).distinct()


class CommonIssue(models.Model):
    """Cases from several communities coordinated as one (共性问题), or a standing mechanism."""

    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    coordinator_area = models.ForeignKey(
        Area,
        verbose_name=_("协调组织部（区/市）"),
        on_delete=models.PROTECT,
        related_name="common_issues",
        limit_choices_to={"level__in": [AreaLevel.DISTRICT, AreaLevel.CITY]},
    )
    cases = models.ManyToManyField(Case, verbose_name=_("涉及案件"), blank=True, related_name="common_issues")
    is_long_term = models.BooleanField(_("长效机制"), default=False)
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("牵头部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cooperating_departments = models.ManyToManyField(
        Department, verbose_name=_("配合部门"), blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects = CommonIssueQuerySet.as_manager()

    class Meta:
        verbose_name = _("共性问题")
        verbose_name_plural = _("共性问题")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class DispatchOrderQuerySet(models.QuerySet["DispatchOrder"]):
    """Orders, scoped: a department sees its own; org departments and territory staff theirs."""

    def active(self) -> DispatchOrderQuerySet:
        return self.filter(state__in=ACTIVE_ORDER_STATES)

    def visible_to(self, user: Actor) -> DispatchOrderQuerySet:
        scope = scope_for(user)
        if scope.is_global:
            return self
        q = Q(department_id__in=scope.department_ids) | scope.area_q("dispatcher_area__code")
        for prefix in scope.area_prefixes:
            q |= Q(case__alley__code__startswith=prefix)
        if not scope.area_prefixes and not scope.department_ids:
            return self.none()
        return self.filter(q)


class DispatchOrder(models.Model):
    """An order (派单) from an organisation department to one department, lead or cooperating."""

    case = models.ForeignKey(
        Case, verbose_name=_("案件"), null=True, blank=True, on_delete=models.CASCADE, related_name="orders"
    )
    common_issue = models.ForeignKey(
        CommonIssue,
        verbose_name=_("共性问题"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="orders",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("承办部门"), on_delete=models.PROTECT, related_name="orders"
    )
    role = models.CharField(_("角色"), max_length=12, choices=OrderRole.choices, default=OrderRole.LEAD)
    dispatcher_area = models.ForeignKey(
        Area,
        verbose_name=_("派单组织部（区/市）"),
        on_delete=models.PROTECT,
        related_name="dispatched_orders",
    )
    state = models.CharField(
        _("状态"), max_length=12, choices=OrderState.choices, default=OrderState.DISPATCHED
    )
    instructions = models.TextField(_("派单要求"), blank=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("派单人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dispatched_at = models.DateTimeField(_("派单时间"), default=timezone.now)
    received_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    report_due = models.DateTimeField(_("报到期限"))
    reported_at = models.DateTimeField(_("报到时间"), null=True, blank=True)
    leader_name = models.CharField(_("分管负责人"), max_length=50, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    work_plan = models.TextField(_("工作方案"), blank=True)
    complete_due = models.DateTimeField(_("办结期限"))
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    completion_note = models.TextField(_("办结说明"), blank=True)
    rejection_reason = models.TextField(_("退单理由"), blank=True)
    deadline_provisional = models.BooleanField(
        _("期限待定"),
        default=False,
        help_text=_("期限涉及尚未公布节假日安排的年份，按法定节假日推算，公布后自动重算。"),
    )
    report_overdue_at = models.DateTimeField(_("报到超时标记"), null=True, blank=True)
    complete_overdue_at = models.DateTimeField(_("办结超时标记"), null=True, blank=True)
    replaced_by = models.ForeignKey(
        "self", verbose_name=_("改派为"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = DispatchOrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("派单")
        verbose_name_plural = _("派单")
        ordering = ["-dispatched_at", "-id"]
        indexes = [
            models.Index(
                fields=["report_due"],
                name="order_report_pending",
                condition=Q(reported_at__isnull=True, report_overdue_at__isnull=True),
            ),
            models.Index(
                fields=["complete_due"],
                name="order_complete_pending",
                condition=Q(completed_at__isnull=True, complete_overdue_at__isnull=True),
            ),
            models.Index(fields=["department", "state"], name="order_department_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(case__isnull=False) | Q(common_issue__isnull=False),
                name="order_has_case_or_common_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.get_role_display()} · {self.get_state_display()}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_ORDER_STATES

    @property
    def report_on_time(self) -> bool | None:
        if self.reported_at is None:
            return None
        return self.reported_at <= self.report_due


class ExtensionRequest(models.Model):
    """A department's request for more time: the community agrees, then the org department approves."""

    order = models.ForeignKey(
        DispatchOrder, verbose_name=_("派单"), on_delete=models.CASCADE, related_name="extensions"
    )
    reason = models.TextField(_("延期理由"))
    requested_due = models.DateTimeField(_("申请延至"))
    previous_due = models.DateTimeField(_("原办结期限"))
    state = models.CharField(
        _("状态"), max_length=20, choices=ExtensionState.choices, default=ExtensionState.PENDING_COMMUNITY
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    community_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("社区意见人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    community_decided_at = models.DateTimeField(_("社区意见时间"), null=True, blank=True)
    org_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    org_decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at"]
        constraints = [
            # One open request per order at a time (a second click is refused by the database too).
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(state__in=["pending_community", "pending_org"]),
                name="extension_one_open_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.requested_due:%Y-%m-%d}"

    def clean(self) -> None:
        if self.requested_due and self.previous_due and self.requested_due <= self.previous_due:
            raise ValidationError({"requested_due": _("延期后的期限必须晚于原期限。")})


class NotificationQuerySet(models.QuerySet["Notification"]):
    """A user's inbox."""

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def for_user(self, user: Actor) -> NotificationQuerySet:
        return self.filter(recipient_id=user.pk)


class Notification(models.Model):
    """One message in a staff member's in-app inbox."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # notification_inbox (recipient, read_at) serves it
    )
    case = models.ForeignKey(
        Case, verbose_name=_("案件"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    order = models.ForeignKey(
        DispatchOrder,
        verbose_name=_("派单"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The timeline event told (empty on messages written before it was recorded): with the
    # recipient it is unique, so a redelivered task cannot tell anyone the same thing twice.
    event = models.ForeignKey(
        CaseEvent,
        verbose_name=_("事件"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # notification_once_per_event (event, recipient) serves it
    )
    kind = models.CharField(_("类型"), max_length=32)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox")]
        constraints = [
            models.UniqueConstraint(fields=["event", "recipient"], name="notification_once_per_event")
        ]

    def __str__(self) -> str:
        return self.title


class NotificationChannel(models.Model):
    """An outgoing channel of a unit (area or department): email address or group-robot webhook."""

    area = models.ForeignKey(
        Area, verbose_name=_("区域"), null=True, blank=True, on_delete=models.CASCADE, related_name="channels"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="channels",
    )
    kind = models.CharField(_("类型"), max_length=10, choices=ChannelKind.choices)
    target = models.CharField(
        _("地址"), max_length=500, help_text=_("邮箱地址，或企业微信/钉钉群机器人的 Webhook URL。")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("通知渠道")
        verbose_name_plural = _("通知渠道")
        constraints = [
            models.CheckConstraint(
                condition=Q(area__isnull=False, department__isnull=True)
                | Q(area__isnull=True, department__isnull=False),
                name="channel_on_area_xor_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area or self.department} · {self.get_kind_display()}"


class NotificationDelivery(models.Model):
    """One attempt-tracked send of a message through a channel (idempotent: sent once)."""

    channel = models.ForeignKey(
        NotificationChannel, verbose_name=_("渠道"), on_delete=models.CASCADE, related_name="deliveries"
    )
    case = models.ForeignKey(
        Case, verbose_name=_("案件"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # As on Notification: one delivery per (event, channel), whatever the task's redeliveries.
    event = models.ForeignKey(
        CaseEvent,
        verbose_name=_("事件"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # delivery_once_per_event (event, channel) serves it
    )
    kind = models.CharField(_("类型"), max_length=32)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    # When the sweep sends it (again) if nobody has: a lost broker message, a worker killed
    # mid-send (the claim's lease) or a failure's back-off. Empty once sent or given up.
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知投递")
        verbose_name_plural = _("通知投递")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["event", "channel"], name="delivery_once_per_event")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_retry_due",
                condition=Q(next_attempt_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.get_state_display()}"


class NotificationOutbox(models.Model):
    """Timeline events whose inbox messages and deliveries are not written yet (the outbox).

    Written in the same transaction as the events, so a committed change always has either
    this row or its messages; the fan-out deletes the row in the transaction that writes the
    messages. Publishing the task after commit is only the fast path: the sweep publishes
    again whatever is still here at ``next_attempt_at`` (a flushed Redis, a killed worker).
    """

    event_ids = models.JSONField(_("事件"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("重发次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次重发"))

    class Meta:
        verbose_name = _("待发通知")
        verbose_name_plural = _("待发通知")
        ordering = ["next_attempt_at", "id"]
        indexes = [models.Index(fields=["next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.pk}: {len(self.event_ids or [])}"


class SystemAlert(models.Model):
    """A loud problem for administrators (e.g. the calendar does not know next year)."""

    key = models.CharField(_("标识"), max_length=100, unique=True)
    message = models.TextField(_("内容"))
    first_seen = models.DateTimeField(_("首次出现"), default=timezone.now)
    last_seen = models.DateTimeField(_("最近出现"), default=timezone.now)
    count = models.PositiveIntegerField(_("次数"), default=1)
    resolved_at = models.DateTimeField(_("已处理"), null=True, blank=True)

    class Meta:
        verbose_name = _("系统告警")
        verbose_name_plural = _("系统告警")
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return self.key
