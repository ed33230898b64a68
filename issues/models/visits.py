"""A department's visit to the whistling community (报到到场), and consultations before dispatch.

Both are written only by the services of ``issues.workflow`` (``orders.order_report`` plans a
visit, ``attendance`` confirms it or records a no-show; ``consultations`` asks and answers).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import AreaLevel
from alleys.models import Area, Department
from alleys.people import Actor
from alleys.scoping import scope_for

from ..choices import AttendanceState, ConsultationOpinion, ConsultationState
from .cases import Case
from .orders import DispatchOrder


class AttendanceQuerySet(models.QuerySet["Attendance"]):
    """Visits, scoped as their orders are."""

    def visible_to(self, user: Actor) -> AttendanceQuerySet:
        return self.filter(order__in=DispatchOrder.objects.visible_to(user).values("pk"))


class Attendance(models.Model):
    """One visit a department announced in its report (who, when) and what the community recorded of it."""

    order = models.ForeignKey(
        DispatchOrder, verbose_name=_("派单"), on_delete=models.CASCADE, related_name="attendances"
    )
    state = models.CharField(
        _("状态"), max_length=12, choices=AttendanceState.choices, default=AttendanceState.PLANNED
    )
    planned_at = models.DateTimeField(_("约定到场时间"))
    visitors = models.JSONField(_("计划到场人员"), default=list, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报到填报人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reported_at = models.DateTimeField(_("填报时间"), default=timezone.now)
    attended_at = models.DateTimeField(_("实际到场时间"), null=True, blank=True)
    present = models.JSONField(_("实际到场人员"), default=list, blank=True)
    note = models.TextField(_("社区说明"), blank=True)
    community = models.ForeignKey(
        Area,
        verbose_name=_("确认社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": AreaLevel.COMMUNITY},
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("社区登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("社区登记时间"), null=True, blank=True)

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("到场报到")
        verbose_name_plural = _("到场报到")
        ordering = ["reported_at", "pk"]
        indexes = [
            # The communities' to-do: visits waiting for their word.
            models.Index(
                fields=["planned_at"], name="attendance_planned", condition=Q(state=AttendanceState.PLANNED)
            ),
        ]
        constraints = [
            # One announced visit at a time, and the report is met once.
            models.UniqueConstraint(
                fields=["order"], condition=Q(state="planned"), name="attendance_one_planned_per_order"
            ),
            models.UniqueConstraint(
                fields=["order"], condition=Q(state="confirmed"), name="attendance_one_confirmed_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.planned_at:%Y-%m-%d %H:%M} {self.state}"


class ConsultationQuerySet(models.QuerySet["Consultation"]):
    """Consultations: the asking organisation department, the departments asked, and the case's territory."""

    def visible_to(self, user: Actor) -> ConsultationQuerySet:
        scope = scope_for(user)
        if scope.is_global:
            return self
        if not scope.area_prefixes and not scope.department_ids:
            return self.none()
        q = Q(department_id__in=sorted(scope.department_ids)) | scope.area_q("asker_area__code")
        for prefix in scope.area_prefixes:
            q |= Q(case__alley__code__startswith=prefix)
        return self.filter(q)

    def pending(self) -> ConsultationQuerySet:
        return self.filter(state=ConsultationState.PENDING)


class Consultation(models.Model):
    """The organisation department asks one proposed department's opinion before it dispatches (征求意见)."""

    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="consultations"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("拟派部门"), on_delete=models.PROTECT, related_name="consultations"
    )
    asker_area = models.ForeignKey(
        Area,
        verbose_name=_("征求意见的组织部（区/市）"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": [AreaLevel.DISTRICT, AreaLevel.CITY]},
    )
    question = models.TextField(_("征求意见事项"), blank=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("征求人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    asked_at = models.DateTimeField(_("征求时间"), default=timezone.now)
    answer_due = models.DateTimeField(_("答复期限"))
    state = models.CharField(
        _("状态"), max_length=12, choices=ConsultationState.choices, default=ConsultationState.PENDING
    )
    opinion = models.CharField(_("意见"), max_length=20, choices=ConsultationOpinion.choices, blank=True)
    suggested_department = models.ForeignKey(
        Department,
        verbose_name=_("建议承办部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answer = models.TextField(_("意见说明"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("答复人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    order = models.ForeignKey(
        DispatchOrder,
        verbose_name=_("派单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consultations",
        help_text=_("派单时，该部门的意见随派单送达。"),
    )

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        verbose_name = _("派单前征求意见")
        verbose_name_plural = _("派单前征求意见")
        ordering = ["asked_at", "pk"]
        indexes = [
            models.Index(
                fields=["department", "answer_due"],
                name="consultation_pending",
                condition=Q(state=ConsultationState.PENDING),
            ),
        ]
        constraints = [
            # Asked once at a time: a second click does not ask twice.
            models.UniqueConstraint(
                fields=["case", "department"],
                condition=Q(state="pending"),
                name="consultation_one_pending_per_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id} ({self.state})"

    @property
    def answered_late(self) -> bool:
        return self.answered_at is not None and self.answered_at > self.answer_due
