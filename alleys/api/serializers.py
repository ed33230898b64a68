"""API representations of the territory, the alleys with their teams, and departments."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alleys.models import Area, Department, RoleAssignment
from alleys.people import Member


def person_name(user: Member | None) -> str:
    """A staff member's display name: profile name, else the account's full name, else the login."""
    if user is None:
        return ""
    try:
        profile = user.staff_profile
    except ObjectDoesNotExist:
        profile = None
    if profile is not None and profile.full_name:
        return str(profile.full_name)
    return str(user.get_full_name() or user.get_username())


class AreaSerializer(serializers.ModelSerializer[Area]):
    """One unit of the territory tree."""

    # Named like Field.parent on purpose (the wire format); DRF moves declared fields off the class.
    parent = serializers.SerializerMethodField(help_text="上级区域的统一编码（市级为 null）")  # type: ignore[assignment]
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Area
        fields: tuple[str, ...] = ("code", "name", "level", "level_label", "parent", "is_active")

    def get_parent(self, obj: Area) -> str | None:
        # The parent's code is the child's code cut to the parent level's width: no query needed.
        from alleys.choices import CODE_LENGTH, level_above

        above = level_above(obj.level)
        return obj.code[: CODE_LENGTH[above]] if above else None


class TeamMemberSerializer(serializers.ModelSerializer[RoleAssignment]):
    """A member of an alley's team: role and name only (phones stay off the API)."""

    role_label = serializers.CharField(source="get_role_display", read_only=True)
    name = serializers.SerializerMethodField()
    service_kind_label = serializers.CharField(source="get_service_kind_display", read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ("role", "role_label", "service_kind", "service_kind_label", "name")

    def get_name(self, obj: RoleAssignment) -> str:
        return person_name(obj.user)


class AlleyProfileFieldsMixin(serializers.Serializer[Any]):
    """The public facts of an alley's board."""

    households = serializers.SerializerMethodField()
    shops = serializers.SerializerMethodField()
    resident_units = serializers.SerializerMethodField()
    features = serializers.SerializerMethodField()
    convention = serializers.SerializerMethodField()
    office_hours = serializers.SerializerMethodField()
    board_contact_phone = serializers.SerializerMethodField()

    def _profile(self, obj: Area) -> Any:
        try:
            return obj.profile
        except ObjectDoesNotExist:
            return None

    def _get(self, obj: Area, name: str, default: Any) -> Any:
        profile = self._profile(obj)
        return getattr(profile, name) if profile is not None else default

    def get_households(self, obj: Area) -> int:
        return int(self._get(obj, "households", 0))

    def get_shops(self, obj: Area) -> int:
        return int(self._get(obj, "shops", 0))

    def get_resident_units(self, obj: Area) -> int:
        return int(self._get(obj, "resident_units", 0))

    def get_features(self, obj: Area) -> str:
        return str(self._get(obj, "features", ""))

    def get_convention(self, obj: Area) -> str:
        return str(self._get(obj, "convention", ""))

    def get_office_hours(self, obj: Area) -> str:
        return str(self._get(obj, "office_hours", ""))

    def get_board_contact_phone(self, obj: Area) -> str:
        return str(self._get(obj, "board_contact_phone", ""))


class AlleySerializer(AlleyProfileFieldsMixin, AreaSerializer):
    """An alley or grid with its board facts and its team."""

    team = serializers.SerializerMethodField()

    class Meta(AreaSerializer.Meta):
        fields = (
            *AreaSerializer.Meta.fields,
            "households",
            "shops",
            "resident_units",
            "features",
            "convention",
            "office_hours",
            "board_contact_phone",
            "team",
        )

    @extend_schema_field(TeamMemberSerializer(many=True))
    def get_team(self, obj: Area) -> list[dict[str, Any]]:
        # ``team`` is prefetched by the view (active assignments with their users' profiles).
        members = getattr(obj, "team", None)
        if members is None:
            members = obj.role_assignments.filter(is_active=True).select_related("user__staff_profile")
        return list(TeamMemberSerializer(members, many=True, context=self.context).data)


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    """A department or enterprise that answers whistles."""

    area: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="所属区/市的统一编码"
    )
    area_name = serializers.CharField(source="area.name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Department
        fields = (
            "id",
            "code",
            "name",
            "kind",
            "kind_label",
            "area",
            "area_name",
            "role_key",
            "leader_name",
            "contact_name",
            "contact_phone",
            "is_active",
        )
