"""API of department orders (派单), their extensions and common issues.

Reads are scoped by ``DispatchOrder.objects.visible_to`` (a department sees its own
orders; organisation departments and territory staff see theirs); every action calls
the one service in ``issues.workflow.orders`` that owns it, which checks who may act.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.base import ApiViewMixin, filter_backends
from core.api.filters import AreaCodeFilterMixin, IdFilter
from issues.choices import ACTIVE_ORDER_STATES, ConsultationState, ExtensionState, OrderRole, OrderState
from issues.deadline_state import order_overdue_q
from issues.models import Attendance, CommonIssue, Consultation, DispatchOrder, ExtensionRequest

from ..workflow import attendance as attendance_services
from ..workflow import consultations as consultation_services
from ..workflow import orders as services
from .order_serializers import (
    AttendanceConfirmInputSerializer,
    CommonIssueSerializer,
    CommunityDecisionInputSerializer,
    ConsultationAnswerInputSerializer,
    ConsultationSerializer,
    ExtensionInputSerializer,
    ExtensionSerializer,
    OptionalNoteInputSerializer,
    OrderCompleteInputSerializer,
    OrderNoteInputSerializer,
    OrderRejectInputSerializer,
    OrderSerializer,
    OrgDecisionInputSerializer,
    RedispatchInputSerializer,
    ReportInputSerializer,
)


class OrderFilter(AreaCodeFilterMixin, django_filters.FilterSet):
    """Orders by state, role, department, case, dispatching area and lateness."""

    state = django_filters.MultipleChoiceFilter(choices=OrderState.choices, label=_("状态"))
    role = django_filters.ChoiceFilter(choices=OrderRole.choices, label=_("角色"))
    department = IdFilter(field_name="department_id", label=_("部门"))
    case = IdFilter(field_name="case_id", label=_("案件"))
    common_issue = IdFilter(field_name="common_issue_id", label=_("共性问题"))
    dispatcher_area = django_filters.CharFilter(
        field_name="dispatcher_area__code", method="filter_under", label=_("派单组织部区域编码")
    )
    active = django_filters.BooleanFilter(method="filter_active", label=_("在办"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("报到或办结超时"))
    attended = django_filters.BooleanFilter(
        field_name="attended_at", lookup_expr="isnull", exclude=True, label=_("社区已确认到场报到")
    )

    class Meta:
        model = DispatchOrder
        fields: list[str] = []

    # django-filter calls a method with a value only; its annotation is the parameter's type in the schema.
    def filter_active(self, queryset: QuerySet[DispatchOrder], name: str, value: bool) -> QuerySet[Any]:
        q = Q(state__in=ACTIVE_ORDER_STATES)
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_overdue(self, queryset: QuerySet[DispatchOrder], name: str, value: bool) -> QuerySet[Any]:
        q = order_overdue_q(timezone.now())  # the one rule (issues.deadline_state), not the sweep's flags
        return queryset.filter(q) if value else queryset.exclude(q)


def _order_schema(summary: str, request: Any, response: Any = OrderSerializer, code: int = 200) -> Any:
    return extend_schema(summary=summary, request=request, responses={code: response}, tags=["orders"])


@extend_schema_view(
    list=extend_schema(summary="派单列表", tags=["orders"]),
    retrieve=extend_schema(summary="派单详情", tags=["orders"]),
)
class OrderViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet[DispatchOrder]):
    """Department orders the caller may see, and the department's and organisation department's actions."""

    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    filter_backends = filter_backends()
    ordering_fields = ("dispatched_at", "report_due", "complete_due", "id")
    ordering = ("-dispatched_at", "-id")

    def get_queryset(self) -> QuerySet[DispatchOrder]:
        return (
            DispatchOrder.objects.visible_to(self.request.user)
            .select_related("department", "dispatcher_area", "case")
            .prefetch_related(
                "extensions",
                Prefetch("attendances", queryset=Attendance.objects.select_related("community")),
                Prefetch(
                    "consultations",
                    queryset=Consultation.objects.select_related("case", "department", "asker_area"),
                ),
            )
        )

    def _visible_pk(self) -> int:
        try:
            pk = int(self.kwargs["pk"])
        except (TypeError, ValueError) as exc:
            raise Http404 from exc
        if not DispatchOrder.objects.visible_to(self.request.user).filter(pk=pk).exists():
            raise Http404
        return pk

    def _act(
        self,
        input_class: type[serializers.Serializer[Any]] | None,
        call: Callable[..., Any],
    ) -> Any:
        pk = self._visible_pk()
        values: dict[str, Any] = {}
        if input_class is not None:
            data = input_class(data=self.request.data, context=self.get_serializer_context())
            data.is_valid(raise_exception=True)
            values = dict(data.validated_data)
        return call(order=pk, actor=self.request.user, **values)

    def _answer(self, result: Any) -> Response:
        """The order as it now stands: the one the service returned (a redispatch makes a new one),
        else the URL's (a visit's confirmation or no-show returns the visit)."""
        pk = result.pk if isinstance(result, DispatchOrder) else self._visible_pk()
        fresh = self.get_queryset().get(pk=pk)
        return Response(OrderSerializer(fresh, context=self.get_serializer_context()).data)


@dataclass(frozen=True)
class ApiTransition:
    """How the API offers one transition of the table: its input, the service, the schema's summary."""

    input: type[serializers.Serializer[Any]] | None
    call: Callable[..., Any]
    summary: str
    url_path: str = ""  # when not the table's name


