"""Staff pages for joint meetings (联席会议) and standing mechanisms (长效机制).

Thin, like the case and order pages: scope with ``visible_to(user)``, bind a form, call a
service of ``issues.workflow.meetings`` / ``mechanisms`` and show its refusal beside the field
it names. Which forms a page offers is a hint (``offered_meeting_transitions``); the services
decide. Files are served only here, to those who may see the meeting or mechanism, always as
downloads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Min, Q
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alleys.people import SignedInRequest
from alleys.scoping import scope_for

from .choices import AgendaGround, AgendaState, MeetingState
from .documents import download_response
from .meeting_forms import (
    AgendaAddForm,
    AttachForm,
    DecideForm,
    HoldForm,
    MechanismDocumentForm,
    MechanismReviewForm,
    MeetingPlanForm,
    RecordForm,
    convening_areas,
)
from .models import AgendaItem, Case, JointMeeting, MeetingAttachment, StandingMechanism
from .views import PAGE_SIZE
from .workflow import (
    MEETING_TRANSITIONS,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    is_mechanism_keeper,
    is_meeting_unit,
    offered_meeting_transitions,
)
from .workflow.mechanisms import mechanism_document_attach, mechanism_review_record
from .workflow.meetings import (
    agenda_item_decide,
    meeting_agenda_add,
    meeting_agenda_remove,
    meeting_attach,
    meeting_hold,
    meeting_plan,
    meeting_record_update,
)

GROUND_LABELS = dict(AgendaGround.choices)


def _form_error(form: Form, exc: TransitionError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def _status(exc: TransitionError) -> int:
    return 403 if isinstance(exc, TransitionForbidden) else 400


# --- meetings ---------------------------------------------------------------------------------------


def _meetings(user: Any) -> Any:
    return JointMeeting.objects.visible_to(user).select_related("area")


@login_required
def meeting_list(request: SignedInRequest) -> HttpResponse:
    """The meetings the user may see; a unit's staff plan the next one here (its agenda is proposed)."""
    user = request.user
    may_plan = convening_areas(user).exists()
    form = MeetingPlanForm(user=user) if may_plan else None
    status = 200
    if request.method == "POST":
        form = MeetingPlanForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                meeting = meeting_plan(actor=user, area=data["area"], date=data["date"], title=data["title"])
            except TransitionError as exc:
                _form_error(form, exc)
                status = _status(exc)
            else:
                messages.success(
                    request,
                    _("已拟定会议，并按本单位的难点事项提出了 %(n)d 项议题，请在召开前审定。")
                    % {"n": meeting.items.count()},
                )
                return redirect("staff:meeting-detail", pk=meeting.pk)
        else:
            status = 400
    qs = _meetings(user)
    state = request.GET.get("state", "")
    if state in MeetingState.values:
        qs = qs.filter(state=state)
    qs = qs.annotate(
        n_items=Count("items", distinct=True),
        n_decided=Count("items", filter=Q(items__state=AgendaState.DECIDED), distinct=True),
    ).order_by("-date", "-pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "meetings",
        "page": page,
        "meetings": list(page.object_list),
        "form": form,
        "states": MeetingState.choices,
        "state": state,
    }
    return render(request, "issues/staff/meeting_list.html", context, status=status)


@dataclass(frozen=True)
class MeetingAction:
    """One form on the meeting page and what it does with it (returns the success message)."""

    name: str
    label: Any
    run: Callable[[JointMeeting, Any, Form, HttpRequest], str]


def _agenda_add(meeting: JointMeeting, user: Any, form: Form, request: HttpRequest) -> str:
    data = form.cleaned_data
    case = None
    if data["code"]:
        case = (
            Case.objects.visible_to(user).select_related("alley").filter(tracking_code=data["code"]).first()
        )
        if case is None:
            raise TransitionInvalid(
                _("找不到查询码为 %(code)s 的案件。") % {"code": data["code"]}, field="code"
            )
    meeting_agenda_add(meeting=meeting.pk, actor=user, case=case, common_issue=data["common_issue"])
    return _("已添加议题。")


