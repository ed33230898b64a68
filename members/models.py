"""In-service Party members' 双报到: their work unit's Party organisation, their registration at the
community where they live, the community's service needs, the members' claims, alley service teams.

Who sees what is each queryset's ``visible_to`` (below); who may change what is ``members/rules.py``.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alleys.choices import AreaLevel, Role, ServiceKind
from alleys.models import Area, Department, RoleAssignment
from alleys.people import Actor
from alleys.scoping import scope_for

from .choices import (
    ACTIVE_CLAIM,
    ACTIVE_REGISTRATION,
    ClaimState,
    NeedKind,
    NeedState,
    RegistrationState,
    TeamState,
)

# Who reads everything under their area: the community handles, the street and organisation departments watch.
READER_ROLES: frozenset[str] = frozenset(
    {Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG}
)
# One record of service is one stretch of work: more than a day is a typing mistake, not a service.
HOURS_MIN = Decimal("0.5")
HOURS_MAX = Decimal("24.0")
PLACES_MAX = 20


def _area_q(user: Actor, field_name: str) -> Q | None:
    """Areas under the user's reader roles (None: none)."""
    q: Q | None = None
    for role, code, _dept in scope_for(user).assignments:
        if role in READER_ROLES and code:
            part = Q(**{f"{field_name}__startswith": code})
            q = part if q is None else q | part
    return q


def _contact_orgs(user: Actor) -> Any:
    """The ids of the Party organisations ``user`` is a contact of (a subquery)."""
    return PartyOrganization.objects.filter(Q(contacts__pk=user.pk)).values("pk")


class PartyOrganizationQuerySet(models.QuerySet["PartyOrganization"]):
    """Work units' Party organisations: their names are no secret to staff; contacts see their own."""

    def visible_to(self, user: Actor) -> PartyOrganizationQuerySet:
        scope = scope_for(user)
        if scope.is_global or scope.roles & READER_ROLES:
            return self
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(Q(contacts__pk=user.pk))


class PartyOrganization(models.Model):
    """The Party organisation of a work unit (an office, a firm) whose members report where they live."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("对应部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="party_organizations",
        help_text=_("单位是平台上的部门时填写，年度考核据此计入其党员的服务。"),
    )
    contacts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("联系人"),
        blank=True,
        related_name="party_organizations",
        help_text=_("联系人可查看本单位党员的报到和服务记录。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    objects = PartyOrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("单位党组织")
        verbose_name_plural = _("单位党组织")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegistrationQuerySet(models.QuerySet["Registration"]):
    """Registrations: the member's own, those under the reader's area, the work unit's for its contacts."""

    def visible_to(self, user: Actor) -> RegistrationQuerySet:
        scope = scope_for(user)
        if scope.is_global:
            return self
        if not getattr(user, "is_authenticated", False):
            return self.none()
        q = Q(user_id=user.pk) | Q(organization_id__in=_contact_orgs(user))
        if (area := _area_q(user, "community__code")) is not None:
            q |= area
        return self.filter(q)


class Registration(models.Model):
    """An in-service Party member's 报到 at the community where they live."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member_registrations",
        help_text=_("有账号的党员可自己认领和记录服务；没有的由社区代为登记。"),
    )
    full_name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机"), max_length=20)
    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("单位党组织"),
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    community = models.ForeignKey(
        Area,
        verbose_name=_("居住社区"),
        on_delete=models.PROTECT,
        related_name="member_registrations",
        limit_choices_to={"level": AreaLevel.COMMUNITY},
    )
    alley = models.ForeignKey(
        Area,
        verbose_name=_("居住街巷"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resident_members",
        limit_choices_to={"level": AreaLevel.ALLEY},
    )
    skills = models.CharField(_("特长"), max_length=200, blank=True)
    state = models.CharField(
        _("状态"),
        max_length=16,
        choices=RegistrationState.choices,
        default=RegistrationState.PENDING,
        db_index=True,
    )
    consent_at = models.DateTimeField(_("同意个人信息使用时间"))
    registered_at = models.DateTimeField(_("报到时间"))
    # None: the member registered on the public page with the number they verified by SMS code.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    decline_reason = models.CharField(_("未通过理由"), max_length=300, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("党员报到")
        verbose_name_plural = _("党员报到")
        ordering = ["-registered_at", "-pk"]
        constraints = [
            # One member, one home community at a time: the phone identifies them.
            models.UniqueConstraint(
                fields=["phone"], condition=Q(state__in=ACTIVE_REGISTRATION), name="registration_active_phone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} · {self.community}"


class NeedQuerySet(models.QuerySet["ServiceNeed"]):
    """Needs: readers under their area, confirmed members of the community, contacts of claimants' units."""

    def visible_to(self, user: Actor) -> NeedQuerySet:
        scope = scope_for(user)
        if scope.is_global:
            return self
        if not getattr(user, "is_authenticated", False):
            return self.none()
        members_of = Registration.objects.filter(Q(user_id=user.pk), state=RegistrationState.CONFIRMED)
        claimed_by_units = Claim.objects.filter(registration__organization_id__in=_contact_orgs(user))
        q = Q(community_id__in=members_of.values("community_id")) | Q(
            pk__in=claimed_by_units.values("need_id")
        )
        if (area := _area_q(user, "community__code")) is not None:
            q |= area
        return self.filter(q)


