"""Enumerations of in-service Party members' 双报到 (rules: ``members/rules.py``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegistrationState(models.TextChoices):
    """Where a member's registration at their home community stands."""

    PENDING = "pending", _("待确认")
    CONFIRMED = "confirmed", _("已报到")
    DECLINED = "declined", _("未通过")
    WITHDRAWN = "withdrawn", _("已退出")


class NeedKind(models.TextChoices):
    """What the community asks for: a service project or a resident's small wish."""

    SERVICE = "service", _("服务项目")
    WISH = "wish", _("微心愿")


class NeedState(models.TextChoices):
    """Where a posted service need stands."""

    OPEN = "open", _("待认领")
    CLAIMED = "claimed", _("已认领")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class ClaimState(models.TextChoices):
    """Where one member's claim of a need stands."""

    CLAIMED = "claimed", _("已认领")
    RECORDED = "recorded", _("待确认")
    CONFIRMED = "confirmed", _("已完成")
    WITHDRAWN = "withdrawn", _("已放弃")


class TeamState(models.TextChoices):
    """A member's request to join an alley's service team."""

    REQUESTED = "requested", _("待确认")
    APPROVED = "approved", _("已加入")
    DECLINED = "declined", _("未通过")


# States that hold a place: one active registration per phone, one active claim per member and need.
ACTIVE_REGISTRATION = (RegistrationState.PENDING, RegistrationState.CONFIRMED)
ACTIVE_CLAIM = (ClaimState.CLAIMED, ClaimState.RECORDED, ClaimState.CONFIRMED)
