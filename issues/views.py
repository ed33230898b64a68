"""The staff site (/staff/): to-do, cases, intake, case detail with its transitions, photos, patrols, inbox.

Views are thin: they scope with ``visible_to(user)``, bind a form, call a service from
``issues.workflow`` and translate its errors for the user. A refused transition keeps
what was typed; a second click on a transition that already happened shows the
service's "state changed" message on the case page instead of an error page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alleys.choices import AreaLevel
from alleys.models import Area
from alleys.people import Actor, SignedInRequest
from alleys.scoping import scope_for
from dispatch.chain import unit_label

from . import common_proposals, duplicates, selectors
from .choices import CaseSource, CaseState, FeedbackChannel, Light, PatrolKind
from .deadline_state import DueKind, answerable_unit, case_due, order_dues
from .forms import (
    CHECKLIST_LABELS,
    CaseIntakeForm,
    PatrolForm,
    transition_form,
)
from .models import Case, CasePhoto, DispatchOrder, Notification, PatrolLog, ReturnVisit
from .notify import mark_read
from .patrols import NOT_ON_THE_TEAM, logs_patrols
from .photos import may_publish, photo_set_public
from .privacy import handles_case, mask_phone, reporter_shown
from .work import work_context
from .workflow import (
    MEETING_BEFORE_WHISTLE,
    STAFF,
    TRANSITIONS,
    Transition,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    allowed_transitions,
    case_accept,
    case_chase,
    case_feedback,
    case_merge,
    case_reject,
    case_resolve,
    case_return_visit,
    case_start,
    case_submit,
    case_supervise,
    case_verify,
    case_whistle,
)
from .workflow.assignment import person_name

PAGE_SIZE = 50
# Transitions whose page is elsewhere (the dispatch form lists departments and deadlines).
LINKED_TRANSITIONS = {"dispatch": "staff:dispatch-case", "consult": "staff:dispatch-case"}


def _uid(request: HttpRequest) -> int:
    """The logged-in user's id (every view here requires a login)."""
    pk = request.user.pk
    assert pk is not None
    return int(pk)


# --- row decoration (no queries) ----------------------------------------------------------------


def decorate_cases(cases: Iterable[Case], *, now: dt.datetime) -> list[Case]:
    """Attach what the lists show: masked phone, light label, holder unit, the governing deadline."""
    rows = list(cases)
    for case in rows:
        case.phone_masked = mask_phone(case.reporter_phone)  # type: ignore[attr-defined]
        case.light_label = Light(case.light).label  # type: ignore[attr-defined]
        case.holder_label = unit_label(case.tier, case.holder_area)  # type: ignore[attr-defined]
        # Read only when the queryset selected the assignee (the lists do: CASE_LIST_RELATED).
        assignee = case.assignee if case.assignee_id and Case.assignee.is_cached(case) else None
        case.assignee_name = person_name(assignee) if assignee is not None else ""  # type: ignore[attr-defined]
        governing = case_due(case, now)
        case.due = governing.due if governing else None  # type: ignore[attr-defined]
        case.due_kind = governing.label if governing else ""  # type: ignore[attr-defined]
        # Named beside the deadline when someone other than the holder answers for it (verification).
        case.due_unit = (  # type: ignore[attr-defined]
            answerable_unit(case) if governing and governing.kind == DueKind.VERIFY else ""
        )
        case.is_overdue = bool(governing and governing.is_overdue)  # type: ignore[attr-defined]
        case.is_near = bool(governing and governing.is_near)  # type: ignore[attr-defined]
    return rows


def decorate_orders(orders: Iterable[DispatchOrder], *, now: dt.datetime) -> list[DispatchOrder]:
    """Attach the overdue flags of an order's report and completion deadlines."""
    rows = list(orders)
    for order in rows:
        late = {due.kind for due in order_dues(order, now) if due.is_overdue}
        order.report_late = DueKind.REPORT in late  # type: ignore[attr-defined]
        order.complete_late = DueKind.COMPLETE in late  # type: ignore[attr-defined]
    return rows


# --- to-do -----------------------------------------------------------------------------------------