class ServiceNeed(models.Model):
    """A service project or small wish the community posts for its registered members to claim."""

    community = models.ForeignKey(
        Area,
        verbose_name=_("社区"),
        on_delete=models.PROTECT,
        related_name="service_needs",
        limit_choices_to={"level": AreaLevel.COMMUNITY},
    )
    alley = models.ForeignKey(
        Area,
        verbose_name=_("街巷"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": AreaLevel.ALLEY},
    )
    kind = models.CharField(_("类型"), max_length=16, choices=NeedKind.choices, default=NeedKind.SERVICE)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("说明"), max_length=2000, blank=True)
    places = models.PositiveSmallIntegerField(
        _("需要人数"), default=1, validators=[MinValueValidator(1), MaxValueValidator(PLACES_MAX)]
    )
    due_on = models.DateField(_("希望完成日期"), null=True, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=NeedState.choices, default=NeedState.OPEN, db_index=True
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发布人"), on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(_("发布时间"))
    cancel_reason = models.CharField(_("取消理由"), max_length=300, blank=True)

    objects = NeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务需求")
        verbose_name_plural = _("服务需求")
        ordering = ["-posted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(places__gte=1) & Q(places__lte=PLACES_MAX), name="need_places_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title


def claim_photo_path(instance: Claim, filename: str) -> str:
    # Never the uploader's name: a random one under the community's code.
    return f"member-service/{instance.need.community.code}/{secrets.token_hex(12)}.jpg"


class ClaimQuerySet(models.QuerySet["Claim"]):
    """Claims: the member's own, those under the reader's area, the work unit's for its contacts."""

    def visible_to(self, user: Actor) -> ClaimQuerySet:
        scope = scope_for(user)
        if scope.is_global:
            return self
        if not getattr(user, "is_authenticated", False):
            return self.none()
        q = Q(registration__user_id=user.pk) | Q(registration__organization_id__in=_contact_orgs(user))
        if (area := _area_q(user, "need__community__code")) is not None:
            q |= area
        return self.filter(q)


class Claim(models.Model):
    """One member's claim (认领) of a need, and the service they recorded."""

    need = models.ForeignKey(
        ServiceNeed, verbose_name=_("服务需求"), on_delete=models.PROTECT, related_name="claims"
    )
    registration = models.ForeignKey(
        Registration, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="claims"
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=ClaimState.choices, default=ClaimState.CLAIMED, db_index=True
    )
    claimed_at = models.DateTimeField(_("认领时间"))
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("认领操作人"), on_delete=models.PROTECT, related_name="+"
    )
    hours = models.DecimalField(_("服务时长（小时）"), max_digits=3, decimal_places=1, null=True, blank=True)
    note = models.CharField(_("服务记录"), max_length=500, blank=True)
    photo = models.FileField(_("服务照片"), upload_to=claim_photo_path, max_length=200, blank=True)
    served_on = models.DateField(_("服务日期"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("记录时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        verbose_name = _("认领")
        verbose_name_plural = _("认领")
        ordering = ["-claimed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["need", "registration"],
                condition=Q(state__in=ACTIVE_CLAIM),
                name="claim_once_per_member",
            ),
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | (Q(hours__gte=HOURS_MIN) & Q(hours__lte=HOURS_MAX)),
                name="claim_hours_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registration.full_name} · {self.need.title}"


class TeamQuerySet(models.QuerySet["TeamMembership"]):
    """Service-team requests, scoped like registrations."""

    def visible_to(self, user: Actor) -> TeamQuerySet:
        return self.filter(registration__in=Registration.objects.visible_to(user).values("pk"))


class TeamMembership(models.Model):
    """A confirmed member's request to join an alley's service team; approved, it is a role assignment."""

    registration = models.ForeignKey(
        Registration, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="teams"
    )
    alley = models.ForeignKey(
        Area,
        verbose_name=_("街巷"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": AreaLevel.ALLEY},
    )
    service_kind = models.CharField(_("服务专长"), max_length=20, choices=ServiceKind.choices)
    state = models.CharField(
        _("状态"), max_length=16, choices=TeamState.choices, default=TeamState.REQUESTED, db_index=True
    )
    requested_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    assignment = models.ForeignKey(
        RoleAssignment,
        verbose_name=_("角色任命"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("加入服务队")
        verbose_name_plural = _("加入服务队")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "alley"],
                condition=Q(state__in=(TeamState.REQUESTED, TeamState.APPROVED)),
                name="team_once_per_alley",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registration.full_name} · {self.alley}"
