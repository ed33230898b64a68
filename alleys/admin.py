"""Staff admin for the territory, people and departments, scoped to each user's territory.

Access comes from the user's roles (``alleys.scoping``), not from Django's model
permissions: a community worker can use the admin as soon as they hold a role, and
a superuser sees everything. ``ScopedAdminMixin`` is shared by every app's admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, Prefetch, QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .choices import DEPARTMENT_ROLES, ROLE_LEVEL, AreaLevel, Role
from .forms import AreaForm, BuildingForm
from .models import AlleyProfile, Area, Building, Department, Expense, RoleAssignment, StaffProfile
from .permissions import (
    ANY_ROLE,
    MANAGER_ROLES,
    ORG_ROLES,
    can_manage_area,
    can_manage_assignment,
    can_manage_department,
    can_manage_user,
    department_area_choice_q,
    manageable_area_q,
    manageable_department_q,
    parent_choice_q,
    visible_assignments,
    visible_users,
)
from .scoping import Scope, scope_for
from .views import alley_report_url

User = get_user_model()

admin.site.site_header = _("街巷通 · 党员街巷长制工作平台")
admin.site.site_title = _("街巷通")
admin.site.index_title = _("工作台")

if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin[Any]
    _InlineBase = admin.options.InlineModelAdmin[Any, Any]
else:
    _AdminBase = object
    _InlineBase = object

_MEMO_ATTR = "_jxt_admin_scope_memo"


def request_scope(request: HttpRequest) -> Scope:
    """The scope of the request's user (cached on the user object)."""
    return scope_for(request.user)


def is_superuser(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser)


def holds_any(request: HttpRequest, roles: frozenset[str]) -> bool:
    """Whether the user is a superuser or holds one of ``roles`` (an active assignment)."""
    return is_superuser(request) or bool(request_scope(request).roles & roles)


def scoped_choices(model: type[Model], request: HttpRequest) -> QuerySet[Any] | None:
    """The rows of ``model`` a form may offer the user, or None when the model is not territorial."""
    if model is User:
        return visible_users(request.user)
    queryset = model._default_manager.all()
    visible_to = getattr(queryset, "visible_to", None)
    return visible_to(request.user) if visible_to is not None else None