@login_required
def home(request: SignedInRequest) -> HttpResponse:
    """待办: the user's queues — waiting for me, then in my unit's hands — each counted, its first rows
    listed and a link to all of it (the case list's ``queue=`` filter, the same condition)."""
    now = timezone.now()
    user = request.user
    scope = scope_for(user)
    roles = selectors.role_flags(scope)
    cases = selectors.case_blocks(user, now=now)
    orders = selectors.order_blocks(user, now=now)
    limit = selectors.TODO_ROWS
    counts = {**cases.counts, **orders.counts}
    case_list_url = reverse("staff:case-list")
    order_list_url = reverse("staff:order-list")

    case_blocks: list[dict[str, Any]] = []
    for key, queue in selectors.CASE_QUEUES.items():
        shown = key in cases.queues
        count = counts.get(key, 0)
        case_blocks.append(
            {
                "key": key,
                "title": queue.title,
                "group": queue.group,
                # An empty block costs its count only.
                "rows": decorate_cases(cases.queues[key][:limit], now=now) if shown and count else [],
                "count": count,
                "shown": shown,
                "more": f"{case_list_url}?queue={key}",
            }
        )
    order_blocks = (
        [
            {
                "key": key,
                "title": selectors.ORDER_QUEUES[key],
                "rows": decorate_orders(qs[:limit], now=now) if counts.get(key) else [],
                "count": counts.get(key, 0),
                "more": f"{order_list_url}?queue={key}",
            }
            for key, qs in orders.department_queues.items()
        ]
        if roles["department"]
        else []
    )
    # 共性问题提议 (street staff, organisation departments): one query, names and counts only.
    sees_proposals = common_proposals.sees_proposals(scope)
    proposals = common_proposals.proposal_counts(user, now) if sees_proposals else []
    counts["common_proposals"] = len(proposals)
    evaluations: list[dict[str, Any]] | None = None
    source = selectors.pending_evaluations_source()
    if source is not None and roles["community"]:
        pending = list(source(user))
        counts["evaluations"] = len(pending)
        evaluations = [_evaluation_row(item) for item in pending[:limit]]
    mine_blocks = [b for b in case_blocks if b["shown"] and b["group"] == "mine"]
    unit_blocks = [b for b in case_blocks if b["shown"] and b["group"] == "unit"]
    context = {
        "nav": "home",
        "now": now,
        "counts": counts,
        "roles": roles,
        "case_blocks": case_blocks,
        "mine_blocks": mine_blocks,
        "unit_blocks": unit_blocks,
        "order_blocks": order_blocks,
        # A group's heading only over rows: an empty queue shows its zero in the counts above.
        "mine_listed": any(b["count"] for b in [*mine_blocks, *order_blocks]),
        "unit_listed": any(b["count"] for b in unit_blocks),
        "rejected_orders": decorate_orders(orders.rejected_orders[:limit], now=now)
        if roles["org"] and counts["rejected_orders"]
        else [],
        "rejected_more": f"{order_list_url}?queue=rejected_orders",
        "community_extensions": list(orders.community_extensions[:limit])
        if counts["community_extensions"]
        else [],
        "org_extensions": list(orders.org_extensions[:limit]) if counts["org_extensions"] else [],
        "community_visits": list(orders.community_visits[:limit]) if counts["community_visits"] else [],
        "department_consultations": list(orders.department_consultations[:limit])
        if counts["department_consultations"]
        else [],
        "evaluations": evaluations,
        "sees_proposals": sees_proposals,
        "common_proposals": proposals[:limit],
        "limit": limit,
        "nothing": not any(counts.values()),
        "can_patrol": logs_patrols(request.user),
        "can_register": scope.is_global or bool(scope.area_prefixes),
    }
    return render(request, "issues/staff/home.html", context)


def _evaluation_row(item: Any) -> dict[str, Any]:
    """One pending evaluation (from the evaluation app) as the to-do list shows it."""
    try:
        url = str(item.url)
    except NoReverseMatch:  # the evaluation pages are not routed in this deployment
        url = ""
    return {
        "url": url,
        "department": item.order.department.name,
        "community": item.community.name,
        "case": item.case,
        "order": item.order,
    }


# --- case list ---------------------------------------------------------------------------------------


