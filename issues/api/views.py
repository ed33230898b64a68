"""API of the case: list and detail with timeline, intake by staff, the state machine's transitions as actions.

Viewsets declare; ``get_queryset`` scopes every read with ``visible_to`` (a case outside
the caller's territory or departments is 404); each action validates its input,
calls the one service in ``issues.workflow`` that owns the transition, and answers the
case as it now stands. The service decides who may act (403) and when (409).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django_filters
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alleys.people import signed_in
from core.api.base import ApiViewMixin, filter_backends
from core.api.errors import ErrorSerializer
from core.api.schema import ApiAutoSchema
from core.api.throttling import ClientAddressAnonThrottle, LoginLockedOut
from core.transient import retry_once
from dispatch.models import CategoryClass, CategoryType
from issues import workflow
from issues.choices import CaseSource, FeedbackChannel
from issues.filters import CaseFilter
from issues.patrols import NOT_ON_THE_TEAM, may_log_patrol
from issues.workflow.assignment import person_name

from ..models import ApiClient, Case, CaseNote, PatrolLog
from .filters import PatrolLogFilter
from .selectors import case_detail_queryset, load_case_detail, visible_case
from .serializers import (
    AssignInputSerializer,
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseListSerializer,
    CaseNoteInputSerializer,
    CaseNoteSerializer,
    CategoryClassSerializer,
    CategoryTypeSerializer,
    ConsultInputSerializer,
    DispatchInputSerializer,
    EmptyInputSerializer,
    FeedbackInputSerializer,
    MergeInputSerializer,
    NoteInputSerializer,
    PatrolLogSerializer,
    ProgressInputSerializer,
    ReasonInputSerializer,
    ResolveInputSerializer,
    ReturnVisitInputSerializer,
    VerifyInputSerializer,
    WhistleInputSerializer,
)

CASE_RELATED = ("category", "category__category_class", "alley", "building", "holder_area", "lead_department")


def _transition_schema(summary: str, request: Any) -> Callable[[Any], Any]:
    return extend_schema(
        summary=summary,
        request=request,
        responses={200: CaseDetailSerializer},
        tags=["cases"],
    )


@extend_schema_view(
    list=extend_schema(summary="案件列表", tags=["cases"]),
    retrieve=extend_schema(summary="案件详情（含办理记录）", tags=["cases"]),
    create=extend_schema(
        summary="登记案件（巡查、走访、热线、系统对接）",
        tags=["cases"],
        request=CaseCreateSerializer,
        responses={201: CaseDetailSerializer},
    ),
)
class CaseViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Case]):
    """Cases in the caller's territory or dispatched to the caller's department."""

    filterset_class = CaseFilter
    filter_backends = filter_backends()
    ordering_fields = ("created_at", "updated_at", "accept_due", "resolve_due", "id")
    ordering = ("-created_at", "-id")

    def get_queryset(self) -> QuerySet[Case]:
        queryset = Case.objects.visible_to(self.request.user)
        if self.action == "list":
            return queryset.select_related(*CASE_RELATED)
        # The detail's relations are loaded after the case (load_case_detail): only those it has.
        return case_detail_queryset(queryset)

    def filter_queryset(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        # A detail is filtered too (DRF applies the list's filters to it: ?state=closed on an open
        # case is 404), but without query parameters the filters and ordering change nothing: skip
        # building the FilterSet and its form on every plain GET of a case.
        if self.action != "list" and not self.request.query_params:
            return queryset
        return super().filter_queryset(queryset)

    def get_object(self) -> Case:
        if self.request.query_params:  # the list's filters apply to the detail too: DRF's way
            return load_case_detail(super().get_object())
        # A plain GET of a case: the same scoped row (``visible_to``, 404 outside it), its flags in one query.
        case = visible_case(self.request.user, self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        if case is None:
            raise Http404
        self.check_object_permissions(self.request, case)
        return load_case_detail(case)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "list":
            return CaseListSerializer
        if self.action == "create":
            return CaseCreateSerializer
        return CaseDetailSerializer

    # --- helpers -------------------------------------------------------------------------------

    def _visible_pk(self) -> int:
        """The case id from the URL if the caller may see it (else 404), without loading the detail."""
        try:
            pk = int(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        except (TypeError, ValueError) as exc:
            raise Http404 from exc
        if not Case.objects.visible_to(self.request.user).filter(pk=pk).exists():
            raise Http404
        return pk

    def _detail(self, pk: int, *, status_code: int = status.HTTP_200_OK) -> Response:
        case = visible_case(self.request.user, pk)
        if case is None:  # acted on, then out of the caller's scope (e.g. merged away): as before
            raise Case.DoesNotExist
        case = load_case_detail(case)
        return Response(
            CaseDetailSerializer(case, context=self.get_serializer_context()).data, status=status_code
        )

    def _act(self, input_class: type[serializers.Serializer[Any]], call: Callable[..., Any]) -> Response:
        pk = self._visible_pk()
        data = input_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        call(case=pk, actor=self.request.user, **data.validated_data)
        return self._detail(pk)

    # --- internal notes ------------------------------------------------------------------------

    @extend_schema(
        summary="内部备注（仅工作人员可见）",
        request=None,
        responses={200: CaseNoteSerializer(many=True)},
        tags=["cases"],
    )
    @action(detail=True, methods=["get"], url_path="notes", url_name="notes", pagination_class=None)
    def notes(self, request: Request, pk: str | None = None) -> Response:
        case_pk = self._visible_pk()
        rows = CaseNote.objects.filter(case_id=case_pk).select_related("author", "author__staff_profile")
        body = [
            {"id": n.pk, "author": person_name(n.author), "text": n.text, "created_at": n.created_at}
            for n in rows
        ]
        return Response(CaseNoteSerializer(body, many=True).data)

    # --- intake --------------------------------------------------------------------------------

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CaseCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        patrol = values.get("patrol")
        if patrol is not None and patrol.alley_id != values["alley"].pk:
            raise serializers.ValidationError({"patrol": [_("巡查记录与案件不在同一街巷。")]})
        if isinstance(request.auth, ApiClient) and "source" not in request.data:
            values["source"] = CaseSource.API
        if values.get("start_tier") is None:
            values.pop("start_tier", None)
        case = retry_once(
            lambda: workflow.case_submit(actor=signed_in(request.user), **values),
            what=f"API case submission by user {request.user.pk}",
        )
        return self._detail(case.pk, status_code=status.HTTP_201_CREATED)


# --- the state machine's transitions ---------------------------------------------------------------


@dataclass(frozen=True)
class ApiTransition:
    """How the API offers one transition of the table: its input, the service, the schema's summary."""

    input: type[serializers.Serializer[Any]]
    call: Callable[..., Any]
    summary: str
    method: str = ""  # the viewset's attribute, when the name is taken (``dispatch`` is APIView's)


