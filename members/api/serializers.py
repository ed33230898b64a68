"""Serializers of the 双报到 API: phones as the caller may see them; inputs that the services check again."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alleys.choices import AreaLevel, ServiceKind
from alleys.models import Area
from members.choices import NeedKind
from members.models import (
    HOURS_MAX,
    HOURS_MIN,
    PLACES_MAX,
    Claim,
    PartyOrganization,
    Registration,
    ServiceNeed,
)
from members.rules import allowed_transitions, phone_for


class RegistrationSerializer(serializers.ModelSerializer[Registration]):
    """A member's registration; the phone is masked unless the caller is the member or the home community."""

    organization_name = serializers.CharField(source="organization.name", read_only=True)
    community = serializers.CharField(source="community.code", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)
    alley = serializers.CharField(source="alley.code", read_only=True, allow_null=True, default=None)
    phone = serializers.SerializerMethodField(
        help_text=_("居住社区工作人员和本人可见完整号码，其他人为打码号码。")
    )
    has_login = serializers.SerializerMethodField()
    allowed = serializers.SerializerMethodField(help_text=_("调用者现在可进行的操作。"))

    class Meta:
        model = Registration
        fields = (
            "id",
            "full_name",
            "phone",
            "organization",
            "organization_name",
            "community",
            "community_name",
            "alley",
            "skills",
            "state",
            "registered_at",
            "decided_at",
            "decline_reason",
            "has_login",
            "allowed",
        )
        read_only_fields = fields

    def get_phone(self, obj: Registration) -> str:
        return phone_for(self.context["request"].user, obj)

    def get_has_login(self, obj: Registration) -> bool:
        return obj.user_id is not None

    def get_allowed(self, obj: Registration) -> list[str]:
        return allowed_transitions(obj, self.context["request"].user)


class RegistrationInputSerializer(serializers.Serializer[Any]):
    """A registration: the community enters a member without a login, or a signed-in member registers."""

    full_name = serializers.CharField(max_length=50)
    phone = serializers.CharField(max_length=20)
    organization = serializers.PrimaryKeyRelatedField(
        queryset=PartyOrganization.objects.filter(is_active=True)
    )
    community = serializers.SlugRelatedField(
        slug_field="code", queryset=Area.objects.filter(level=AreaLevel.COMMUNITY)
    )
    alley = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Area.objects.filter(level=AreaLevel.ALLEY),
        required=False,
        allow_null=True,
    )
    skills = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    consent = serializers.BooleanField(help_text=_("同意为组织党员服务使用姓名、手机、单位和住址。"))


class ReasonSerializer(serializers.Serializer[Any]):
    """Why (declining a registration, cancelling a need)."""

    reason = serializers.CharField(max_length=300)


class NeedSerializer(serializers.ModelSerializer[ServiceNeed]):
    """A service need the community posted."""

    community = serializers.CharField(source="community.code", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)
    alley = serializers.CharField(source="alley.code", read_only=True, allow_null=True, default=None)
    allowed = serializers.SerializerMethodField()

    class Meta:
        model = ServiceNeed
        fields = (
            "id",
            "community",
            "community_name",
            "alley",
            "kind",
            "title",
            "description",
            "places",
            "due_on",
            "state",
            "posted_at",
            "cancel_reason",
            "allowed",
        )
        read_only_fields = fields

    def get_allowed(self, obj: ServiceNeed) -> list[str]:
        return allowed_transitions(obj, self.context["request"].user)


class NeedInputSerializer(serializers.Serializer[Any]):
    """A new need."""

    community = serializers.SlugRelatedField(
        slug_field="code", queryset=Area.objects.filter(level=AreaLevel.COMMUNITY)
    )
    kind = serializers.ChoiceField(choices=NeedKind.choices)
    title = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    places = serializers.IntegerField(min_value=1, max_value=PLACES_MAX, default=1)
    alley = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Area.objects.filter(level=AreaLevel.ALLEY),
        required=False,
        allow_null=True,
    )
    due_on = serializers.DateField(required=False, allow_null=True)


class ClaimInputSerializer(serializers.Serializer[Any]):
    """Whom the claim is for: the caller's own registration when left out; the community names a member."""

    registration = serializers.PrimaryKeyRelatedField(
        queryset=Registration.objects.all(), required=False, allow_null=True
    )


class ClaimSerializer(serializers.ModelSerializer[Claim]):
    """One claim and the service recorded."""

    need_title = serializers.CharField(source="need.title", read_only=True)
    member_name = serializers.CharField(source="registration.full_name", read_only=True)
    organization = serializers.IntegerField(source="registration.organization_id", read_only=True)
    has_photo = serializers.SerializerMethodField()
    allowed = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = (
            "id",
            "need",
            "need_title",
            "registration",
            "member_name",
            "organization",
            "state",
            "claimed_at",
            "hours",
            "note",
            "served_on",
            "recorded_at",
            "confirmed_at",
            "has_photo",
            "allowed",
        )
        read_only_fields = fields

    def get_has_photo(self, obj: Claim) -> bool:
        return bool(obj.photo)

    def get_allowed(self, obj: Claim) -> list[str]:
        return allowed_transitions(obj, self.context["request"].user)


class RecordInputSerializer(serializers.Serializer[Any]):
    """The service done."""

    hours = serializers.DecimalField(max_digits=3, decimal_places=1, min_value=HOURS_MIN, max_value=HOURS_MAX)
    note = serializers.CharField(max_length=500)
    served_on = serializers.DateField()
    photo = serializers.FileField(required=False, allow_null=True, help_text=_("JPG 或 PNG。"))


class TeamInputSerializer(serializers.Serializer[Any]):
    """Asking to join an alley's service team."""

    alley = serializers.SlugRelatedField(
        slug_field="code", queryset=Area.objects.filter(level=AreaLevel.ALLEY)
    )
    service_kind = serializers.ChoiceField(choices=ServiceKind.choices)