# The case list, its bulk actions, saved views and CSV: issues/work_views.py.


# --- intake ------------------------------------------------------------------------------------------


@login_required
def case_new(request: SignedInRequest) -> HttpResponse:
    """Staff intake: a hotline/window call, or a problem found on a patrol or visit."""
    user = request.user
    if not Area.objects.visible_to(user).filter(level__in=[AreaLevel.ALLEY, AreaLevel.BUILDING]).exists():
        message = _("您的辖区内没有街巷，不能登记案件。部门收到的问题请通过派单办理。")
        return render(
            request, "issues/staff/forbidden.html", {"nav": "cases", "message": message}, status=403
        )
    patrol = _patrol_from_query(request)
    initial: dict[str, Any] = {}
    if patrol is not None:
        initial = {
            "patrol": patrol.pk,
            "alley": patrol.alley_id,
            "source": CaseSource.VISIT if patrol.kind == PatrolKind.VISIT else CaseSource.PATROL,
        }
    if request.method == "POST":
        form = CaseIntakeForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = case_submit(
                    category=data["category"],
                    alley=data["alley"],
                    building=data.get("building"),
                    description=data["description"],
                    source=data["source"],
                    reporter_name=data["reporter_name"],
                    reporter_phone=data["reporter_phone"],
                    address_detail=data["address_detail"],
                    urgency=data["urgency"],
                    photos=data["photos"],
                    consent=data["consent"],
                    actor=user,
                    patrol=data["patrol"],
                    start_tier=data["start_tier"] or None,
                )
            except TransitionError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("案件已登记，查询码 %(code)s。") % {"code": case.tracking_code})
                return redirect("staff:case-detail", pk=case.pk)
        status = 400
    else:
        form = CaseIntakeForm(initial=initial, user=user)
        status = 200
    context = {"nav": "cases", "form": form, "patrol": patrol}
    return render(request, "issues/staff/case_new.html", context, status=status)


def _patrol_from_query(request: HttpRequest) -> PatrolLog | None:
    raw = request.GET.get("patrol") or request.POST.get("patrol") or ""
    if not raw.isdigit():
        return None
    return (
        PatrolLog.objects.visible_to(request.user)
        .filter(chief_id=request.user.pk, pk=int(raw))
        .select_related("alley")
        .first()
    )


def _form_error(form: Form, exc: TransitionError) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


# --- case detail and transitions -------------------------------------------------------------------


def _case_for(request: HttpRequest, pk: int) -> Case:
    qs = Case.objects.visible_to(request.user).select_related(
        "category",
        "category__category_class",
        "alley",
        "alley__parent",
        "building",
        "holder_area",
        "lead_department",
        "merged_into",
        "patrol",
        "created_by__staff_profile",
        "assignee__staff_profile",
    )
    return get_object_or_404(qs, pk=pk)


@login_required
def case_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """Everything about one case, and a form for each transition the user may make now."""
    case = _case_for(request, pk)
    return _render_detail(request, case)


# Transitions that end the case for good (不予受理, 合并): set apart on the page and confirmed.
DESTRUCTIVE = frozenset({"reject", "merge"})
# Transitions that only flag the case (督办, 催办): never the one step a page opens by itself.
FLAGS = frozenset({"supervise", "chase"})


def available_transitions(case: Case, user: Actor | None) -> list[Transition]:
    """What this user may do on this case now, as the staff case page offers it.

    The state machine's table answers (``allowed_transitions``: each row's source states and
    who-check, nothing written); this keeps the rows the staff site has a form or a page for.
    """
    return [
        t
        for t in allowed_transitions(case, user)
        if STAFF in t.via and (t.name in CASE_ACTIONS or t.name in LINKED_TRANSITIONS)
    ]


