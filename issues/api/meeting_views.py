"""API of joint meetings (联席会议) and standing mechanisms (长效机制).

Reads are scoped by ``visible_to`` (out of scope is 404); each action calls the one service in
``issues.workflow.meetings`` / ``mechanisms`` that owns it, which decides who may act (403) and
when (409). Files are downloaded here by those who may see the meeting or mechanism.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django_filters
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from alleys.choices import AreaLevel
from alleys.people import signed_in
from core.api.base import ApiViewMixin, filter_backends
from core.api.filters import AreaCodeFilterMixin, IdFilter
from issues.choices import AgendaState, MeetingState
from issues.documents import CONTENT_TYPES, download_response
from issues.models import (
    MEETING_LEVELS,
    AgendaItem,
    JointMeeting,
    MechanismReview,
    MeetingAttachment,
    StandingMechanism,
)

from ..workflow import mechanisms as mechanism_services
from ..workflow import meetings as services
from .meeting_serializers import (
    AgendaAddInputSerializer,
    AgendaRemoveInputSerializer,
    AttachmentInputSerializer,
    DecideInputSerializer,
    HoldInputSerializer,
    MechanismDocumentInputSerializer,
    MechanismReviewInputSerializer,
    MeetingAttachmentSerializer,
    MeetingCreateInputSerializer,
    MeetingListSerializer,
    MeetingSerializer,
    StandingMechanismSerializer,
    mechanism_draft,
)

# A stored document, as the download answers it (its content was checked to be one of these).
DOWNLOAD = {(200, content_type): OpenApiTypes.BINARY for content_type in CONTENT_TYPES}


def _pk(raw: Any) -> int:
    try:
        number = int(raw)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    if not 0 < number < 2**63:
        raise Http404
    return number


class MeetingFilter(AreaCodeFilterMixin, django_filters.FilterSet):
    """Meetings by unit subtree, level, state, date and the case on their agenda."""

    area = django_filters.CharFilter(field_name="area__code", method="filter_under", label=_("区域编码"))
    level = django_filters.ChoiceFilter(
        field_name="area__level",
        choices=[(level, AreaLevel(level).label) for level in MEETING_LEVELS],
        label=_("会议层级"),
    )
    state = django_filters.ChoiceFilter(choices=MeetingState.choices, label=_("状态"))
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("日期不早于"))
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("日期不晚于"))
    case = IdFilter(method="filter_case", label=_("议程中的案件"))

    class Meta:
        model = JointMeeting
        fields: list[str] = []

    def filter_case(self, queryset: QuerySet[JointMeeting], name: str, value: int | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        return queryset.filter(Exists(AgendaItem.objects.filter(meeting_id=OuterRef("pk"), case_id=value)))


@dataclass(frozen=True)
class ApiTransition:
    """How the API offers one row of the meetings' table: its input, the call, the schema's summary."""

    input: type[serializers.Serializer[Any]]
    call: Callable[..., Any]
    summary: str
    description: str


def _agenda_add(*, meeting: int, actor: Any, case: Any, common_issue: Any) -> Any:
    return services.meeting_agenda_add(meeting=meeting, actor=actor, case=case, common_issue=common_issue)


def _agenda_remove(*, meeting: int, actor: Any, item: int) -> Any:
    return services.meeting_agenda_remove(meeting=meeting, actor=actor, item=item)


def _hold(*, meeting: int, actor: Any, present_areas: Any = (), **values: Any) -> Any:
    return services.meeting_hold(meeting=meeting, actor=actor, present_areas=list(present_areas), **values)


def _decide(*, meeting: int, actor: Any, item: int, mechanism: Any, **values: Any) -> Any:
    if not AgendaItem.objects.filter(pk=item, meeting_id=meeting).exists():
        raise serializers.ValidationError({"item": [_("该议题不在本次会议的议程中。")]})
    return services.agenda_item_decide(item=item, actor=actor, mechanism=mechanism_draft(mechanism), **values)


# Keyed by the table's names (issues.workflow.MEETING_TRANSITIONS): POST /meetings/<id>/<name>/.
MEETING_API: dict[str, ApiTransition] = {
    "agenda-add": ApiTransition(
        AgendaAddInputSerializer,
        _agenda_add,
        "添加议题（计划中的会议）",
        "Put one open case, or one common issue, of the unit's territory on a planned meeting's agenda "
        "(exactly one of `case` and `common_issue`; once per meeting). The meeting's unit only.",
    ),
    "agenda-remove": ApiTransition(
        AgendaRemoveInputSerializer,
        _agenda_remove,
        "移出议题（计划中的会议）",
        "Take an item off a planned meeting's agenda. The meeting's unit only.",
    ),
    "hold": ApiTransition(
        HoldInputSerializer,
        _hold,
        "登记会议召开：出席部门、单位、人员和纪要",
        "The meeting took place: the departments and units (area codes) present and other attendees "
        "(at least one of the three), and the minutes. The agenda is fixed from now on; every case on it "
        "gets one public, neutral timeline line (经…联席会议研究: no minutes, no names). The meeting's unit only.",
    ),
    "decide": ApiTransition(
        DecideInputSerializer,
        _decide,
        "记录议题的决定（每个议题一个；吹哨上报即时上报，区级上报市级须经此决定）",
        "The one decision on an agenda item of a held meeting: `settle` (`assignments`: who does what; "
        "named `departments` are told), `whistle_up` (the case is whistled one tier above the meeting's "
        "level now, in the same transaction, as the street's or district's whistle; street and district "
        "meetings must name `departments` the next tier's organisation department dispatches to; a "
        "district whistles to the city only through this decision; refused for common issues and at the "
        "city), or `mechanism` (`mechanism` describes the standing mechanism it makes, with its first "
        "review date). 409 when the item is decided already or the meeting is not held yet; staff-only "
        "timeline lines record the decision on the cases.",
    ),
}


@extend_schema_view(
    list=extend_schema(summary="联席会议列表", tags=["meetings"]),
    retrieve=extend_schema(summary="联席会议详情（议程、决定、附件）", tags=["meetings"]),
    create=extend_schema(
        summary="拟定联席会议（按本单位难点事项自动提出议程）",
        description="A meeting of a unit the caller staffs (community staff, street staff, the district or "
        "city organisation department), planned with its agenda proposed from the unit's open hard items: "
        "for a community, open C/D cases in its territory not yet above it, the cases it holds that are "
        "supervised or overdue, and the open common issues touching it; for a street, district or city, "
        "the open cases it holds and the common issues touching it. Edit the agenda, then hold the meeting.",
        tags=["meetings"],
        request=MeetingCreateInputSerializer,
        responses={201: MeetingSerializer},
    ),
)
class MeetingViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[JointMeeting]):
    """Joint meetings the caller may see: its unit's and those below, those it attended or was named in."""

    filterset_class = MeetingFilter
    filter_backends = filter_backends()
    ordering_fields = ("date", "id")
    ordering = ("-date", "-id")

    def get_queryset(self) -> QuerySet[JointMeeting]:
        queryset = (
            JointMeeting.objects.visible_to(self.request.user)
            .select_related("area")
            .annotate(
                items_count=Count("items", distinct=True),
                decided_count=Count("items", filter=Q(items__state=AgendaState.DECIDED), distinct=True),
            )
        )
        if self.action == "list":
            return queryset
        items = AgendaItem.objects.select_related("case", "mechanism").prefetch_related("departments")
        return queryset.prefetch_related(
            Prefetch("items", queryset=items.order_by("position", "pk")),
            "attachments",
            "present_departments",
            "present_areas",
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return MeetingListSerializer if self.action == "list" else MeetingSerializer

    def _visible_pk(self) -> int:
        pk = _pk(self.kwargs.get("pk"))
        if not JointMeeting.objects.visible_to(self.request.user).filter(pk=pk).exists():
            raise Http404
        return pk

    def _answer(self, pk: int, *, code: int = status.HTTP_200_OK) -> Response:
        meeting = self.get_queryset().get(pk=pk)
        return Response(MeetingSerializer(meeting, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = MeetingCreateInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        meeting = services.meeting_plan(actor=signed_in(request.user), **data.validated_data)
        self.action = "retrieve"
        return self._answer(meeting.pk, code=status.HTTP_201_CREATED)

    def _act(self, spec: ApiTransition) -> Response:
        pk = self._visible_pk()
        data = spec.input(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        spec.call(meeting=pk, actor=self.request.user, **data.validated_data)
        return self._answer(pk)

    @extend_schema(
        summary="上传会议附件（PDF、.docx、.xlsx 或照片，按内容检查）",
        request={"multipart/form-data": AttachmentInputSerializer},
        responses={201: MeetingAttachmentSerializer},
        tags=["meetings"],
    )
    @action(
        detail=True, methods=["post"], url_path="attachments", parser_classes=[MultiPartParser, FormParser]
    )
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        """Attach a file to the meeting (its unit's staff): checked by content, never by name or header."""
        meeting = self._visible_pk()
        data = AttachmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.meeting_attach(
            meeting=meeting, actor=signed_in(request.user), upload=data.validated_data["file"]
        )
        return Response(MeetingAttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="下载会议附件",
        responses=DOWNLOAD,
        tags=["meetings"],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)",
        url_name="attachment",
        filter_backends=[],
        pagination_class=None,
    )
    def attachment(self, request: Request, pk: str | None = None, attachment_id: str | None = None) -> Any:
        """One of the meeting's files, as a download (404 when the caller may not see the meeting)."""
        meeting = self._visible_pk()
        item = MeetingAttachment.objects.filter(meeting_id=meeting, pk=_pk(attachment_id)).first()
        if item is None:
            raise Http404
        try:
            handle = item.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        return download_response(handle, name=item.name, content_type=item.content_type)


def _meeting_action(name: str, spec: ApiTransition) -> Any:
    def act(self: MeetingViewSet, request: Request, pk: str | None = None) -> Response:
        return self._act(spec)

    act.__name__ = name.replace("-", "_")
    routed = action(detail=True, methods=["post"], url_path=name, url_name=name)(act)
    return extend_schema(
        summary=spec.summary,
        description=f"{spec.description} Answers the meeting as it now stands.",
        request=spec.input,
        responses={200: MeetingSerializer},
        tags=["meetings"],
    )(routed)


# The routes are written from the registry, so a row cannot have a service and no route.
for _name, _spec in MEETING_API.items():
    setattr(MeetingViewSet, _name.replace("-", "_"), _meeting_action(_name, _spec))


class MechanismFilter(AreaCodeFilterMixin, django_filters.FilterSet):
    """Standing mechanisms by unit subtree, owner department, status and review due."""

    area = django_filters.CharFilter(field_name="area__code", method="filter_under", label=_("区域编码"))
    owner_department = IdFilter(field_name="owner_department_id", label=_("牵头责任部门"))
    is_active = django_filters.BooleanFilter(label=_("有效"))
    review_due = django_filters.BooleanFilter(method="filter_review_due", label=_("复核日期已到"))

    class Meta:
        model = StandingMechanism
        fields: list[str] = []

    def filter_review_due(
        self, queryset: QuerySet[StandingMechanism], name: str, value: bool | None
    ) -> QuerySet[Any]:
        if value is None:
            return queryset
        due = Exists(
            MechanismReview.objects.filter(
                mechanism_id=OuterRef("pk"), done_at__isnull=True, due_on__lte=timezone.localdate()
            )
        )
        return queryset.filter(due) if value else queryset.exclude(due)


@extend_schema_view(
    list=extend_schema(summary="长效机制列表", tags=["meetings"]),
    retrieve=extend_schema(summary="长效机制详情（文件、复核）", tags=["meetings"]),
)
class MechanismViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet[StandingMechanism]):
    """Standing mechanisms of the caller's territory and departments; their keepers record documents and reviews."""

    serializer_class = StandingMechanismSerializer
    filterset_class = MechanismFilter
    filter_backends = filter_backends()
    ordering_fields = ("created_at", "id")
    ordering = ("-created_at", "-id")

    def get_queryset(self) -> QuerySet[StandingMechanism]:
        return (
            StandingMechanism.objects.visible_to(self.request.user)
            .select_related("area", "category_type", "category_class", "owner_department", "decision")
            .prefetch_related(
                "cooperating_departments",
                "cases",
                Prefetch("reviews", queryset=MechanismReview.objects.order_by("due_on", "pk")),
            )
        )

    def _visible_pk(self) -> int:
        pk = _pk(self.kwargs.get("pk"))
        if not StandingMechanism.objects.visible_to(self.request.user).filter(pk=pk).exists():
            raise Http404
        return pk

    def _answer(self, pk: int) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(
        summary="记录复核并确定下次复核日期（牵头责任部门或建立单位）",
        request=MechanismReviewInputSerializer,
        responses={200: StandingMechanismSerializer},
        tags=["meetings"],
    )
    @action(detail=True, methods=["post"], url_path="review")
    def review(self, request: Request, pk: str | None = None) -> Response:
        """The earliest open review date is closed with the note; the next date, if given, is set."""
        mechanism = self._visible_pk()
        data = MechanismReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mechanism_services.mechanism_review_record(
            mechanism=mechanism, actor=signed_in(request.user), **data.validated_data
        )
        return self._answer(mechanism)

    @extend_schema(
        summary="登记机制文件（文件名称、文号、文件；按内容检查）",
        request={"multipart/form-data": MechanismDocumentInputSerializer},
        responses={200: StandingMechanismSerializer},
        tags=["meetings"],
    )
    @action(detail=True, methods=["post"], url_path="document", parser_classes=[MultiPartParser, FormParser])
    def document(self, request: Request, pk: str | None = None) -> Response:
        """The document that fixes the mechanism: title, number, and the file (checked by content)."""
        mechanism = self._visible_pk()
        data = MechanismDocumentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        mechanism_services.mechanism_document_attach(
            mechanism=mechanism,
            actor=signed_in(request.user),
            upload=values["file"],
            document_title=values["document_title"],
            document_number=values["document_number"],
        )
        return self._answer(mechanism)

    @extend_schema(
        summary="下载机制文件",
        responses=DOWNLOAD,
        tags=["meetings"],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="document-file",
        url_name="document-file",
        filter_backends=[],
        pagination_class=None,
    )
    def document_file(self, request: Request, pk: str | None = None) -> Any:
        """The mechanism's document, as a download (404 when there is none or the caller may not see it)."""
        mechanism = StandingMechanism.objects.filter(pk=self._visible_pk()).first()
        if mechanism is None or not mechanism.document:
            raise Http404
        try:
            handle = mechanism.document.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        return download_response(
            handle, name=mechanism.document_name, content_type=mechanism.document_content_type
        )