# Keyed by the table's names (issues.workflow.ORDER_TRANSITIONS): POST /orders/<id>/<name>/.
ORDER_API: dict[str, ApiTransition] = {
    "receive": ApiTransition(None, services.order_receive, "签收"),
    "report": ApiTransition(
        ReportInputSerializer,
        services.order_report,
        "报到（分管负责人、联系人、工作方案，约定到社区的时间和人员；以社区确认到场为准）",
    ),
    "attendance-confirm": ApiTransition(
        AttendanceConfirmInputSerializer,
        attendance_services.attendance_confirm,
        "社区确认部门到场报到（实际时间、到场人员）",
    ),
    "attendance-missed": ApiTransition(
        OptionalNoteInputSerializer,
        attendance_services.attendance_missed,
        "社区登记部门未按约到场（部门须重新报到）",
    ),
    "progress": ApiTransition(OrderNoteInputSerializer, services.order_progress, "填写办理进展"),
    "complete": ApiTransition(
        OrderCompleteInputSerializer, services.order_complete, "办结（牵头部门办结后案件进入核实）"
    ),
    "reject": ApiTransition(OrderRejectInputSerializer, services.order_reject, "退单"),
    "redispatch": ApiTransition(
        RedispatchInputSerializer, services.order_redispatch, "改派（组织部，返回新派单）"
    ),
    "insist": ApiTransition(OrderNoteInputSerializer, services.order_insist, "维持派单（组织部）"),
    "extension": ApiTransition(ExtensionInputSerializer, services.extension_request, "申请延期"),
}


def _order_action(name: str, spec: ApiTransition) -> Any:
    if name == "extension":  # answers the new extension request, not the order

        def act(self: OrderViewSet, request: Request, pk: str | None = None) -> Response:
            ext = self._act(spec.input, spec.call)
            return Response(ExtensionSerializer(ext).data, status=status.HTTP_201_CREATED)

        schema = _order_schema(spec.summary, spec.input, ExtensionSerializer, 201)
    else:

        def act(self: OrderViewSet, request: Request, pk: str | None = None) -> Response:
            return self._answer(self._act(spec.input, spec.call))

        schema = _order_schema(spec.summary, spec.input)
    act.__name__ = name.replace("-", "_")
    return schema(action(detail=True, methods=["post"], url_path=name, url_name=name)(act))


# The routes are written from the registry, so a transition cannot have a service and no route.
for _name, _spec in ORDER_API.items():
    setattr(OrderViewSet, _name.replace("-", "_"), _order_action(_name, _spec))


class ExtensionFilter(django_filters.FilterSet):
    """Extension requests by state and order."""

    state = django_filters.MultipleChoiceFilter(choices=ExtensionState.choices, label=_("状态"))
    order = IdFilter(field_name="order_id", label=_("派单"))

    class Meta:
        model = ExtensionRequest
        fields: list[str] = []


def _extension_schema(summary: str, request: Any) -> Any:
    return extend_schema(
        summary=summary, request=request, responses={200: ExtensionSerializer}, tags=["orders"]
    )


@extend_schema_view(
    list=extend_schema(summary="延期申请", tags=["orders"]),
    retrieve=extend_schema(summary="延期申请", tags=["orders"]),
)
class ExtensionViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet[ExtensionRequest]):
    """Extension requests on the orders the caller may see; the community and the org department decide."""

    serializer_class = ExtensionSerializer
    filterset_class = ExtensionFilter
    filter_backends = filter_backends()
    ordering_fields = ("requested_at", "id")
    ordering = ("-requested_at", "-id")

    def get_queryset(self) -> QuerySet[ExtensionRequest]:
        visible = DispatchOrder.objects.visible_to(self.request.user).values("pk")
        return ExtensionRequest.objects.filter(order__in=visible)

    def _decide(self, input_class: type[serializers.Serializer[Any]], call: Callable[..., Any]) -> Response:
        try:
            pk = int(self.kwargs["pk"])
        except (TypeError, ValueError) as exc:
            raise Http404 from exc
        if not self.get_queryset().filter(pk=pk).exists():
            raise Http404
        data = input_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        ext = call(extension=pk, actor=self.request.user, **data.validated_data)
        return Response(ExtensionSerializer(ext).data)


