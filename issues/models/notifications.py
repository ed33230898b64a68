"""The inbox, units' channels, deliveries, the notification outbox and system alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.models import Area, Department
from alleys.people import Actor

from ..choices import (
    ChannelKind,
    DeliveryState,
    ResidentSmsState,
)
from .cases import Case, CaseEvent
from .orders import DispatchOrder


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


class ResidentSms(models.Model):
    """One SMS to the resident who reported a case and asked for them (``Case.sms_opt_in``).

    One per (event, case), unique in the database: a redelivered fan-out cannot send the same
    step twice. Neither the number nor the text is stored (the text carries the tracking link,
    the case has the number); both are read when it is sent (``issues.resident_sms``).
    """

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        CaseEvent,
        verbose_name=_("事件"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # resident_sms_once_per_event (event, case) serves it
    )
    template = models.CharField(_("短信模板"), max_length=32)
    state = models.CharField(
        _("状态"), max_length=10, choices=ResidentSmsState.choices, default=ResidentSmsState.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    # As on NotificationDelivery: when the sweep sends it (again) if nobody has; empty once done.
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)

    class Meta:
        verbose_name = _("群众短信")
        verbose_name_plural = _("群众短信")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["event", "case"], name="resident_sms_once_per_event")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="resident_sms_retry_due",
                condition=Q(next_attempt_at__isnull=False),
            ),
            # The per-number daily cap counts a case's messages sent in the last day.
            models.Index(fields=["case", "sent_at"], name="resident_sms_case_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.template} {self.get_state_display()}"


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
