"""Whistles, department orders, their extensions and common issues."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import TIER_CHOICES, AreaLevel
from alleys.models import Area, Department
from alleys.people import Actor
from alleys.scoping import scope_for
from dispatch.deadlines import walks_predicted_days

from ..attendance import report_outcome
from ..choices import (
    ACTIVE_ORDER_STATES,
    ExtensionState,
    OrderRole,
    OrderState,
)
from .cases import Case


class Whistle(models.Model):
    """A case passed one tier up, by a holder (吹哨) or by the sweep (超时上报): once per tier."""

    # whistle_once_per_tier (case, to_tier) serves lookups by case.
    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="whistles", db_index=False
    )
    from_tier = models.CharField(_("原层级"), max_length=16, choices=TIER_CHOICES)
    to_tier = models.CharField(_("上报至"), max_length=16, choices=TIER_CHOICES)
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
    # The joint meeting's decision the whistle carries out (a district's whistle to the city needs one).
    decision = models.ForeignKey(
        "issues.AgendaItem",
        verbose_name=_("联席会议决定"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="whistles",
        db_index=False,  # whistle_decision (partial) serves it
    )

    class Meta:
        verbose_name = _("吹哨记录")
        verbose_name_plural = _("吹哨记录")
        ordering = ["at"]
        indexes = [
            # Only deleting a user looks whistles up by actor (PROTECT); the sweep's automatic
            # whistles have none, and an index of NULLs would be written for each of them.
            models.Index(fields=["actor"], name="whistle_actor", condition=models.Q(actor__isnull=False)),
            # Most whistles (every escalation the sweep writes) carry no decision.
            models.Index(
                fields=["decision"], name="whistle_decision", condition=models.Q(decision__isnull=False)
            ),
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
    attended_at = models.DateTimeField(
        _("到场报到时间"),
        null=True,
        blank=True,
        help_text=_("社区确认的部门实际到场时间；报到期限只以它为准。"),
    )
    report_overdue_at = models.DateTimeField(_("报到超时标记"), null=True, blank=True)
    complete_overdue_at = models.DateTimeField(_("办结超时标记"), null=True, blank=True)
    replaced_by = models.ForeignKey(
        "self", verbose_name=_("改派为"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when the order is withdrawn because its case ended (closed, rejected, merged); a
    # redispatched order says where it went in ``replaced_by`` instead.
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("撤回原因"), blank=True)

    objects = DispatchOrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("派单")
        verbose_name_plural = _("派单")
        ordering = ["-dispatched_at", "-id"]
        indexes = [
            # The sweep's overdue reports: an active order with no attendance the community
            # confirmed, not yet flagged. A withdrawn order (its case ended, or redispatched) is
            # never due again; the sweep's idle check reads these indexes' first entries.
            models.Index(
                fields=["report_due"],
                name="order_attendance_pending",
                condition=Q(
                    attended_at__isnull=True,
                    report_overdue_at__isnull=True,
                    state__in=sorted(ACTIVE_ORDER_STATES),
                ),
            ),
            models.Index(
                fields=["complete_due"],
                name="order_complete_pending",
                condition=Q(
                    completed_at__isnull=True,
                    complete_overdue_at__isnull=True,
                    state__in=sorted(ACTIVE_ORDER_STATES),
                ),
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
    def report_due_provisional(self) -> bool:
        """Whether the report deadline walked a predicted day (``deadline_provisional`` covers both)."""
        return self.deadline_provisional and walks_predicted_days(self.dispatched_at, self.report_due)

    @property
    def complete_due_provisional(self) -> bool:
        """Whether the completion deadline walked a predicted day (``deadline_provisional`` covers both)."""
        return self.deadline_provisional and walks_predicted_days(self.dispatched_at, self.complete_due)

    @property
    def report_on_time(self) -> bool | None:
        """Whether the confirmed attendance met the report deadline (None: no attendance confirmed yet)."""
        if self.attended_at is None:
            return None
        return self.attended_at <= self.report_due

    def report_outcome(self, now: dt.datetime, *, no_show: bool = False) -> str:
        """On time, late, missed or pending (``issues.attendance``); ``no_show``: a no-show is on record."""
        return report_outcome(
            report_due=self.report_due, attended_at=self.attended_at, no_show=no_show, now=now
        )


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
