"""Territory (city → district → street → community → alley → optional building), people and departments."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.site import site_url

from .choices import (
    AREA_LEVEL_ORDER,
    CODE_LENGTH,
    ROLE_LEVEL,
    AreaLevel,
    DepartmentKind,
    ExpensePurpose,
    ExpenseState,
    Role,
    ServiceKind,
)
from .people import Actor
from .scoping import scope_for

digits_only = RegexValidator(r"^[0-9]+$", _("编码只能由数字组成。"))


class AreaQuerySet(models.QuerySet["Area"]):
    """Tree queries over the unified codes, and territorial scoping."""

    def under(self, area: Area | str, *, include_self: bool = True) -> AreaQuerySet:
        """All areas under ``area`` (one indexed prefix query)."""
        code = area if isinstance(area, str) else area.code
        qs = self.filter(code__startswith=code)
        return qs if include_self else qs.exclude(code=code)

    def chain_above(self, area: Area | str, *, include_self: bool = True) -> AreaQuerySet:
        """The areas above ``area`` up to the city, top first (one query on computed codes)."""
        code = area if isinstance(area, str) else area.code
        codes = ancestor_codes(code)
        if include_self:
            codes.append(code)
        return self.filter(code__in=codes).order_by("code")

    def at_level(self, level: str) -> AreaQuerySet:
        return self.filter(level=level)

    def visible_to(self, user: Actor) -> AreaQuerySet:
        """Areas inside the user's territory."""
        return self.filter(scope_for(user).area_q("code"))


def ancestor_codes(code: str) -> list[str]:
    """The codes of the areas above ``code``, top first, from the fixed code widths."""
    return [code[:length] for length in CODE_LENGTH.values() if length < len(code)]