def _agenda_remove(meeting: JointMeeting, user: Any, form: Form, request: HttpRequest) -> str:
    raw = request.POST.get("item", "")
    if not raw.isdigit():
        raise TransitionInvalid(_("该议题不在本次会议的议程中。"), field="item")
    meeting_agenda_remove(meeting=meeting.pk, actor=user, item=int(raw))
    return _("已移出议题。")


def _hold(meeting: JointMeeting, user: Any, form: Form, request: HttpRequest) -> str:
    data = form.cleaned_data
    meeting_hold(
        meeting=meeting.pk,
        actor=user,
        present_departments=list(data["present_departments"]),
        present_areas=list(data["present_areas"]),
        attendees=data["attendees"],
        minutes=data["minutes"],
    )
    return _("已登记会议召开情况，请逐项记录会议决定。")


def _decide(meeting: JointMeeting, user: Any, form: Form, request: HttpRequest) -> str:
    assert isinstance(form, DecideForm)
    raw = request.POST.get("item", "")
    item = meeting.items.filter(pk=int(raw)).values_list("pk", flat=True).first() if raw.isdigit() else None
    if item is None:
        raise TransitionError(_("该议题不在本次会议的议程中。"))
    data = form.cleaned_data
    agenda_item_decide(
        item=item,
        actor=user,
        decision=data["decision"],
        assignments=data["assignments"],
        departments=list(data["departments"]),
        note=data["note"],
        mechanism=form.mechanism(),
    )
    return _("已记录会议决定。")


def _attach(meeting: JointMeeting, user: Any, form: Form, request: HttpRequest) -> str:
    meeting_attach(meeting=meeting.pk, actor=user, upload=form.cleaned_data["file"])
    return _("已上传附件。")


def _record(meeting: JointMeeting, user: Any, form: Form, request: HttpRequest) -> str:
    data = form.cleaned_data
    meeting_record_update(
        meeting=meeting.pk, actor=user, minutes=data["minutes"], attendees=data["attendees"]
    )
    return _("已保存会议纪要。")


# The table's rows (issues.workflow.MEETING_TRANSITIONS) and the meeting's two plain edits.
MEETING_ACTIONS: dict[str, MeetingAction] = {
    a.name: a
    for a in (
        MeetingAction("agenda-add", MEETING_TRANSITIONS["agenda-add"].label, _agenda_add),
        MeetingAction("agenda-remove", MEETING_TRANSITIONS["agenda-remove"].label, _agenda_remove),
        MeetingAction("hold", MEETING_TRANSITIONS["hold"].label, _hold),
        MeetingAction("decide", MEETING_TRANSITIONS["decide"].label, _decide),
        MeetingAction("attach", _("上传附件"), _attach),
        MeetingAction("record", _("修改会议纪要"), _record),
    )
}


def _meeting_form(name: str, meeting: JointMeeting, user: Any, data: Any = None, files: Any = None) -> Form:
    kwargs: dict[str, Any] = {"prefix": name}
    if data is not None:
        kwargs.update(data=data, files=files)
    if name == "agenda-add":
        return AgendaAddForm(user=user, meeting=meeting, **kwargs)
    if name == "hold":
        return HoldForm(user=user, meeting=meeting, **kwargs)
    if name == "decide":
        return DecideForm(user=user, **kwargs)
    if name == "attach":
        return AttachForm(**kwargs)
    if name == "record":
        if data is None:
            kwargs["initial"] = {"minutes": meeting.minutes, "attendees": meeting.attendees}
        return RecordForm(**kwargs)
    return Form(**kwargs)


def _meeting_for(request: HttpRequest, pk: int) -> JointMeeting:
    return get_object_or_404(_meetings(request.user), pk=pk)


