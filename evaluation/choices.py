"""Enumerations of evaluation: ratings, surveys, the annual assessment and exports."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Timeliness(models.TextChoices):
    """Did the department report (报到) within the report deadline?"""

    ON_TIME = "on_time", _("按时报到")
    LATE = "late", _("超时报到")
    NOT_REPORTED = "not_reported", _("未报到")


class Rating(models.IntegerChoices):
    """A five-step rating of the plan, the work and the cooperation."""

    EXCELLENT = 5, _("优秀")
    GOOD = 4, _("良好")
    FAIR = 3, _("一般")
    POOR = 2, _("较差")
    BAD = 1, _("差")


class RespondentKind(models.TextChoices):
    """Who answered a satisfaction survey (no name is asked)."""

    PARTY_MEMBER = "party_member", _("党员")
    RESIDENT = "resident", _("居民")
    SHOP = "shop", _("商户/单位")


class SurveyState(models.TextChoices):
    """A survey accepts answers while open."""

    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结束")


class AssessmentState(models.TextChoices):
    """The annual proposal: the street drafts, the organisation department approves (then frozen)."""

    DRAFT = "draft", _("街道拟定中")
    SUBMITTED = "submitted", _("已报组织部审核")
    APPROVED = "approved", _("已审定（冻结）")


class AssessmentEventKind(models.TextChoices):
    """One line of the annual assessment's audit trail."""

    COMPUTED = "computed", _("生成建议")
    RECOMPUTED = "recomputed", _("重新生成")
    ADJUSTED = "adjusted", _("调整分数")
    SUBMITTED = "submitted", _("报送审核")
    RETURNED = "returned", _("退回修改")
    APPROVED = "approved", _("审定冻结")


class Grade(models.TextChoices):
    """The grade an annual score falls into."""

    EXCELLENT = "excellent", _("优秀")
    GOOD = "good", _("良好")
    PASS = "pass", _("合格")
    FAIL = "fail", _("不合格")


def grade_for(score: float | None) -> str:
    """The grade of a 0–100 annual score (90 / 80 / 60 are the usual cut-offs)."""
    if score is None:
        return ""
    if score >= 90:
        return Grade.EXCELLENT
    if score >= 80:
        return Grade.GOOD
    if score >= 60:
        return Grade.PASS
    return Grade.FAIL


class ExportFormat(models.TextChoices):
    """File formats of an export."""

    XLSX = "xlsx", "XLSX"
    CSV = "csv", "CSV"