def _render_detail(
    request: HttpRequest,
    case: Case,
    *,
    bound: tuple[str, Form] | None = None,
    status: int = 200,
    work_bound: tuple[str, Form] | None = None,
) -> HttpResponse:
    user = request.user
    now = timezone.now()
    scope = scope_for(user)
    transitions = available_transitions(case, user)
    names = [t.name for t in transitions]
    if bound is not None and bound[0] not in names:
        # A refused attempt stays on the page with its message and the typed input.
        transitions.append(TRANSITIONS[bound[0]])
    actions: list[dict[str, Any]] = []
    for transition in transitions:
        entry: dict[str, Any] = {
            "t": transition,
            "form": None,
            "link": None,
            "danger": transition.name in DESTRUCTIVE,
            "open": bound is not None and bound[0] == transition.name,
        }
        if transition.name in LINKED_TRANSITIONS:
            entry["link"] = reverse(LINKED_TRANSITIONS[transition.name], kwargs={"case_id": case.pk})
        elif transition.name == "whistle" and case.tier in MEETING_BEFORE_WHISTLE and bound is None:
            # The district whistles to the city only as its joint meeting decides (rules.whistle_decision).
            entry["link"] = reverse("staff:meeting-list")
            entry["meeting"] = True
        elif bound is not None and bound[0] == transition.name:
            entry["form"] = bound[1]
        else:
            entry["form"] = transition_form(transition.name, case=case, user=user)
        actions.append(entry)
    primary = [a for a in actions if not a["danger"]]
    moving = [a for a in primary if a["t"].name not in FLAGS]
    if len(moving) == 1 and not any(a["open"] for a in actions):
        moving[0]["open"] = True  # the one step to take now: its form shows at once
    orders = decorate_orders(
        case.orders.select_related("department").order_by("dispatched_at", "pk"),
        now=now,
    )
    [case] = decorate_cases([case], now=now)
    meeting_items = selectors.meeting_items_of(user, case=case)
    visits = list(case.return_visits.select_related("recorded_by__staff_profile"))
    handles = handles_case(user, case)
    reporter = reporter_shown(case, handles=handles)
    governing = case_due(case, now)
    context = {
        "nav": "cases",
        "case": case,
        "now": now,
        "reporter": reporter,
        # Only those handling the case see the number in full, so only they get a link to call it.
        "reporter_tel": re.sub(r"[^0-9+]", "", reporter["phone"]) if handles else "",
        "governing": governing,
        "governing_provisional": case.walked_predicted_days(governing.due if governing else None),
        "answerable": answerable_unit(case) if governing else "",
        "photos": list(case.photos.all()),
        "can_publish": may_publish(scope, case),
        "events": list(case.events.select_related("actor__staff_profile")),
        "orders": orders,
        "whistles": list(case.whistles.prefetch_related("departments").order_by("at", "pk")),
        "feedbacks": list(case.feedbacks.select_related("recorded_by__staff_profile")),
        "return_visits": visits,
        "failures_left": _failures_left(case, visits),
        "merged_cases": list(case.merged_cases.only("pk", "tracking_code")),
        "common_issues": list(case.common_issues.all()),
        "meeting_items": meeting_items,
        "visible_meeting_ids": {item.meeting_id for item in meeting_items},
        "mechanisms": selectors.mechanisms_of(user, case=case),
        # 可能重复: the residents' form's "already reported?" rule, among the cases this user sees,
        # beside the merge action; only while the case is open (a finished case merges nothing).
        "duplicates": duplicates.candidates(
            case.alley,
            case.category,
            now,
            near=duplicates.location_of(case.latitude, case.longitude),
            exclude=case,
            within=Case.objects.visible_to(user),
        )
        if case.is_open
        else [],
        "duplicate_days": duplicates.window_days(),
        "duplicate_meters": duplicates.radius_m(),
        "primary_actions": primary,
        "danger_actions": [a for a in actions if a["danger"]],
        "action_count": len(actions),
        "show_names": True,
    }
    # The work panel (templates/issues/staff/_case_work.html): assignee, internal notes, progress updates.
    context.update(work_context(user, case, bound=work_bound))
    return render(request, "issues/staff/case_detail.html", context, status=status)


def _failures_left(case: Case, visits: list[ReturnVisit]) -> int | None:
    """How many more failed return visits close the case unrated (None: no visit is due)."""
    if case.state != CaseState.AWAITING_RETURN_VISIT:
        return None
    failed = sum(1 for v in visits if v.round == case.feedback_round and not v.reached)
    return max(settings.JXT_RETURN_VISIT_ATTEMPTS - failed, 1)