@login_required
def meeting_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One meeting: its agenda with the grounds and decisions, attendance, minutes, attachments, forms."""
    return _render_meeting(request, _meeting_for(request, pk))


def _render_meeting(
    request: HttpRequest,
    meeting: JointMeeting,
    *,
    bound: tuple[str, Form, int | None] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    scope = scope_for(user)
    offered = offered_meeting_transitions(meeting, scope)
    is_unit = is_meeting_unit(scope, meeting)
    items = list(
        meeting.items.select_related(
            "case",
            "case__category",
            "case__category__category_class",
            "case__alley",
            "case__holder_area",
            "common_issue",
            "mechanism",
        )
        .prefetch_related("departments")
        .order_by("position", "pk")
    )
    visible_cases = set(
        Case.objects.visible_to(user)
        .filter(pk__in=[i.case_id for i in items if i.case_id])
        .values_list("pk", flat=True)
    )
    for item in items:
        item.ground_labels = [GROUND_LABELS.get(g, g) for g in item.grounds or []]  # type: ignore[attr-defined]
        item.case_visible = item.case_id in visible_cases  # type: ignore[attr-defined]
        if "decide" in offered and item.state == AgendaState.PENDING:
            if bound is not None and bound[0] == "decide" and bound[2] == item.pk:
                item.form = bound[1]  # type: ignore[attr-defined]
            else:
                item.form = _meeting_form("decide", meeting, user)  # type: ignore[attr-defined]
    forms: dict[str, Form] = {}
    names = [n for n in offered if n in ("agenda-add", "hold")]
    if is_unit:
        names.append("attach")
        if meeting.state == MeetingState.HELD:
            names.append("record")
    for name in names:
        if bound is not None and bound[0] == name:
            forms[name] = bound[1]
        else:
            forms[name] = _meeting_form(name, meeting, user)
    context = {
        "nav": "meetings",
        "meeting": meeting,
        "items": items,
        **{f"{name.replace('-', '_')}_form": form for name, form in forms.items()},
        "may_remove": "agenda-remove" in offered,
        "is_unit": is_unit,
        "attachments": list(meeting.attachments.select_related("uploaded_by__staff_profile")),
        "present_departments": list(meeting.present_departments.all()),
        "present_areas": list(meeting.present_areas.all()),
    }
    return render(request, "issues/staff/meeting_detail.html", context, status=status)


@login_required
@require_POST
def meeting_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Run one action on a meeting through its service and come back to the meeting."""
    if action not in MEETING_ACTIONS:
        raise Http404
    meeting = _meeting_for(request, pk)
    form = _meeting_form(action, meeting, request.user, data=request.POST, files=request.FILES)
    raw_item = request.POST.get("item", "")
    item = int(raw_item) if raw_item.isdigit() else None
    if not form.is_valid():
        return _render_meeting(request, meeting, bound=(action, form, item), status=400)
    try:
        done = MEETING_ACTIONS[action].run(meeting, request.user, form, request)
    except (TransitionInvalid, TransitionForbidden) as exc:
        _form_error(form, exc)
        return _render_meeting(request, meeting, bound=(action, form, item), status=_status(exc))
    except TransitionError as exc:
        messages.warning(request, exc.message)
        return redirect("staff:meeting-detail", pk=meeting.pk)
    messages.success(request, done)
    anchor = f"#item-{item}" if action == "decide" and item else ""
    return redirect(reverse("staff:meeting-detail", kwargs={"pk": meeting.pk}) + anchor)


@login_required
def meeting_attachment(request: SignedInRequest, pk: int) -> FileResponse:
    """A meeting's file, for those who may see the meeting."""
    item = get_object_or_404(
        MeetingAttachment.objects.filter(
            meeting__in=JointMeeting.objects.visible_to(request.user).values("pk")
        ),
        pk=pk,
    )
    try:
        handle = item.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return download_response(handle, name=item.name, content_type=item.content_type)


# --- standing mechanisms --------------------------------------------------------------------------


def _mechanisms(user: Any) -> Any:
    return StandingMechanism.objects.visible_to(user).select_related(
        "area", "owner_department", "category_type", "category_class", "common_issue"
    )


