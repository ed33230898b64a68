"""Enumerations of the case, its orders and notifications."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseState(models.TextChoices):
    """The closed loop (Jilin's lights: yellow, green, orange)."""

    SUBMITTED = "submitted", _("已提交")
    ACCEPTED = "accepted", _("已受理")
    IN_PROGRESS = "in_progress", _("办理中")  # yellow
    AWAITING_VERIFICATION = "awaiting_verification", _("待核实")  # green
    AWAITING_FEEDBACK = "awaiting_feedback", _("已办结待评价")  # orange
    # The feedback window passed without the resident's answer: the community calls or visits.
    AWAITING_RETURN_VISIT = "awaiting_return_visit", _("待回访")  # orange
    CLOSED = "closed", _("已关闭")
    REJECTED = "rejected", _("不予受理")
    MERGED = "merged", _("已合并")
    REOPENED = "reopened", _("重新办理")


OPEN_STATES: frozenset[str] = frozenset(
    {
        CaseState.SUBMITTED,
        CaseState.ACCEPTED,
        CaseState.IN_PROGRESS,
        CaseState.AWAITING_VERIFICATION,
        CaseState.REOPENED,
    }
)
FINAL_STATES: frozenset[str] = frozenset({CaseState.CLOSED, CaseState.REJECTED, CaseState.MERGED})
# Verified, waiting for the resident's answer (their own, or one the community's return visit
# records): Jilin's orange light, "处理完结等待回访".
AWAITING_ANSWER_STATES: frozenset[str] = frozenset(
    {CaseState.AWAITING_FEEDBACK, CaseState.AWAITING_RETURN_VISIT}
)
# The community has verified the fix: waiting for the answer, or closed after it.
VERIFIED_STATES: frozenset[str] = AWAITING_ANSWER_STATES | {CaseState.CLOSED}
# States whose acceptance deadline runs (nobody has signed for the case at its tier yet).
AWAITING_ACCEPT_STATES: frozenset[str] = frozenset({CaseState.SUBMITTED, CaseState.REOPENED})


class Light(models.TextChoices):
    """The status light the resident sees."""

    GREY = "grey", _("已提交")
    YELLOW = "yellow", _("办理中")
    GREEN = "green", _("待核实")
    ORANGE = "orange", _("橘灯：处理完结，等待回访")  # Jilin's name for it
    DONE = "done", _("已关闭")


class CaseSource(models.TextChoices):
    """How the case reached us."""

    RESIDENT_FORM = "resident_form", _("居民扫码/网页")
    PATROL = "patrol", _("巷长日巡查")
    VISIT = "visit", _("巷长周走访")
    GRID_WORKER = "grid_worker", _("网格员上报")
    HOTLINE = "hotline", _("热线/窗口登记")
    OPEN311 = "open311", _("Open311 接口")
    API = "api", _("系统对接")


PROACTIVE_SOURCES: frozenset[str] = frozenset({CaseSource.PATROL, CaseSource.VISIT, CaseSource.GRID_WORKER})


class Urgency(models.TextChoices):
    """How urgent the case is."""

    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class EventKind(models.TextChoices):
    """What happened, in the timeline."""

    SUBMITTED = "submitted", _("提交诉求")
    ACCEPTED = "accepted", _("受理")
    STARTED = "started", _("开始办理")
    WHISTLED = "whistled", _("吹哨上报")
    ESCALATED = "escalated", _("超时自动上报")
    DISPATCHED = "dispatched", _("派单")
    ORDER_RECEIVED = "order_received", _("部门签收")
    ORDER_REPORTED = "order_reported", _("部门报到")
    ORDER_PROGRESS = "order_progress", _("办理进展")
    ORDER_REJECTED = "order_rejected", _("部门退单")
    ORDER_REDISPATCHED = "order_redispatched", _("改派")
    ORDER_INSISTED = "order_insisted", _("维持派单")
    ORDER_COMPLETED = "order_completed", _("部门办结")
    ORDER_OVERDUE = "order_overdue", _("派单超时")
    ORDER_WITHDRAWN = "order_withdrawn", _("派单撤回")
    EXTENSION_REQUESTED = "extension_requested", _("申请延期")
    EXTENSION_DECIDED = "extension_decided", _("延期审批")
    RESOLVED = "resolved", _("办理完成，待核实")
    VERIFIED = "verified", _("核实通过")
    VERIFY_FAILED = "verify_failed", _("核实未通过")
    FEEDBACK = "feedback", _("群众评价")
    RETURN_VISIT_DUE = "return_visit_due", _("转入回访")
    RETURN_VISIT = "return_visit", _("社区回访")
    REOPENED = "reopened", _("重新办理")
    CLOSED = "closed", _("关闭")
    REJECTED = "rejected", _("不予受理")
    MERGED = "merged", _("合并")
    SUPERVISED = "supervised", _("督办")
    CHASED = "chased", _("催办")
    DEADLINE_WARNING = "deadline_warning", _("临期提醒")
    NOTE = "note", _("备注")
    COMMON_ISSUE = "common_issue", _("归入共性问题")
    ATTENDANCE_CONFIRMED = "attendance_confirmed", _("社区确认到场报到")
    ATTENDANCE_MISSED = "attendance_missed", _("部门未按约到场")
    CONSULTED = "consulted", _("派单前征求意见")
    CONSULTATION_ANSWERED = "consultation_answered", _("部门答复派单意见")
    MEETING_HELD = "meeting_held", _("联席会议研究")
    MEETING_DECIDED = "meeting_decided", _("联席会议决定")
    PROGRESS = "progress", _("办理进展通报")
    ASSIGNED = "assigned", _("指定承办人")
    PHOTO_FAILED = "photo_failed", _("照片处理失败")


class FeedbackSolved(models.TextChoices):
    """Was it solved? (asked separately from satisfaction)"""

    SOLVED = "solved", _("已解决")
    PARTLY = "partly", _("部分解决")
    NOT_SOLVED = "not_solved", _("未解决")


class Satisfaction(models.TextChoices):
    """How satisfied is the resident?"""

    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class FeedbackChannel(models.TextChoices):
    """Who recorded the feedback."""

    RESIDENT = "resident", _("群众自评")
    RETURN_CALL = "return_call", _("电话回访")
    RETURN_VISIT = "return_visit", _("上门回访")


class ReturnVisitChannel(models.TextChoices):
    """How the community reached for the resident on a return visit."""

    PHONE = "phone", _("电话")
    IN_PERSON = "in_person", _("上门")


class PhotoKind(models.TextChoices):
    """What a photo shows."""

    REPORT = "report", _("问题照片")
    FIX = "fix", _("整改照片")


class PhotoState(models.TextChoices):
    """Where a case photo is in its processing (issues.photos): only a processed one is ever public."""

    PENDING = "pending", _("处理中")
    READY = "ready", _("已处理")
    QUARANTINED = "quarantined", _("处理失败，已隔离")


class PatrolKind(models.TextChoices):
    """Daily patrol or weekly visit."""

    PATROL = "patrol", _("日巡查")
    VISIT = "visit", _("周走访")


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


class AttendanceState(models.TextChoices):
    """A department's announced visit to the whistling community (报到到场), as the community records it."""

    PLANNED = "planned", _("待社区确认")
    CONFIRMED = "confirmed", _("已到场")
    MISSED = "missed", _("未按约到场")
    CANCELLED = "cancelled", _("已取消")  # the order was withdrawn before the visit


class ReportOutcome(models.TextChoices):
    """Whether an order's report (报到) met its deadline: only a confirmed attendance counts."""

    ON_TIME = "on_time", _("按时到场报到")
    LATE = "late", _("逾期到场报到")
    MISSED = "missed", _("未到场报到")
    PENDING = "pending", _("待报到")


class ConsultationState(models.TextChoices):
    """A department asked for its opinion before dispatch (派单前征求意见)."""

    PENDING = "pending", _("待答复")
    ANSWERED = "answered", _("已答复")
    LAPSED = "lapsed", _("未答复（已派单）")


class ConsultationOpinion(models.TextChoices):
    """A department's answer to a consultation."""

    AGREE = "agree", _("同意承办")
    OTHER_DEPARTMENT = "other_department", _("建议改由其他部门承办")
    OTHER = "other", _("其他意见")


class ExtensionState(models.TextChoices):
    """Extension: the community agrees, then the organisation department approves."""

    PENDING_COMMUNITY = "pending_community", _("待社区同意")
    PENDING_ORG = "pending_org", _("待组织部审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("未批准")
    WITHDRAWN = "withdrawn", _("已撤回")  # its order was withdrawn (the case ended) before a decision


class ChannelKind(models.TextChoices):
    """Where a unit's notifications go besides the in-app inbox."""

    EMAIL = "email", _("邮件")
    WEBHOOK = "webhook", _("群机器人 Webhook")


class ResidentSmsState(models.TextChoices):
    """Outcome of one SMS to a resident (issues.resident_sms)."""

    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("超过每日上限，未发送")


class DeliveryState(models.TextChoices):
    """Outcome of sending one notification through one channel."""

    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


# --- joint meetings (联席会议) and standing mechanisms (长效机制) ------------------------------------


class MeetingState(models.TextChoices):
    """A joint meeting: its agenda is drafted (proposed, then edited), then it is held."""

    PLANNED = "planned", _("议程拟定中")
    HELD = "held", _("已召开")


class AgendaState(models.TextChoices):
    """An agenda item: waiting for the meeting's decision, or decided (once)."""

    PENDING = "pending", _("待研究")
    DECIDED = "decided", _("已决定")


class Decision(models.TextChoices):
    """The one decision a joint meeting takes on an agenda item."""

    SETTLE = "settle", _("就地解决（明确分工）")
    WHISTLE_UP = "whistle_up", _("吹哨上报（点名责任部门）")
    MECHANISM = "mechanism", _("形成长效机制")


class AgendaGround(models.TextChoices):
    """Why an item is on a meeting's agenda (the proposal says; staff may add items of their own)."""

    HARD_CLASS = "hard_class", _("难点类别（C/D 类）")
    SUPERVISED = "supervised", _("督办")
    OVERDUE = "overdue", _("超期")
    HELD_HERE = "held_here", _("本级在办")
    COMMON_ISSUE = "common_issue", _("共性问题")
    ADDED = "added", _("工作人员添加")
