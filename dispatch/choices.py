"""Enumerations of deadlines and the calendar."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeUnit(models.TextChoices):
    """Working hours or working days."""

    HOURS = "hours", _("工作小时")
    DAYS = "days", _("工作日")


class CalendarDayKind(models.TextChoices):
    """An admin's override of the official calendar."""

    WORKDAY = "workday", _("工作日（含调休上班）")
    HOLIDAY = "holiday", _("休息日（节假日）")