@login_required
def mechanism_list(request: SignedInRequest) -> HttpResponse:
    """Standing mechanisms of the user's territory and departments, with their next review date."""
    today = timezone.localdate()
    qs = _mechanisms(request.user).annotate(
        next_review=Min("reviews__due_on", filter=Q(reviews__done_at__isnull=True))
    )
    due = request.GET.get("due") == "1"
    if due:
        qs = qs.filter(next_review__lte=today)
    page = Paginator(qs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "meetings",
        "page": page,
        "mechanisms": list(page.object_list),
        "due": due,
        "today": today,
    }
    return render(request, "issues/staff/mechanism_list.html", context)


MECHANISM_FORMS: dict[str, type[Form]] = {"document": MechanismDocumentForm, "review": MechanismReviewForm}


@login_required
def mechanism_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One mechanism: what it covers, who owns it, its document, its reviews, the cases it came from."""
    mechanism = get_object_or_404(_mechanisms(request.user), pk=pk)
    return _render_mechanism(request, mechanism)


def _render_mechanism(
    request: HttpRequest,
    mechanism: StandingMechanism,
    *,
    bound: tuple[str, Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    keeper = is_mechanism_keeper(scope_for(request.user), mechanism)
    forms = {}
    if keeper:
        for name, form_class in MECHANISM_FORMS.items():
            if bound is not None and bound[0] == name:
                forms[name] = bound[1]
            elif name == "document":
                forms[name] = form_class(
                    prefix=name,
                    initial={
                        "document_title": mechanism.document_title,
                        "document_number": mechanism.document_number,
                    },
                )
            else:
                forms[name] = form_class(prefix=name)
    decision = (
        AgendaItem.objects.select_related("meeting", "meeting__area").filter(mechanism=mechanism).first()
        if mechanism.decision_id
        else None
    )
    meeting_visible = (
        decision is not None
        and JointMeeting.objects.visible_to(request.user).filter(pk=decision.meeting_id).exists()
    )
    context = {
        "nav": "meetings",
        "mechanism": mechanism,
        "keeper": keeper,
        "forms": forms,
        "decision": decision,
        "meeting_visible": meeting_visible,
        "cooperating": list(mechanism.cooperating_departments.all()),
        "reviews": list(mechanism.reviews.select_related("done_by__staff_profile").order_by("due_on", "pk")),
        "cases": list(
            mechanism.cases.visible_to(request.user)
            .select_related("category", "alley")
            .order_by("-created_at")
        ),
        "today": timezone.localdate(),
    }
    return render(request, "issues/staff/mechanism_detail.html", context, status=status)


@login_required
@require_POST
def mechanism_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Register the mechanism's document, or record a review, through ``issues.workflow.mechanisms``."""
    if action not in MECHANISM_FORMS:
        raise Http404
    mechanism = get_object_or_404(_mechanisms(request.user), pk=pk)
    form = MECHANISM_FORMS[action](request.POST, request.FILES, prefix=action)
    if not form.is_valid():
        return _render_mechanism(request, mechanism, bound=(action, form), status=400)
    data = form.cleaned_data
    try:
        if action == "document":
            mechanism_document_attach(
                mechanism=mechanism.pk,
                actor=request.user,
                upload=data["file"],
                document_title=data["document_title"],
                document_number=data["document_number"],
            )
            done = _("已登记机制文件。")
        else:
            mechanism_review_record(
                mechanism=mechanism.pk,
                actor=request.user,
                note=data["note"],
                next_review_on=data["next_review_on"],
            )
            done = _("已记录复核。")
    except (TransitionInvalid, TransitionForbidden) as exc:
        _form_error(form, exc)
        return _render_mechanism(request, mechanism, bound=(action, form), status=_status(exc))
    except TransitionError as exc:
        messages.warning(request, exc.message)
        return redirect("staff:mechanism-detail", pk=mechanism.pk)
    messages.success(request, done)
    return redirect("staff:mechanism-detail", pk=mechanism.pk)


@login_required
def mechanism_document(request: SignedInRequest, pk: int) -> FileResponse:
    """A mechanism's document, for those who may see the mechanism."""
    mechanism = get_object_or_404(StandingMechanism.objects.visible_to(request.user), pk=pk)
    if not mechanism.document:
        raise Http404
    try:
        handle = mechanism.document.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return download_response(
        handle, name=mechanism.document_name, content_type=mechanism.document_content_type
    )