# Keyed by the table's names: POST /extensions/<id>/<url_path>/.
EXTENSION_API: dict[str, ApiTransition] = {
    "extension-community": ApiTransition(
        CommunityDecisionInputSerializer,
        services.extension_community_decide,
        "社区意见（同意后报组织部审批）",
        url_path="community-decision",
    ),
    "extension-org": ApiTransition(
        OrgDecisionInputSerializer, services.extension_org_decide, "组织部审批", url_path="org-decision"
    ),
}


def _extension_action(name: str, spec: ApiTransition) -> Any:
    assert spec.input is not None
    input_class = spec.input

    def act(self: ExtensionViewSet, request: Request, pk: str | None = None) -> Response:
        return self._decide(input_class, spec.call)

    act.__name__ = spec.url_path.replace("-", "_")
    routed = action(detail=True, methods=["post"], url_path=spec.url_path, url_name=spec.url_path)(act)
    return _extension_schema(spec.summary, input_class)(routed)


for _name, _spec in EXTENSION_API.items():
    setattr(ExtensionViewSet, _spec.url_path.replace("-", "_"), _extension_action(_name, _spec))


@extend_schema_view(
    list=extend_schema(summary="共性问题", tags=["orders"]),
    retrieve=extend_schema(summary="共性问题", tags=["orders"]),
)
class CommonIssueViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet[CommonIssue]):
    """Common issues (共性问题) the caller may see."""

    serializer_class = CommonIssueSerializer
    filter_backends = filter_backends()
    ordering_fields = ("created_at", "id")
    ordering = ("-created_at", "-id")

    def get_queryset(self) -> QuerySet[CommonIssue]:
        visible = CommonIssue.objects.visible_to(self.request.user).values("pk")
        return (
            CommonIssue.objects.filter(pk__in=visible)
            .select_related("coordinator_area")
            .prefetch_related("cases", "cooperating_departments")
        )


# --- consultations before dispatch -----------------------------------------------------------------


class ConsultationFilter(django_filters.FilterSet):
    """Consultations by state, case and department."""

    state = django_filters.MultipleChoiceFilter(choices=ConsultationState.choices, label=_("状态"))
    case = IdFilter(field_name="case_id", label=_("案件"))
    department = IdFilter(field_name="department_id", label=_("部门"))

    class Meta:
        model = Consultation
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="派单前征求意见", tags=["orders"]),
    retrieve=extend_schema(summary="派单前征求意见", tags=["orders"]),
)
class ConsultationViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet[Consultation]):
    """Opinions asked before dispatch: of the caller's departments, by the caller's organisation
    department, or on cases in the caller's territory; the department asked answers."""

    serializer_class = ConsultationSerializer
    filterset_class = ConsultationFilter
    filter_backends = filter_backends()
    ordering_fields = ("asked_at", "answer_due", "id")
    ordering = ("-asked_at", "-id")

    def get_queryset(self) -> QuerySet[Consultation]:
        return Consultation.objects.visible_to(self.request.user).select_related(
            "case", "department", "asker_area"
        )

    def _answer(self, input_class: type[serializers.Serializer[Any]], call: Callable[..., Any]) -> Response:
        try:
            pk = int(self.kwargs["pk"])
        except (TypeError, ValueError) as exc:
            raise Http404 from exc
        if not self.get_queryset().filter(pk=pk).exists():
            raise Http404
        data = input_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        call(consultation=pk, actor=self.request.user, **data.validated_data)
        return Response(ConsultationSerializer(self.get_queryset().get(pk=pk)).data)


# Keyed by the table's names (issues.workflow.CONSULTATION_TRANSITIONS): POST /consultations/<id>/<url_path>/.
CONSULTATION_API: dict[str, ApiTransition] = {
    "consult-answer": ApiTransition(
        ConsultationAnswerInputSerializer,
        consultation_services.consultation_answer,
        "部门答复派单意见（同意承办、建议改由其他部门或其他意见）",
        url_path="answer",
    ),
}


def _consultation_action(spec: ApiTransition) -> Any:
    assert spec.input is not None
    input_class = spec.input

    def act(self: ConsultationViewSet, request: Request, pk: str | None = None) -> Response:
        return self._answer(input_class, spec.call)

    act.__name__ = spec.url_path.replace("-", "_")
    routed = action(detail=True, methods=["post"], url_path=spec.url_path, url_name=spec.url_path)(act)
    schema = extend_schema(
        summary=spec.summary, request=input_class, responses={200: ConsultationSerializer}, tags=["orders"]
    )
    return schema(routed)


for _name, _spec in CONSULTATION_API.items():
    setattr(ConsultationViewSet, _spec.url_path.replace("-", "_"), _consultation_action(_spec))