def _feedback_by_return_call(**kwargs: Any) -> Any:
    return workflow.case_feedback(channel=FeedbackChannel.RETURN_CALL, **kwargs)


# Keyed by the table's names (issues.workflow.TRANSITIONS): each becomes POST /cases/<id>/<name>/.
CASE_API: dict[str, ApiTransition] = {
    "accept": ApiTransition(NoteInputSerializer, workflow.case_accept, "受理"),
    "start": ApiTransition(NoteInputSerializer, workflow.case_start, "开始办理"),
    "whistle": ApiTransition(
        WhistleInputSerializer, workflow.case_whistle, "吹哨上报（街道吹哨须指定责任部门）"
    ),
    "consult": ApiTransition(
        ConsultInputSerializer,
        workflow.case_consult,
        "派单前征求拟派部门意见（区/市委组织部；各部门的答复见 /consultations/）",
    ),
    "dispatch": ApiTransition(
        DispatchInputSerializer, workflow.case_dispatch, "派单（区/市委组织部）", method="dispatch_orders"
    ),
    "resolve": ApiTransition(ResolveInputSerializer, workflow.case_resolve, "办结，待核实（可上传整改照片）"),
    "verify": ApiTransition(VerifyInputSerializer, workflow.case_verify, "社区核实"),
    "feedback": ApiTransition(
        FeedbackInputSerializer, _feedback_by_return_call, "电话回访（评价期内登记反映人的评价）"
    ),
    "return-visit": ApiTransition(
        ReturnVisitInputSerializer,
        workflow.case_return_visit,
        "回访（评价期满未评价时社区电话或上门回访；联系上时登记反映人的评价）",
        method="return_visit",
    ),
    "reject": ApiTransition(ReasonInputSerializer, workflow.case_reject, "不予受理（理由对群众公开）"),
    "merge": ApiTransition(MergeInputSerializer, workflow.case_merge, "合并到另一个案件"),
    "supervise": ApiTransition(NoteInputSerializer, workflow.case_supervise, "督办"),
    "chase": ApiTransition(NoteInputSerializer, workflow.case_chase, "催办"),
    "take": ApiTransition(EmptyInputSerializer, workflow.case_take, "由我处理（成为承办人）"),
    "assign": ApiTransition(AssignInputSerializer, workflow.case_assign, "指定承办人（同一责任单位的人员）"),
    "note": ApiTransition(
        CaseNoteInputSerializer, workflow.case_note, "添加内部备注（仅工作人员可见；列表见 notes）"
    ),
    "progress": ApiTransition(
        ProgressInputSerializer, workflow.case_progress_update, "通报办理进展（群众在查询页面可见）"
    ),
}