class ScopedAdminMixin(_AdminBase):
    """Territorial scoping and role-based permissions for a ``ModelAdmin``.

    - ``get_queryset`` is the model's ``visible_to(user)`` (override ``scope_queryset`` for a
      model without one, or set ``scoped = False`` for a global table such as the taxonomy);
      so an object outside the scope does not exist for the user: Django's change, history
      and delete views redirect to the index with "doesn't exist", exactly as for a bad id.
    - ``view_roles`` may open the module; ``manage_roles`` may add, change and delete
      (``add_roles``/``delete_roles`` narrow that when set); each object must also pass
      ``can_manage(request, obj)``. Empty ``manage_roles`` means superusers only.
    - Foreign-key and many-to-many choices offer only what the user may see
      (``choice_queryset`` decides, per field).
    """

    scoped: ClassVar[bool] = True
    view_roles: ClassVar[frozenset[str]] = ANY_ROLE
    manage_roles: ClassVar[frozenset[str]] = frozenset()
    add_roles: ClassVar[frozenset[str] | None] = None
    delete_roles: ClassVar[frozenset[str] | None] = None

    # --- scope -----------------------------------------------------------------------
    def scope(self, request: HttpRequest) -> Scope:
        return request_scope(request)

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow ``queryset`` to what the user may see."""
        visible_to = getattr(queryset, "visible_to", None)
        if visible_to is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__}: {queryset.model.__name__} has no visible_to(); "
                "override scope_queryset() or set scoped = False."
            )
        return visible_to(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        return self.scope_queryset(request, queryset) if self.scoped else queryset

    def obj_in_scope(self, request: HttpRequest, obj: Model) -> bool:
        """Whether ``obj`` is among the rows the user may see (memoised per request)."""
        if not self.scoped or obj.pk is None or is_superuser(request):
            return True
        memo: dict[tuple[str, Any], bool] = request.__dict__.setdefault(_MEMO_ATTR, {})
        key = (obj._meta.label, obj.pk)
        if key not in memo:
            memo[key] = self.get_queryset(request).filter(pk=obj.pk).exists()
        return memo[key]

    def can_manage(self, request: HttpRequest, obj: Any) -> bool:
        """Whether the user may change or delete this (visible) object; override per model."""
        return True

    # --- permissions -------------------------------------------------------------------
    def has_module_permission(self, request: HttpRequest) -> bool:
        return holds_any(request, self.view_roles | self.manage_roles)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_module_permission(request):
            return False
        return obj is None or self.obj_in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        roles = self.manage_roles if self.add_roles is None else self.add_roles
        return holds_any(request, roles)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj, self.manage_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        roles = self.manage_roles if self.delete_roles is None else self.delete_roles
        return self._may_write(request, obj, roles)

    def _may_write(self, request: HttpRequest, obj: Any, roles: frozenset[str]) -> bool:
        if is_superuser(request):
            return True
        if not holds_any(request, roles):
            return False
        return obj is None or (self.obj_in_scope(request, obj) and self.can_manage(request, obj))

    # --- choices -------------------------------------------------------------------------
    def choice_queryset(self, db_field: Any, request: HttpRequest) -> QuerySet[Any] | None:
        """The choices for a relation field, or None for Django's default."""
        return scoped_choices(db_field.remote_field.model, request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs:
            queryset = self.choice_queryset(db_field, request)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs:
            queryset = self.choice_queryset(db_field, request)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedInlineMixin(_InlineBase):
    """An inline whose rows are edited by whoever may change the parent (``can_edit`` refines)."""

    def _parent_admin(self) -> Any:
        return self.admin_site.get_model_admin(self.parent_model)

    def can_edit(self, request: HttpRequest, obj: Any) -> bool:
        """Whether the user may edit the rows under ``obj`` (None: a parent being added)."""
        parent = self._parent_admin()
        if obj is None:
            return bool(parent.has_add_permission(request))
        return bool(parent.has_change_permission(request, obj))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(self._parent_admin().has_view_permission(request, obj))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.can_edit(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.can_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.can_edit(request, obj)

    def choice_queryset(self, db_field: Any, request: HttpRequest) -> QuerySet[Any] | None:
        return scoped_choices(db_field.remote_field.model, request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs:
            queryset = self.choice_queryset(db_field, request)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _autocomplete_target(request: HttpRequest) -> tuple[str, str] | None:
    """(model_name, field_name) when ``request`` is the admin's autocomplete lookup."""
    if not request.path.endswith("/autocomplete/"):
        return None
    return request.GET.get("model_name", ""), request.GET.get("field_name", "")


# --- Areas ------------------------------------------------------------------------------


class AlleyProfileInline(ScopedInlineMixin, admin.StackedInline):
    """The alley's profile and board, edited on the alley's page."""

    model = AlleyProfile
    can_delete = False
    max_num = 1
    fields = (
        ("households", "shops", "resident_units"),
        "features",
        "convention",
        ("office_hours", "board_contact_phone"),
    )


class AreaRoleInline(ScopedInlineMixin, admin.TabularInline):
    """The people holding a role on this area (on an alley: chiefs, deputies and teams)."""

    model = RoleAssignment
    fk_name = "area"
    fields = ("user", "role", "service_kind", "is_active", "since")
    autocomplete_fields = ("user",)
    extra = 1
    verbose_name = _("人员")
    verbose_name_plural = _("人员（巷长、副巷长、服务队、督导队、网格员等）")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("user", "area")  # str(row) names both

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> type[BaseInlineFormSet]:
        formset = super().get_formset(request, obj, **kwargs)
        role_field = formset.form.base_fields.get("role")
        if obj is not None and role_field is not None:
            # Offer only the roles that belong on this level (the model rejects the rest anyway).
            allowed = {role for role, level in ROLE_LEVEL.items() if level == obj.level}
            role_field.choices = [c for c in role_field.choices if not c[0] or c[0] in allowed]  # type: ignore[attr-defined]
        return formset


@admin.register(Area)
class AreaAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The area tree; a manager edits what lies below their own area."""

    form = AreaForm
    list_display = ("code", "name", "level", "parent", "is_active")
    list_filter = ("level", "is_active")
    search_fields = ("^code", "name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    view_roles = frozenset(ROLE_LEVEL)
    manage_roles = MANAGER_ROLES

    def obj_in_scope(self, request: HttpRequest, obj: Any) -> bool:
        return obj.pk is None or self.scope(request).covers_code(obj.code)

    def can_manage(self, request: HttpRequest, obj: Any) -> bool:
        return can_manage_area(self.scope(request), obj.code)

    def choice_queryset(self, db_field: Any, request: HttpRequest) -> QuerySet[Any] | None:
        if db_field.name == "parent":
            return Area.objects.filter(parent_choice_q(self.scope(request)))
        return super().choice_queryset(db_field, request)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # Autocomplete offers what the form will accept, not everything the user can see.
        target = _autocomplete_target(request)
        if target == ("area", "parent"):
            queryset = queryset.filter(parent_choice_q(self.scope(request)))
        elif target == ("roleassignment", "area"):
            queryset = queryset.filter(manageable_area_q(self.scope(request)))
        return queryset, may_have_duplicates

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        # The class is built per request, so the editor's scope can ride on it.
        form.editor_scope = None if is_superuser(request) else self.scope(request)  # type: ignore[attr-defined]
        return form

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets: list[Any] = [(None, {"fields": ("code", "name", "level", "parent", "is_active")})]
        if obj is not None and obj.level in (AreaLevel.ALLEY, AreaLevel.BUILDING):
            fieldsets.append((_("公示牌二维码"), {"fields": ("qr_code", "report_link")}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = ["qr_code", "report_link"]
        if obj is not None and not is_superuser(request):
            # Codes are printed on boards and prefix the subtree; moving an area is the level above's call.
            readonly += ["code", "level", "parent"]
        return readonly

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[type[Any]]:
        if obj is None:
            return []
        if obj.level == AreaLevel.ALLEY:
            return [AlleyProfileInline, AreaRoleInline]
        return [AreaRoleInline]

    @admin.display(description=_("二维码"))
    def qr_code(self, obj: Area) -> str:
        try:
            src = reverse("alley-qr", kwargs={"code": obj.code})
        except NoReverseMatch:
            return "-"
        return format_html(
            '<a href="{}" download><img src="{}" width="160" height="160" alt="{}"></a>',
            src,
            src,
            _("街巷二维码"),
        )

    @admin.display(description=_("扫码反映问题地址"))
    def report_link(self, obj: Area) -> str:
        url = alley_report_url(obj.code)
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)


# --- Role assignments ---------------------------------------------------------------------


@admin.register(Building)
class BuildingAdmin(AreaAdmin):
    """Buildings (楼栋) under alleys, where a community uses them: a page of their own, so the alley's
    page and the area tree's choices stay as they were for communities without buildings. The
    community (and up) adds them; each building's page appoints its building heads (楼栋长)."""

    form = BuildingForm
    # The communities (and up) that keep the buildings, and the building heads; the alley's team reads
    # its buildings on the area list, so its admin index is as before.
    view_roles = MANAGER_ROLES | {Role.BUILDING_HEAD}
    # Narrower than the area tree's (no level column or filter, the parent a plain select of alleys).
    list_display = ("code", "name", "parent", "is_active")  # type: ignore[assignment]
    list_filter = ("is_active",)  # type: ignore[assignment]
    autocomplete_fields = ()  # type: ignore[assignment]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(level=AreaLevel.BUILDING)

    def choice_queryset(self, db_field: Any, request: HttpRequest) -> QuerySet[Any] | None:
        if db_field.name == "parent":  # the alleys the user manages
            return Area.objects.filter(manageable_area_q(self.scope(request)), level=AreaLevel.ALLEY)
        return super().choice_queryset(db_field, request)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets: list[Any] = [(None, {"fields": ("parent", "code", "name", "is_active")})]
        if obj is not None:
            fieldsets.append((_("楼栋二维码"), {"fields": ("qr_code", "report_link")}))
        return fieldsets

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[type[Any]]:
        return [] if obj is None else [AreaRoleInline]


class AssignmentChoicesMixin:
    """Areas and departments offered on a role assignment: only those the user may manage."""

    def choice_queryset(self, db_field: Any, request: HttpRequest) -> QuerySet[Any] | None:
        scope = request_scope(request)
        if db_field.name == "area":
            return Area.objects.filter(manageable_area_q(scope))
        if db_field.name == "department":
            return Department.objects.filter(manageable_department_q(scope)).select_related("area")
        return super().choice_queryset(db_field, request)  # type: ignore[misc]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AssignmentChoicesMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Every role in the user's territory, to find who is chief where."""

    list_display = ("user", "person_name", "role", "area", "department", "service_kind", "is_active", "since")
    list_filter = ("role", "service_kind", "is_active")
    search_fields = (
        "user__username",
        "user__staff_profile__full_name",
        "^area__code",
        "area__name",
        "department__name",
    )
    list_select_related = ("user__staff_profile", "area", "department")
    autocomplete_fields = ("user", "area", "department")
    view_roles = MANAGER_ROLES
    manage_roles = MANAGER_ROLES

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(pk__in=visible_assignments(request.user).values("pk"))

    def can_manage(self, request: HttpRequest, obj: Any) -> bool:
        return can_manage_assignment(self.scope(request), obj)

    @admin.display(description=_("姓名"), ordering="user__staff_profile__full_name")
    def person_name(self, obj: RoleAssignment) -> str:
        profile = getattr(obj.user, "staff_profile", None)
        return profile.full_name if profile is not None else ""


# --- Departments ----------------------------------------------------------------------------


class DepartmentAreaFilter(admin.SimpleListFilter):
    """The district or city of the departments the user can see (not the whole tree)."""

    title = _("所属区/市")
    parameter_name = "area"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        departments = model_admin.get_queryset(request)
        areas = Area.objects.filter(pk__in=departments.values("area_id")).order_by("code")
        return [(str(a.pk), f"{a.name}（{a.code}）") for a in areas]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(area_id=value) if value and value.isdigit() else queryset


class DepartmentRoleInline(AssignmentChoicesMixin, ScopedInlineMixin, admin.TabularInline):
    """The department's contact and leader logins (granted by the organisation department)."""

    model = RoleAssignment
    fk_name = "department"
    fields = ("user", "role", "is_active", "since")
    autocomplete_fields = ("user",)
    extra = 1
    verbose_name = _("人员")
    verbose_name_plural = _("部门人员（联系人、分管负责人）")

    def can_edit(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None:
            return holds_any(request, ORG_ROLES)
        return is_superuser(request) or can_manage_department(request_scope(request), obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("user", "department")  # str(row) names both

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> type[BaseInlineFormSet]:
        formset = super().get_formset(request, obj, **kwargs)
        role_field = formset.form.base_fields.get("role")
        if role_field is not None:
            role_field.choices = [c for c in role_field.choices if not c[0] or c[0] in DEPARTMENT_ROLES]  # type: ignore[attr-defined]
        return formset


# Fields a department's own contact or leader may keep up to date.
DEPARTMENT_CONTACT_FIELDS = ("leader_name", "leader_phone", "contact_name", "contact_phone")


@admin.register(Department)
class DepartmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Departments and state enterprises; organisation departments manage those of their district/city."""

    list_display = (
        "name",
        "code",
        "kind",
        "area",
        "leader_name",
        "contact_name",
        "contact_phone",
        "is_active",
    )
    list_filter = ("kind", DepartmentAreaFilter, "is_active")
    search_fields = ("name", "code", "role_key", "leader_name", "contact_name")
    list_select_related = ("area",)
    # dispatch/admin_categories.py adds the duty list (权责清单) in front.
    inlines = [DepartmentRoleInline]
    view_roles = ANY_ROLE
    manage_roles = ORG_ROLES | DEPARTMENT_ROLES
    add_roles = ORG_ROLES
    delete_roles = ORG_ROLES
    fields = (
        ("code", "name"),
        ("kind", "area", "role_key"),
        ("leader_name", "leader_phone"),
        ("contact_name", "contact_phone"),
        "is_active",
    )

    def _is_org_manager(self, request: HttpRequest, obj: Department) -> bool:
        return is_superuser(request) or can_manage_department(self.scope(request), obj)

    def can_manage(self, request: HttpRequest, obj: Any) -> bool:
        return self._is_org_manager(request, obj) or obj.pk in self.scope(request).department_ids

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not self._is_org_manager(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and not self._is_org_manager(request, obj):
            # The department's own people keep their contacts current; the rest is the org department's.
            return ("code", "name", "kind", "area", "role_key", "is_active")
        return []

    def choice_queryset(self, db_field: Any, request: HttpRequest) -> QuerySet[Any] | None:
        if db_field.name == "area":
            return Area.objects.filter(department_area_choice_q(self.scope(request)))
        return super().choice_queryset(db_field, request)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if _autocomplete_target(request) == ("roleassignment", "department"):
            queryset = queryset.filter(manageable_department_q(self.scope(request)))
        return queryset, may_have_duplicates


# --- Users ----------------------------------------------------------------------------------


class StaffProfileInline(ScopedInlineMixin, admin.StackedInline):
    """Name, phone and title of a staff member."""

    model = StaffProfile
    can_delete = False
    max_num = 1
    fields = (("full_name", "phone"), ("title", "is_party_member"))


class UserRoleInline(AssignmentChoicesMixin, ScopedInlineMixin, admin.TabularInline):
    """The person's roles; a manager grants roles only on what they manage."""

    model = RoleAssignment
    fk_name = "user"
    fields = ("role", "area", "department", "service_kind", "is_active", "since")
    autocomplete_fields = ("area", "department")
    extra = 0
    verbose_name = _("角色")
    verbose_name_plural = _("角色任命")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Roles elsewhere stay out of sight (the page is read-only for such a person anyway).
        visible = visible_assignments(request.user).values("pk")
        return super().get_queryset(request).filter(pk__in=visible).select_related("area", "department")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> type[BaseInlineFormSet]:
        kwargs.setdefault("validate_min", True)
        return super().get_formset(request, obj, **kwargs)

    def get_min_num(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        # A manager's new person must land in their territory, or they would vanish from view.
        return 1 if obj is None and not is_superuser(request) else 0

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        return 0 if obj is None and not is_superuser(request) else 1


class RoleFilter(admin.SimpleListFilter):
    """Users holding a given role (active assignments)."""

    title = _("角色")
    parameter_name = "role"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        return [(value, str(label)) for value, label in Role.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value not in Role.values:
            return queryset
        holders = RoleAssignment.objects.filter(role=value, is_active=True).values("user_id")
        return queryset.filter(pk__in=holders)


# Importing django.contrib.auth.admin registered Django's own UserAdmin; this one replaces it.
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class ScopedUserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    """Logins of the people in the user's territory, with their profile and roles."""

    inlines = [StaffProfileInline, UserRoleInline]
    list_display = ("username", "person_name", "role_summary", "is_staff", "is_active")
    search_fields = ("username", "staff_profile__full_name", "staff_profile__phone", "email")
    view_roles = MANAGER_ROLES
    manage_roles = MANAGER_ROLES

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if is_superuser(request):
            return queryset
        return queryset.filter(pk__in=visible_users(request.user).values("pk"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        roles = RoleAssignment.objects.select_related("area", "department").order_by("role")
        return (
            super()
            .get_queryset(request)
            .select_related("staff_profile")
            .prefetch_related(Prefetch("roles", queryset=roles))
        )

    def can_manage(self, request: HttpRequest, obj: Any) -> bool:
        return can_manage_user(self.scope(request), obj)

    def get_list_filter(self, request: HttpRequest) -> Any:
        if is_superuser(request):
            return ("is_staff", "is_superuser", "is_active", RoleFilter, "groups")
        return ("is_staff", "is_active", RoleFilter)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if is_superuser(request):
            return super().get_fieldsets(request, obj)
        # No is_superuser, groups or permissions: those are granted by superusers only.
        if obj is None:
            return (
                (
                    None,
                    {
                        "classes": ("wide",),
                        "fields": ("username", "usable_password", "password1", "password2", "is_staff"),
                    },
                ),
            )
        return (
            (None, {"fields": ("username", "password")}),
            (_("个人信息"), {"fields": ("first_name", "last_name", "email")}),
            (_("账号状态"), {"fields": ("is_active", "is_staff", "last_login", "date_joined")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if is_superuser(request) or obj is None:
            return ()
        return ("last_login", "date_joined")

    @admin.display(description=_("姓名"), ordering="staff_profile__full_name")
    def person_name(self, obj: Any) -> str:
        profile = getattr(obj, "staff_profile", None)
        return profile.full_name if profile is not None else ""

    @admin.display(description=_("角色"))
    def role_summary(self, obj: Any) -> str:
        return "；".join(
            f"{a.get_role_display()}·{a.area or a.department}" for a in obj.roles.all() if a.is_active
        )


@admin.register(Expense)
class ExpenseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Chiefs' expenses, read-only: filing, approving, returning and paying are the staff pages' services.

    The receipt is not shown here: the staff page serves it to the chief, the community and superusers.
    """

    view_roles = frozenset(
        {Role.CHIEF, Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG}
    )
    list_display = ("spent_on", "alley", "chief", "purpose", "amount", "state", "paid_on")
    list_filter = ("state", "purpose")
    list_select_related = ("alley", "chief")
    date_hierarchy = "spent_on"
    search_fields = ("alley__name", "alley__code", "description")
    exclude = ("receipt",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
