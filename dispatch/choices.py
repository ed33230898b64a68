"""Enumerations of the whistle chain and department orders."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeUnit(models.TextChoices):
    """Working hours or working days."""

    HOURS = "hours", _("工作小时")
    DAYS = "days", _("工作日")


class OrderRole(models.TextChoices):
    """Lead (牵头) or cooperating (配合) department."""

    LEAD = "lead", _("牵头")
    COOPERATING = "cooperating", _("配合")


class OrderState(models.TextChoices):
    """Where a department order stands."""

    DISPATCHED = "dispatched", _("已派单")
    RECEIVED = "received", _("已签收")
    REPORTED = "reported", _("已报到")
    REJECTED = "rejected", _("退单待处理")
    COMPLETED = "completed", _("已办结")
    WITHDRAWN = "withdrawn", _("已改派/撤回")


ACTIVE_ORDER_STATES: frozenset[str] = frozenset(
    {OrderState.DISPATCHED, OrderState.RECEIVED, OrderState.REPORTED, OrderState.REJECTED}
)


class ExtensionState(models.TextChoices):
    """Extension: the community agrees, then the organisation department approves."""

    PENDING_COMMUNITY = "pending_community", _("待社区同意")
    PENDING_ORG = "pending_org", _("待组织部审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("未批准")


class ChannelKind(models.TextChoices):
    """Where a unit's notifications go besides the in-app inbox."""

    EMAIL = "email", _("邮件")
    WEBHOOK = "webhook", _("群机器人 Webhook")


class DeliveryState(models.TextChoices):
    """Outcome of sending one notification through one channel."""

    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class CalendarDayKind(models.TextChoices):
    """An admin's override of the official calendar."""

    WORKDAY = "workday", _("工作日（含调休上班）")
    HOLIDAY = "holiday", _("休息日（节假日）")