@login_required
@require_POST
def case_transition(request: SignedInRequest, pk: int, transition: str) -> HttpResponse:
    """Run one transition through the state machine and come back to the case."""
    if transition in LINKED_TRANSITIONS:
        return redirect(LINKED_TRANSITIONS[transition], case_id=pk)
    if transition not in CASE_ACTIONS:  # not a transition, or not one of the staff site's (escalate)
        raise Http404
    case = _case_for(request, pk)
    form = transition_form(transition, case=case, user=request.user, data=request.POST, files=request.FILES)
    if not form.is_valid():
        return _render_detail(request, case, bound=(transition, form), status=400)
    try:
        CASE_ACTIONS[transition](case.pk, request.user, form.cleaned_data)
    except TransitionInvalid as exc:
        _form_error(form, exc)
        return _render_detail(request, case, bound=(transition, form), status=400)
    except TransitionForbidden as exc:
        _form_error(form, exc)
        return _render_detail(request, case, bound=(transition, form), status=403)
    except TransitionError as exc:
        # Most often a second click: the case already moved on. Say so on the case page.
        messages.warning(request, exc.message)
        return redirect("staff:case-detail", pk=pk)
    messages.success(request, _("已%(action)s。") % {"action": TRANSITIONS[transition].label})
    return redirect("staff:case-detail", pk=pk)


# Each staff-page transition: the service it calls with the form's cleaned data, keyed by the
# table's names (issues.workflow.TRANSITIONS; the forms are issues.forms.TRANSITION_FORMS).
Runner = Callable[[int, Any, dict[str, Any]], object]


def _with_note(service: Callable[..., object]) -> Runner:
    def run(pk: int, user: Any, data: dict[str, Any]) -> object:
        return service(case=pk, actor=user, note=data.get("note", ""))

    return run