def _case_action(name: str, spec: ApiTransition) -> Any:
    def act(self: CaseViewSet, request: Request, pk: str | None = None) -> Response:
        return self._act(spec.input, spec.call)

    act.__name__ = spec.method or name
    routed = action(detail=True, methods=["post"], url_path=name, url_name=name)(act)
    return _transition_schema(spec.summary, spec.input)(routed)


# The routes are written from the registry, so a transition cannot have a service and no route.
for _name, _spec in CASE_API.items():
    setattr(CaseViewSet, _spec.method or _name, _case_action(_name, _spec))


# --- categories ----------------------------------------------------------------------------------


class CategoryTypeFilter(django_filters.FilterSet):
    """Category types by class and status."""

    category_class = django_filters.CharFilter(field_name="category_class__code", label=gettext_lazy("分类"))
    is_active = django_filters.BooleanFilter(label=gettext_lazy("启用"))
    common = django_filters.BooleanFilter(label=gettext_lazy("居民表单常用"))

    class Meta:
        model = CategoryType
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="事项分类（A/B/C/D）", tags=["categories"]),
    retrieve=extend_schema(summary="事项分类", tags=["categories"]),
)
class CategoryClassViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet[CategoryClass]):
    """The difficulty classes (the same for everyone)."""

    queryset = CategoryClass.objects.all()
    serializer_class = CategoryClassSerializer
    filter_backends = filter_backends()
    ordering_fields = ("code",)
    ordering = ("code",)
    lookup_field = "code"


@extend_schema_view(
    list=extend_schema(summary="事项类型", tags=["categories"]),
    retrieve=extend_schema(summary="事项类型", tags=["categories"]),
)
class CategoryTypeViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet[CategoryType]):
    """The types of matter (the same for everyone)."""

    queryset = CategoryType.objects.select_related("category_class")
    serializer_class = CategoryTypeSerializer
    filterset_class = CategoryTypeFilter
    filter_backends = filter_backends()
    ordering_fields = ("code", "sort_order")
    ordering = ("sort_order", "code")
    lookup_field = "code"