class Area(models.Model):
    """One unit of the territory tree, identified by its unified code."""

    code = models.CharField(_("统一编码"), max_length=18, unique=True, validators=[digits_only])
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=AreaLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_active = models.BooleanField(_("启用"), default=True)

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        ordering = ["code"]
        indexes = [
            # Prefix searches ("under X") use this index on PostgreSQL.
            models.Index(fields=["code"], name="area_code_prefix", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="area_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The tree's invariants (level, parent, code prefix) hold for every writer, not just forms.
        self.clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.code and not self.code.isdigit():
            raise ValidationError({"code": _("编码只能由数字组成。")})
        expected = CODE_LENGTH.get(self.level)
        if expected and self.code and len(self.code) != expected:
            raise ValidationError(
                {
                    "code": _("%(level)s的编码应为 %(n)d 位数字。")
                    % {"level": self.get_level_display(), "n": expected}
                }
            )
        # The whole tree, buildings included: a building's parent is an alley, its code the alley's + 3.
        index = AREA_LEVEL_ORDER.index(self.level) if self.level in AREA_LEVEL_ORDER else -1
        if index == 0:
            if self.parent_id:
                raise ValidationError({"parent": _("市级区域没有上级。")})
            return
        if self.parent is None:
            raise ValidationError({"parent": _("请选择上级区域。")})
        if self.parent.level != AREA_LEVEL_ORDER[index - 1]:
            raise ValidationError({"parent": _("上级区域的层级不对。")})
        if self.code and not self.code.startswith(self.parent.code):
            raise ValidationError({"code": _("编码必须以上级区域的编码开头。")})

    def ancestor(self, level: str) -> Area | None:
        """The area above (or this one) at ``level``, loaded by code."""
        if self.level == level:
            return self
        length = CODE_LENGTH[level]
        if length >= len(self.code):
            return None
        return Area.objects.filter(code=self.code[:length]).first()

    def code_at(self, level: str) -> str:
        """The code of the ancestor at ``level`` (no query)."""
        return self.code[: CODE_LENGTH[level]]

    @property
    def full_name(self) -> str:
        names = list(Area.objects.chain_above(self).values_list("name", flat=True))
        return " / ".join(names)


class Building(Area):
    """A building (楼栋) below an alley: an area of level building, with an admin page of its own."""

    class Meta:
        proxy = True
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")


class AlleyProfile(models.Model):
    """What the board and the chiefs know of one alley or grid."""

    area = models.OneToOneField(
        Area,
        verbose_name=_("街巷"),
        on_delete=models.CASCADE,
        related_name="profile",
        limit_choices_to={"level": AreaLevel.ALLEY},
    )
    households = models.PositiveIntegerField(_("户数"), default=0)
    shops = models.PositiveIntegerField(_("商铺数"), default=0)
    resident_units = models.PositiveIntegerField(_("驻巷单位数"), default=0)
    features = models.TextField(_("街巷特点"), blank=True)
    convention = models.TextField(_("街巷公约"), blank=True)
    office_hours = models.CharField(_("接待时间"), max_length=200, blank=True)
    board_contact_phone = models.CharField(
        _("公示牌联系电话"),
        max_length=32,
        blank=True,
        help_text=_("公示牌上公开的工作电话，不要填写个人手机。"),
    )

    class Meta:
        verbose_name = _("街巷档案")
        verbose_name_plural = _("街巷档案")

    def __str__(self) -> str:
        return str(self.area)

    @property
    def report_path(self) -> str:
        """The short URL the board's QR code encodes (opens the resident form for this alley)."""
        return reverse("alley-short", kwargs={"code": self.area.code})

    @property
    def report_url(self) -> str:
        return f"{site_url()}{self.report_path}"


class DepartmentQuerySet(models.QuerySet["Department"]):
    """Departments, scoped to the user's territory or own department."""

    def visible_to(self, user: Actor) -> DepartmentQuerySet:
        scope = scope_for(user)
        if scope.is_global:
            return self
        q = Q(pk__in=scope.department_ids)
        for prefix in scope.area_prefixes:
            # Departments of the user's district/city, and the city ones above it.
            q |= Q(area__code__startswith=prefix) | Q(area__code__in=[*_prefixes_above(prefix), prefix])
        return self.filter(q)


def _prefixes_above(code: str) -> list[str]:
    return ancestor_codes(code)


class Department(models.Model):
    """A district or city department, state enterprise or public-service company."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(
        _("类型"), max_length=20, choices=DepartmentKind.choices, default=DepartmentKind.GOVERNMENT
    )
    area = models.ForeignKey(
        Area,
        verbose_name=_("所属区/市"),
        on_delete=models.PROTECT,
        related_name="departments",
        limit_choices_to={"level__in": [AreaLevel.DISTRICT, AreaLevel.CITY]},
    )
    leader_name = models.CharField(_("分管负责人"), max_length=50, blank=True)
    leader_phone = models.CharField(_("负责人电话"), max_length=32, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系人电话"), max_length=32, blank=True)
    role_key = models.CharField(_("职能简称"), max_length=16, blank=True, db_index=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("部门/单位")
        verbose_name_plural = _("部门/单位")
        ordering = ["area__code", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.area_id and self.area.level not in (AreaLevel.DISTRICT, AreaLevel.CITY):
            raise ValidationError({"area": _("部门只能属于区或市。")})

    @property
    def level(self) -> str:
        return str(self.area.level)


class StaffProfile(models.Model):
    """Extra facts about a staff user (the login is Django's user)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="staff_profile",
    )
    full_name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机"), max_length=32, blank=True)
    is_party_member = models.BooleanField(_("党员"), default=True)
    title = models.CharField(_("职务"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("人员档案")
        verbose_name_plural = _("人员档案")

    def __str__(self) -> str:
        return self.full_name


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    """Role assignments, scoped to the user's territory and departments."""

    def active(self) -> RoleAssignmentQuerySet:
        return self.filter(is_active=True)

    def visible_to(self, user: Actor) -> RoleAssignmentQuerySet:
        scope = scope_for(user)
        if scope.is_global:
            return self
        q = scope.area_q("area__code") | Q(department_id__in=scope.department_ids)
        # Organisation departments also see the people of their district's (city's) departments.
        for role, code, _dept in scope.assignments:
            if role in (Role.DISTRICT_ORG, Role.CITY_ORG) and code:
                q |= Q(department__area__code__startswith=code)
        return self.filter(q)


class RoleAssignment(models.Model):
    """One role of one person, on an area or in a department."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, db_index=True)
    area = models.ForeignKey(
        Area,
        verbose_name=_("区域"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    service_kind = models.CharField(_("服务专长"), max_length=20, choices=ServiceKind.choices, blank=True)
    is_active = models.BooleanField(_("在岗"), default=True)
    since = models.DateField(_("任职日期"), null=True, blank=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("角色任命")
        verbose_name_plural = _("角色任命")
        ordering = ["area__code", "role"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(area__isnull=False, department__isnull=True)
                    | Q(area__isnull=True, department__isnull=False)
                ),
                name="role_on_area_xor_department",
            ),
            # Two conditional constraints: NULLs are distinct in SQL, so one over both columns would
            # let the same role be granted twice.
            models.UniqueConstraint(
                fields=["user", "role", "area"],
                condition=Q(department__isnull=True),
                name="role_unique_on_area",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=Q(area__isnull=True),
                name="role_unique_in_department",
            ),
        ]

    def __str__(self) -> str:
        where = self.area or self.department
        return f"{self.user} · {self.get_role_display()} · {where}"

    def clean(self) -> None:
        level = ROLE_LEVEL.get(self.role)
        if level is not None:
            if self.area is None or self.department_id:
                raise ValidationError({"area": _("该角色必须任命在一个区域上。")})
            if self.area.level != level:
                raise ValidationError(
                    {"area": _("该角色只能任命在“%(level)s”一级。") % {"level": AreaLevel(level).label}}
                )
        elif self.department is None or self.area_id:
            raise ValidationError({"department": _("该角色必须任命在一个部门上。")})
        if self.role == Role.SERVICE_TEAM and not self.service_kind:
            raise ValidationError({"service_kind": _("服务队员请选择专长。")})


# --- chiefs' expenses (实报实销) -----------------------------------------------------------------

# One receipt above this is not a chief's phone bill or tea; it goes through the community's own budget.
EXPENSE_MAX = Decimal("5000.00")
EXPENSE_MIN = Decimal("0.01")
# Who sees an expense besides the chief who filed it: the community decides, the street and the
# organisation departments above read (the receipt stays with the chief, the community, superusers).
EXPENSE_READER_ROLES: frozenset[str] = frozenset(
    {Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG}
)


def receipt_path(instance: Expense, filename: str) -> str:
    # Never the uploader's name: a random one under the alley's code.
    return f"receipts/{instance.alley.code}/{secrets.token_hex(12)}.jpg"


class ExpenseQuerySet(models.QuerySet["Expense"]):
    """Expenses, scoped: the chief's own, and those under the reader's territory."""

    def visible_to(self, user: Actor) -> ExpenseQuerySet:
        scope = scope_for(user)
        if scope.is_global:
            return self
        if not getattr(user, "is_authenticated", False) or scope.is_empty:
            return self.none()
        q = Q(chief_id=user.pk)
        for role, code, _dept in scope.assignments:
            if role in EXPENSE_READER_ROLES and code:
                q |= Q(alley__code__startswith=code)
        return self.filter(q)


class Expense(models.Model):
    """One expense a chief paid out of pocket for the alley's work, reimbursed after the community's check."""

    chief = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("巷长"), on_delete=models.PROTECT, related_name="expenses"
    )
    alley = models.ForeignKey(
        Area,
        verbose_name=_("街巷"),
        on_delete=models.PROTECT,
        related_name="expenses",
        limit_choices_to={"level": AreaLevel.ALLEY},
    )
    amount = models.DecimalField(
        _("金额（元）"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(EXPENSE_MIN), MaxValueValidator(EXPENSE_MAX)],
    )
    purpose = models.CharField(_("用途"), max_length=16, choices=ExpensePurpose.choices)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    spent_on = models.DateField(_("支出日期"))
    receipt = models.FileField(_("票据照片"), upload_to=receipt_path, max_length=200)
    state = models.CharField(
        _("状态"), max_length=16, choices=ExpenseState.choices, default=ExpenseState.SUBMITTED, db_index=True
    )
    submitted_at = models.DateTimeField(_("提交时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    return_reason = models.CharField(_("退回理由"), max_length=300, blank=True)
    paid_on = models.DateField(_("报销日期"), null=True, blank=True)

    objects = ExpenseQuerySet.as_manager()

    class Meta:
        verbose_name = _("巷长垫付费用")
        verbose_name_plural = _("巷长垫付费用")
        ordering = ["-spent_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=EXPENSE_MIN) & Q(amount__lte=EXPENSE_MAX), name="expense_amount_range"
            ),
            models.CheckConstraint(
                condition=~Q(state=ExpenseState.PAID) | Q(paid_on__isnull=False), name="expense_paid_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alley} · {self.get_purpose_display()} · ¥{self.amount}"

    @property
    def year(self) -> int:
        return self.spent_on.year