def _whistle(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_whistle(
        case=pk,
        actor=user,
        reason=data["reason"],
        departments=list(data.get("departments") or []),
        urgency=data.get("urgency") or None,
    )


def _resolve(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_resolve(
        case=pk, actor=user, note=data["note"], photos=data["photos"], photos_public=data["photos_public"]
    )


def _verify(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_verify(case=pk, actor=user, passed=data["passed"], note=data["note"])


def _feedback(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_feedback(
        case=pk,
        actor=user,
        solved=data["solved"],
        satisfaction=data["satisfaction"],
        comment=data["comment"],
        channel=FeedbackChannel.RETURN_CALL,
    )


def _return_visit(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_return_visit(
        case=pk,
        actor=user,
        channel=data["channel"],
        reached=data["reached"],
        visited_at=data.get("visited_at"),
        solved=data.get("solved") or "",
        satisfaction=data.get("satisfaction") or "",
        words=data.get("words") or "",
        note=data.get("note") or "",
    )


def _reject(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_reject(case=pk, actor=user, reason=data["reason"])


def _merge(pk: int, user: Any, data: dict[str, Any]) -> object:
    target = (
        Case.objects.visible_to(user).filter(tracking_code=data["into"]).values_list("pk", flat=True).first()
    )
    if target is None:
        raise TransitionInvalid(_("找不到查询码为 %(code)s 的案件。") % {"code": data["into"]}, field="into")
    return case_merge(case=pk, actor=user, into=target, note=data["note"])


CASE_ACTIONS: dict[str, Runner] = {
    "accept": _with_note(case_accept),
    "start": _with_note(case_start),
    "whistle": _whistle,
    "resolve": _resolve,
    "verify": _verify,
    "feedback": _feedback,
    "return-visit": _return_visit,
    "reject": _reject,
    "merge": _merge,
    "supervise": _with_note(case_supervise),
    "chase": _with_note(case_chase),
}


# --- photos ------------------------------------------------------------------------------------------


@login_required
def photo(request: SignedInRequest, pk: int) -> FileResponse:
    """A case photo, for staff who may see the case (photos are never served from a public URL)."""
    # Only a processed photo (issues.photos): the raw upload is never served, not even to staff.
    item = get_object_or_404(
        CasePhoto.objects.processed().filter(case__in=Case.objects.visible_to(request.user)), pk=pk
    )
    try:
        handle = item.image.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def photo_public(request: SignedInRequest, pk: int) -> HttpResponseRedirect:
    """Holders mark a photo public (checked for faces and door numbers) or private again."""
    item = get_object_or_404(CasePhoto.objects.filter(case__in=Case.objects.visible_to(request.user)), pk=pk)
    public = request.POST.get("public") == "1"
    try:
        photo_set_public(photo=item, actor=request.user, public=public)
    except TransitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("照片已设为公开。") if public else _("照片已设为不公开。"))
    return redirect(reverse("staff:case-detail", kwargs={"pk": item.case_id}) + "#photos")


# --- patrols and visits --------------------------------------------------------------------------------


@login_required
def patrol_list(request: SignedInRequest) -> HttpResponse:
    """The patrol and visit logs of the user's territory, with this year's expense of the user."""
    logs = selectors.patrols_for(request.user)
    kind = request.GET.get("kind", "")
    if kind in PatrolKind.values:
        logs = logs.filter(kind=kind)
    page = Paginator(logs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    mine = PatrolLog.objects.filter(chief_id=request.user.pk, date__year=today.year).aggregate(
        expense=Sum("expense_yuan"), households=Sum("households_visited")
    )
    rows = list(page.object_list)
    for log in rows:
        log.checked_labels = [CHECKLIST_LABELS.get(k, k) for k in log.checked or []]  # type: ignore[attr-defined]
    context = {
        "nav": "patrols",
        "page": page,
        "logs": rows,
        "kind": kind,
        "kinds": PatrolKind.choices,
        "mine": mine,
        "year": today.year,
        "can_log": logs_patrols(request.user),
    }
    return render(request, "issues/staff/patrol_list.html", context)


@login_required
def patrol_new(request: SignedInRequest) -> HttpResponse:
    """Record a patrol or visit; then, if a problem was found, register it as a case."""
    if not logs_patrols(request.user):
        message = str(NOT_ON_THE_TEAM)
        return render(
            request, "issues/staff/forbidden.html", {"nav": "patrols", "message": message}, status=403
        )
    if request.method == "POST":
        form = PatrolForm(request.POST, user=request.user, instance=PatrolLog(chief_id=_uid(request)))
        if form.is_valid():
            log = form.save()
            messages.success(request, _("巡查走访记录已保存。"))
            return redirect("staff:patrol-detail", pk=log.pk)
        status = 400
    else:
        form = PatrolForm(user=request.user)
        status = 200
    return render(request, "issues/staff/patrol_new.html", {"nav": "patrols", "form": form}, status=status)


@login_required
def patrol_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One log, the cases it found, and the way to register another."""
    log = get_object_or_404(
        PatrolLog.objects.visible_to(request.user).select_related("alley", "chief__staff_profile"), pk=pk
    )
    now = timezone.now()
    cases = decorate_cases(
        log.cases.visible_to(request.user).select_related(*selectors.CASE_LIST_RELATED), now=now
    )
    context = {
        "nav": "patrols",
        "log": log,
        "checked_labels": [CHECKLIST_LABELS.get(k, k) for k in log.checked or []],
        "cases": cases,
        "is_mine": log.chief_id == request.user.pk,
    }
    return render(request, "issues/staff/patrol_detail.html", context)


# --- inbox -------------------------------------------------------------------------------------------


@login_required
def inbox(request: SignedInRequest) -> HttpResponse:
    """The user's in-app messages, newest first."""
    qs = Notification.objects.for_user(request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        qs = qs.unread()
    page = Paginator(qs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"nav": "inbox", "page": page, "notes": list(page.object_list), "unread_only": unread_only}
    return render(request, "issues/staff/inbox.html", context)


@login_required
@require_POST
def inbox_read(request: SignedInRequest) -> HttpResponseRedirect:
    """Mark one message (``id``) or all (``all=1``) as read."""
    if request.POST.get("all") == "1":
        count = mark_read(user_id=_uid(request))
        messages.success(request, _("已将 %(n)d 条消息标为已读。") % {"n": count})
    else:
        ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
        mark_read(user_id=_uid(request), ids=ids)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return redirect("staff:inbox")