# --- patrol logs ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="巡查走访记录", tags=["patrols"]),
    retrieve=extend_schema(summary="巡查走访记录", tags=["patrols"]),
    create=extend_schema(
        summary="登记巡查或走访（本街巷的巷长、副巷长、服务队员、督导队员、网格员）", tags=["patrols"]
    ),
)
class PatrolLogViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[PatrolLog]):
    """Daily patrols and weekly visits in the caller's territory; chiefs log their own alleys'."""

    serializer_class = PatrolLogSerializer
    filterset_class = PatrolLogFilter
    filter_backends = filter_backends()
    ordering_fields = ("date", "created_at", "id")
    ordering = ("-date", "-id")

    def get_queryset(self) -> QuerySet[PatrolLog]:
        return (
            PatrolLog.objects.visible_to(self.request.user)
            .select_related("alley", "chief__staff_profile")
            .annotate(case_count=Count("cases"))
        )

    def perform_create(self, serializer: serializers.BaseSerializer[PatrolLog]) -> None:
        alley = serializer.validated_data["alley"]
        if not may_log_patrol(self.request.user, alley.code):
            raise PermissionDenied(NOT_ON_THE_TEAM)
        serializer.save()


# --- who am I, and tokens -------------------------------------------------------------------------


class RoleSerializer(serializers.Serializer[Any]):
    """One of the caller's roles."""

    role = serializers.CharField()
    role_label = serializers.CharField()
    area = serializers.CharField(allow_null=True, help_text="区域统一编码")
    area_name = serializers.CharField(allow_null=True)
    department = serializers.IntegerField(allow_null=True)
    department_name = serializers.CharField(allow_null=True)


class MeSerializer(serializers.Serializer[Any]):
    """The caller: account, name, roles, and the integration client when called with an API key."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    is_superuser = serializers.BooleanField()
    client = serializers.CharField(allow_null=True, help_text="以对接客户端密钥调用时为客户端名称")
    roles = RoleSerializer(many=True)


class MeView(ApiViewMixin, APIView):
    """Who the API thinks the caller is."""

    @extend_schema(summary="当前用户及其角色", responses={200: MeSerializer}, tags=["auth"])
    def get(self, request: Request) -> Response:
        from alleys.api.serializers import person_name
        from alleys.models import RoleAssignment

        user = signed_in(request.user)
        roles = [
            {
                "role": ra.role,
                "role_label": ra.get_role_display(),
                "area": ra.area.code if ra.area else None,
                "area_name": ra.area.name if ra.area else None,
                "department": ra.department_id,
                "department_name": ra.department.name if ra.department else None,
            }
            for ra in RoleAssignment.objects.filter(user_id=int(user.pk or 0), is_active=True).select_related(
                "area", "department"
            )
        ]
        client = request.auth.name if isinstance(request.auth, ApiClient) else None
        body = {
            "id": user.pk,
            "username": user.get_username(),
            "name": person_name(user),
            "is_superuser": user.is_superuser,
            "client": client,
            "roles": roles,
        }
        return Response(MeSerializer(body).data)


class TokenThrottle(ClientAddressAnonThrottle):
    """Slows password guessing through the token endpoint (per client address, ``core.client``)."""

    scope = "api-token"
    rate = "10/min"


class TokenSerializer(serializers.Serializer[Any]):
    """A staff user's API token."""

    token = serializers.CharField(help_text="以 `Authorization: Token <token>` 发送")


class ObtainTokenView(APIView):
    """A staff user's token for the API, in exchange for username and password."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]
    schema = ApiAutoSchema()

    @extend_schema(
        summary="用账号密码换取 API 令牌",
        request=AuthTokenSerializer,
        responses={
            200: TokenSerializer,
            429: OpenApiResponse(ErrorSerializer, description="请求过于频繁，或登录失败次数过多已被锁定"),
        },
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        # AuthTokenSerializer calls django.contrib.auth.authenticate(request=...), so django-axes
        # counts each failure (per account and per address) and refuses a locked-out login.
        data = AuthTokenSerializer(data=request.data, context={"request": request})
        if not data.is_valid():
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut()
            raise ValidationError(data.errors)
        token, _created = Token.objects.get_or_create(user=data.validated_data["user"])
        return Response({"token": token.key})
