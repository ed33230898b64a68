"""The 双报到 API: registrations, needs and claims the caller may see; every write is a service call."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.base import ApiViewMixin, filter_backends
from core.errors import ActionRefused
from members import services
from members.choices import ClaimState, NeedKind, NeedState, RegistrationState
from members.models import Claim, Registration, ServiceNeed
from members.rules import posts_needs

from .serializers import (
    ClaimInputSerializer,
    ClaimSerializer,
    NeedInputSerializer,
    NeedSerializer,
    ReasonSerializer,
    RecordInputSerializer,
    RegistrationInputSerializer,
    RegistrationSerializer,
    TeamInputSerializer,
)

TAGS = ["members"]


class RegistrationFilter(django_filters.FilterSet):
    """Registrations by state, work unit, home community."""

    state = django_filters.ChoiceFilter(choices=RegistrationState.choices)
    organization = django_filters.NumberFilter(field_name="organization_id")
    community = django_filters.CharFilter(field_name="community__code")

    class Meta:
        model = Registration
        fields: list[str] = []


def _input(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@extend_schema_view(
    list=extend_schema(summary="党员报到列表", tags=TAGS),
    retrieve=extend_schema(summary="党员报到详情", tags=TAGS),
    create=extend_schema(
        summary="报到（社区代为登记，或已登录的党员本人）",
        request=RegistrationInputSerializer,
        responses={201: RegistrationSerializer},
        tags=TAGS,
    ),
)
class RegistrationViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Registration]):
    """In-service Party members' registrations at their home communities, scoped to the caller."""

    serializer_class = RegistrationSerializer
    filterset_class = RegistrationFilter
    filter_backends = filter_backends()
    ordering_fields = ("registered_at", "id")

    def get_queryset(self) -> QuerySet[Registration]:
        return Registration.objects.visible_to(self.request.user).select_related(
            "community", "alley", "organization"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _input(RegistrationInputSerializer, request)
        registration = services.registration_create(user=request.user, now=timezone.now(), **data)
        return Response(self.get_serializer(registration).data, status=status.HTTP_201_CREATED)

    def _done(self, registration: Registration) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=registration.pk)).data)

    @extend_schema(
        summary="确认报到（居住社区）", request=None, responses={200: RegistrationSerializer}, tags=TAGS
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        obj = self.get_object()
        return self._done(
            services.registration_confirm(registration=obj, user=request.user, now=timezone.now())
        )

    @extend_schema(
        summary="不予通过（居住社区）",
        request=ReasonSerializer,
        responses={200: RegistrationSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str) -> Response:
        obj = self.get_object()
        data = _input(ReasonSerializer, request)
        return self._done(
            services.registration_decline(
                registration=obj, user=request.user, reason=data["reason"], now=timezone.now()
            )
        )

    @extend_schema(
        summary="退出报到（本人或居住社区）", request=None, responses={200: RegistrationSerializer}, tags=TAGS
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        obj = self.get_object()
        return self._done(
            services.registration_withdraw(registration=obj, user=request.user, now=timezone.now())
        )

    @extend_schema(
        summary="申请加入街巷服务队（本人或居住社区；社区确认后成为服务队员）",
        request=TeamInputSerializer,
        responses={200: RegistrationSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"])
    def team(self, request: Request, pk: str) -> Response:
        obj = self.get_object()
        data = _input(TeamInputSerializer, request)
        services.team_request(registration=obj, user=request.user, now=timezone.now(), **data)
        return self._done(obj)


class NeedFilter(django_filters.FilterSet):
    """Needs by state, kind, community."""

    state = django_filters.ChoiceFilter(choices=NeedState.choices)
    kind = django_filters.ChoiceFilter(choices=NeedKind.choices)
    community = django_filters.CharFilter(field_name="community__code")

    class Meta:
        model = ServiceNeed
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="服务需求列表", tags=TAGS),
    retrieve=extend_schema(summary="服务需求详情", tags=TAGS),
    create=extend_schema(
        summary="发布服务项目或微心愿（社区）",
        request=NeedInputSerializer,
        responses={201: NeedSerializer},
        tags=TAGS,
    ),
)
class NeedViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[ServiceNeed]):
    """Service needs the caller may see; claiming and cancelling are the services'."""

    serializer_class = NeedSerializer
    filterset_class = NeedFilter
    filter_backends = filter_backends()
    ordering_fields = ("posted_at", "id")

    def get_queryset(self) -> QuerySet[ServiceNeed]:
        return ServiceNeed.objects.visible_to(self.request.user).select_related("community", "alley")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _input(NeedInputSerializer, request)
        need = services.need_post(user=request.user, now=timezone.now(), **data)
        return Response(self.get_serializer(need).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="认领（本人；社区可为本社区党员代为认领）",
        request=ClaimInputSerializer,
        responses={201: ClaimSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str) -> Response:
        need = self.get_object()
        data = _input(ClaimInputSerializer, request)
        registration = data.get("registration")
        if registration is None:
            registration = Registration.objects.filter(
                Q(user_id=request.user.pk), state=RegistrationState.CONFIRMED
            ).first()
            if registration is None:
                raise ActionRefused(_("报到经社区确认后才能认领。"))
        elif not posts_needs(request.user) and registration.user_id != request.user.pk:
            # Someone else's registration is not the caller's to name (and may not be visible to them).
            registration = Registration.objects.visible_to(request.user).filter(pk=registration.pk).first()
            if registration is None:
                raise ActionRefused(_("只能为自己认领。"), field="registration")
        claim = services.claim_take(
            need=need, registration=registration, user=request.user, now=timezone.now()
        )
        return Response(
            ClaimSerializer(claim, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="取消需求（社区）", request=ReasonSerializer, responses={200: NeedSerializer}, tags=TAGS
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        need = self.get_object()
        data = _input(ReasonSerializer, request)
        need = services.need_cancel(need=need, user=request.user, reason=data["reason"], now=timezone.now())
        return Response(self.get_serializer(need).data)


class ClaimFilter(django_filters.FilterSet):
    """Claims by state and need."""

    state = django_filters.ChoiceFilter(choices=ClaimState.choices)
    need = django_filters.NumberFilter(field_name="need_id")

    class Meta:
        model = Claim
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="认领与服务记录", tags=TAGS),
    retrieve=extend_schema(summary="认领详情", tags=TAGS),
)
class ClaimViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet[Claim]):
    """Claims the caller may see: their own, their community's, their work unit's members'."""

    serializer_class = ClaimSerializer
    filterset_class = ClaimFilter
    filter_backends = filter_backends()
    ordering_fields = ("claimed_at", "id")

    def get_queryset(self) -> QuerySet[Claim]:
        return Claim.objects.visible_to(self.request.user).select_related("need__community", "registration")

    def _done(self, claim: Claim) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=claim.pk)).data)

    @extend_schema(
        summary="记录服务（时长、内容、照片）",
        request={"multipart/form-data": RecordInputSerializer, "application/json": RecordInputSerializer},
        responses={200: ClaimSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"])
    def record(self, request: Request, pk: str) -> Response:
        claim = self.get_object()
        data = _input(RecordInputSerializer, request)
        return self._done(services.claim_record(claim=claim, user=request.user, now=timezone.now(), **data))

    @extend_schema(summary="确认服务完成（社区）", request=None, responses={200: ClaimSerializer}, tags=TAGS)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        claim = self.get_object()
        return self._done(services.claim_confirm(claim=claim, user=request.user, now=timezone.now()))

    @extend_schema(
        summary="放弃认领（本人或社区）", request=None, responses={200: ClaimSerializer}, tags=TAGS
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        claim = self.get_object()
        return self._done(services.claim_withdraw(claim=claim, user=request.user, now=timezone.now()))
