"""Staff pages for department orders, extensions, dispatching a case and common issues.

The order state machine lives in ``issues.workflow.orders`` and the case's in
``issues.workflow``; these views bind forms, call those services, and show their
messages. Which forms a page offers is only a hint for the user (computed from the
order's state and the user's roles); the services decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alleys.people import Actor, SignedInRequest
from alleys.scoping import Scope, scope_for
from dispatch.chain import unit_label
from dispatch.models import OrderSettings
from issues import common_proposals
from issues.choices import (
    ACTIVE_ORDER_STATES,
    OPEN_STATES,
    AttendanceState,
    ConsultationState,
    EventKind,
    ExtensionState,
    OrderState,
    ReportOutcome,
)
from issues.deadline_state import order_overdue_q
from issues.form_fields import dispatchable_departments
from issues.models import (
    Attendance,
    Case,
    CaseEvent,
    CommonIssue,
    Consultation,
    DispatchOrder,
    ExtensionRequest,
)
from issues.privacy import reporter_for
from issues.selectors import (
    CASE_LIST_RELATED,
    ORDER_QUEUES,
    is_org,
    mechanisms_of,
    meeting_items_of,
    order_queue_q,
)
from issues.views import PAGE_SIZE, decorate_cases, decorate_orders
from issues.workflow import (
    ORDER_TRANSITIONS,
    STAFF,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    allowed_transitions,
    case_consult,
    case_dispatch,
    offered_order_transitions,
)

from .order_forms import (
    AttendanceConfirmForm,
    AttendanceMissedForm,
    CommonIssueForm,
    CompleteForm,
    ConsultForm,
    DecisionForm,
    DispatchForm,
    EmptyForm,
    ExtensionForm,
    InsistForm,
    OrderRejectForm,
    ProgressForm,
    RedispatchForm,
    ReportForm,
)
from .workflow.attendance import attendance_confirm, attendance_missed
from .workflow.orders import (
    common_issue_create,
    common_issue_dispatch,
    extension_community_decide,
    extension_org_decide,
    extension_request,
    order_complete,
    order_insist,
    order_progress,
    order_receive,
    order_redispatch,
    order_reject,
    order_report,
)

OS = OrderState


# Each staff-page action on an order (or its pending extension): its form and the service it
# calls, keyed by the table's names (issues.workflow.ORDER_TRANSITIONS). A runner returns the
# order to show next (a re-dispatch creates a new one).
Runner = Callable[[DispatchOrder, Any, Form], int]


@dataclass(frozen=True)
class OrderAction:
    """One thing a user can do to an order: the table's transition, its form and its runner."""

    name: str
    form_class: type[Form]
    run: Runner

    @property
    def label(self) -> Any:
        return ORDER_TRANSITIONS[self.name].label


def _receive(order: DispatchOrder, user: Any, form: Form) -> int:
    return order_receive(order=order.pk, actor=user).pk


def _report(order: DispatchOrder, user: Any, form: Form) -> int:
    data = form.cleaned_data
    return order_report(
        order=order.pk,
        actor=user,
        leader_name=data["leader_name"],
        contact_name=data["contact_name"],
        contact_phone=data["contact_phone"],
        work_plan=data["work_plan"],
        visit_at=data["visit_at"],
        visitors=data["visitors"],
    ).pk


def _attendance_confirm(order: DispatchOrder, user: Any, form: Form) -> int:
    data = form.cleaned_data
    attendance_confirm(
        order=order.pk,
        actor=user,
        attended_at=data["attended_at"],
        present=data["present"],
        note=data["note"],
    )
    return order.pk


def _attendance_missed(order: DispatchOrder, user: Any, form: Form) -> int:
    attendance_missed(order=order.pk, actor=user, note=form.cleaned_data["note"])
    return order.pk


def _progress(order: DispatchOrder, user: Any, form: Form) -> int:
    return order_progress(order=order.pk, actor=user, note=form.cleaned_data["note"]).pk


def _complete(order: DispatchOrder, user: Any, form: Form) -> int:
    data = form.cleaned_data
    return order_complete(order=order.pk, actor=user, note=data["note"], photos=data["photos"]).pk


def _reject(order: DispatchOrder, user: Any, form: Form) -> int:
    return order_reject(order=order.pk, actor=user, reason=form.cleaned_data["reason"]).pk


def _extension(order: DispatchOrder, user: Any, form: Form) -> int:
    assert isinstance(form, ExtensionForm)
    extension_request(
        order=order.pk, actor=user, reason=form.cleaned_data["reason"], new_due=form.due_datetime(order)
    )
    return order.pk


def _pending(order: DispatchOrder) -> ExtensionRequest:
    pending = _open_extension(order)
    if pending is None:
        raise TransitionError(_("该派单没有待处理的延期申请。请刷新后查看。"))
    return pending


def _extension_community(order: DispatchOrder, user: Any, form: Form) -> int:
    data = form.cleaned_data
    extension_community_decide(
        extension=_pending(order).pk, actor=user, agree=data["agree"], note=data["note"]
    )
    return order.pk


def _extension_org(order: DispatchOrder, user: Any, form: Form) -> int:
    data = form.cleaned_data
    extension_org_decide(extension=_pending(order).pk, actor=user, approve=data["agree"], note=data["note"])
    return order.pk


def _redispatch(order: DispatchOrder, user: Any, form: Form) -> int:
    data = form.cleaned_data
    return order_redispatch(order=order.pk, actor=user, department=data["department"], note=data["note"]).pk


def _insist(order: DispatchOrder, user: Any, form: Form) -> int:
    return order_insist(order=order.pk, actor=user, note=form.cleaned_data["note"]).pk


ORDER_ACTIONS: dict[str, OrderAction] = {
    a.name: a
    for a in (
        OrderAction("receive", EmptyForm, _receive),
        OrderAction("report", ReportForm, _report),
        OrderAction("attendance-confirm", AttendanceConfirmForm, _attendance_confirm),
        OrderAction("attendance-missed", AttendanceMissedForm, _attendance_missed),
        OrderAction("progress", ProgressForm, _progress),
        OrderAction("complete", CompleteForm, _complete),
        OrderAction("reject", OrderRejectForm, _reject),
        OrderAction("extension", ExtensionForm, _extension),
        OrderAction("extension-community", DecisionForm, _extension_community),
        OrderAction("extension-org", DecisionForm, _extension_org),
        OrderAction("redispatch", RedispatchForm, _redispatch),
        OrderAction("insist", InsistForm, _insist),
    )
}


# Actions that end the department's part or record a failing: shown apart, in red, and confirmed.
DANGER_ACTIONS = frozenset({"reject", "attendance-missed"})

# What an order's page reads besides the order row (one query each).
ORDER_PREFETCH = (
    "extensions",
    Prefetch("attendances", queryset=Attendance.objects.select_related("community")),
    Prefetch("consultations", queryset=Consultation.objects.select_related("suggested_department")),
)


def _order_qs(user: Actor) -> Any:
    return DispatchOrder.objects.visible_to(user).select_related(
        "department",
        "department__area",
        "dispatcher_area",
        "case",
        "case__category",
        "case__alley",
        "case__alley__parent",
        "case__holder_area",
        "common_issue",
        "replaced_by",
        "replaced_by__department",
    )


def _planned_visit(order: DispatchOrder) -> Attendance | None:
    """The visit the department announced and the community has not yet recorded (prefetched)."""
    return next((a for a in order.attendances.all() if a.state == AttendanceState.PLANNED), None)


def _open_extension(order: DispatchOrder) -> ExtensionRequest | None:
    open_states = (ExtensionState.PENDING_COMMUNITY, ExtensionState.PENDING_ORG)
    return next((e for e in order.extensions.all() if e.state in open_states), None)


def _order_cases(order: DispatchOrder) -> list[Case]:
    if order.case_id:
        return [order.case] if order.case is not None else []
    assert order.common_issue is not None
    return list(order.common_issue.cases.select_related(*CASE_LIST_RELATED))


def offered_actions(order: DispatchOrder, scope: Scope) -> list[str]:
    """The order actions to show this user (the services check again when they run)."""
    offered = offered_order_transitions(order, _open_extension(order), scope, _planned_visit(order))
    return [t.name for t in offered if STAFF in t.via]


def _action_form(name: str, order: DispatchOrder, user: Actor, data: Any = None, files: Any = None) -> Form:
    action = ORDER_ACTIONS[name]
    kwargs: dict[str, Any] = {"prefix": name}
    if data is not None:
        kwargs.update(data=data, files=files)
    if action.form_class is RedispatchForm:
        return RedispatchForm(order=order, user=user, **kwargs)
    if action.form_class is ReportForm:
        return ReportForm(order=order, **kwargs)
    if action.form_class is AttendanceConfirmForm:
        return AttendanceConfirmForm(visit=_planned_visit(order), **kwargs)
    return action.form_class(**kwargs)


def _form_error(form: Form, exc: TransitionError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def _dispatch_from_form(request: SignedInRequest, form: Form, dispatch: Callable[..., object]) -> int | None:
    """Dispatch (a case's or a common issue's orders) with the DispatchForm's data.

    None when the page should go back to what was dispatched (done, or refused because it
    changed meanwhile: the message says which); otherwise the status to show the form again
    with the refusal beside its field.
    """
    data = form.cleaned_data
    try:
        dispatch(
            actor=request.user,
            lead=data["lead"],
            cooperating=list(data["cooperating"]),
            instructions=data["instructions"],
        )
    except (TransitionInvalid, TransitionForbidden) as exc:
        _form_error(form, exc)
        return 403 if isinstance(exc, TransitionForbidden) else 400
    except TransitionError as exc:
        messages.warning(request, exc.message)
        return None
    messages.success(request, _("已派单。"))
    return None


# --- orders ----------------------------------------------------------------------------------------


@login_required
def order_list(request: SignedInRequest) -> HttpResponse:
    """Orders of the user's department; organisation departments and territory staff see theirs."""
    now = timezone.now()
    scope = scope_for(request.user)
    qs = _order_qs(request.user)
    state = request.GET.get("state", "")
    if state in OS.values:
        qs = qs.filter(state=state)
    elif state == "active":
        qs = qs.filter(state__in=ACTIVE_ORDER_STATES)
    if request.GET.get("overdue") == "1":
        qs = qs.filter(order_overdue_q(now))
    mine = request.GET.get("mine") == "1"
    if mine and not scope.is_global:
        qs = qs.filter(department_id__in=sorted(scope.department_ids))
    # A block of the to-do page, "see all": the same condition as its count (issues.selectors).
    queue = request.GET.get("queue", "")
    if queue in ORDER_QUEUES:
        qs = qs.filter(order_queue_q(scope)[queue])
    page = Paginator(qs.order_by("-dispatched_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "orders",
        "page": page,
        "orders": decorate_orders(page.object_list, now=now),
        "states": [("active", _("在办")), *OS.choices],
        "state": state,
        "overdue": request.GET.get("overdue") == "1",
        "mine": mine,
        "has_department": bool(scope.department_ids),
        "is_org": is_org(scope),
    }
    return render(request, "dispatch/staff/order_list.html", context)


@login_required
def order_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One order: deadlines, report, extensions, its timeline, and the forms the user may use."""
    order = get_object_or_404(_order_qs(request.user).prefetch_related(*ORDER_PREFETCH), pk=pk)
    return _render_order(request, order)


def _render_order(
    request: HttpRequest, order: DispatchOrder, *, bound: tuple[str, Form] | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    now = timezone.now()
    scope = scope_for(user)
    cases = decorate_cases(_order_cases(order), now=now)
    names = offered_actions(order, scope)
    if bound is not None and bound[0] not in names:
        names.append(bound[0])
    actions = [
        {
            "action": ORDER_ACTIONS[name],
            "form": bound[1] if bound is not None and bound[0] == name else _action_form(name, order, user),
            "danger": name in DANGER_ACTIONS,
        }
        for name in names
    ]
    [order] = decorate_orders([order], now=now)
    dispatcher = order.dispatcher_area
    events = CaseEvent.objects.filter(data__order_id=order.pk)
    if cases:
        # A common issue's order writes the same event on every case; show it once. With the
        # order's own events, the dispatch that created it: one event for all the orders of a
        # dispatch (lead and cooperating, or a common issue's), written at the order's time.
        events = CaseEvent.objects.filter(
            Q(data__order_id=order.pk) | Q(kind=EventKind.DISPATCHED, at=order.dispatched_at),
            case_id=cases[0].pk,
        )
    siblings: list[DispatchOrder] = []
    if order.case_id:
        siblings = decorate_orders(
            DispatchOrder.objects.filter(case_id=order.case_id)
            .exclude(pk=order.pk)
            .select_related("department")
            .order_by("dispatched_at", "pk"),
            now=now,
        )
    context = {
        "nav": "orders",
        "order": order,
        "dispatcher_label": unit_label(dispatcher.level, dispatcher),
        "cases": cases,
        "reporter": reporter_for(user, cases[0]) if order.case_id and cases else None,
        "extensions": list(order.extensions.all()),
        "pending_extension": _open_extension(order),
        "attendances": list(order.attendances.all()),
        "planned_visit": _planned_visit(order),
        "report_outcome": ReportOutcome(
            order.report_outcome(
                now, no_show=any(a.state == AttendanceState.MISSED for a in order.attendances.all())
            )
        ),
        "consultations": list(order.consultations.all()),
        "events": list(events.select_related("actor__staff_profile").order_by("at", "pk")),
        "siblings": siblings,
        "actions": actions,
    }
    return render(request, "dispatch/staff/order_detail.html", context, status=status)


@login_required
@require_POST
def order_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Run one order action through ``issues.workflow.orders`` and come back to the order."""
    if action not in ORDER_ACTIONS:
        raise Http404
    order = get_object_or_404(_order_qs(request.user).prefetch_related(*ORDER_PREFETCH), pk=pk)
    form = _action_form(action, order, request.user, data=request.POST, files=request.FILES)
    if not form.is_valid():
        return _render_order(request, order, bound=(action, form), status=400)
    try:
        target = ORDER_ACTIONS[action].run(order, request.user, form)
    except TransitionInvalid as exc:
        _form_error(form, exc)
        return _render_order(request, order, bound=(action, form), status=400)
    except TransitionForbidden as exc:
        _form_error(form, exc)
        return _render_order(request, order, bound=(action, form), status=403)
    except TransitionError as exc:
        messages.warning(request, exc.message)
        return redirect("staff:order-detail", pk=order.pk)
    messages.success(request, _("已%(action)s。") % {"action": ORDER_ACTIONS[action].label})
    return redirect("staff:order-detail", pk=target)


# --- dispatching a case ---------------------------------------------------------------------------


def _dispatch_case_of(request: SignedInRequest, case_id: int) -> Case:
    return get_object_or_404(
        Case.objects.visible_to(request.user).select_related(*CASE_LIST_RELATED),
        pk=case_id,
    )


@login_required
def dispatch_case(request: SignedInRequest, case_id: int) -> HttpResponse:
    """派单: the organisation department holding a case sends it to a lead and cooperating departments.

    The page also shows the departments' answers to the consultation before dispatch, and the
    form to ask them (``dispatch_consult``).
    """
    user = request.user
    case = _dispatch_case_of(request, case_id)
    if request.method == "POST":
        form = DispatchForm(request.POST, user=user, area=case.holder_area)
        if not form.is_valid():
            return _render_dispatch(request, case, form=form, status=400)
        refused = _dispatch_from_form(request, form, partial(case_dispatch, case=case.pk))
        if refused is None:
            return redirect("staff:case-detail", pk=case.pk)
        return _render_dispatch(request, case, form=form, status=refused)
    return _render_dispatch(request, case)


@login_required
@require_POST
def dispatch_consult(request: SignedInRequest, case_id: int) -> HttpResponse:
    """派单前征求意见: ask the proposed departments (``issues.workflow.case_consult``), back to the dispatch page."""
    case = _dispatch_case_of(request, case_id)
    form = ConsultForm(request.POST, user=request.user, area=case.holder_area)
    if not form.is_valid():
        return _render_dispatch(request, case, consult_form=form, status=400)
    data = form.cleaned_data
    try:
        case_consult(
            case=case.pk, actor=request.user, departments=list(data["departments"]), question=data["question"]
        )
    except (TransitionInvalid, TransitionForbidden) as exc:
        _form_error(form, exc)
        return _render_dispatch(
            request, case, consult_form=form, status=403 if isinstance(exc, TransitionForbidden) else 400
        )
    except TransitionError as exc:
        messages.warning(request, exc.message)
    else:
        messages.success(request, _("已征求部门意见。"))
    return redirect("staff:dispatch-case", case_id=case.pk)


def _render_dispatch(
    request: HttpRequest,
    case: Case,
    *,
    form: Form | None = None,
    consult_form: Form | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    now = timezone.now()
    names = {t.name for t in allowed_transitions(case, user)}
    whistle = case.whistles.prefetch_related("departments").order_by("-at", "-pk").first()
    suggested = list(whistle.departments.all()) if whistle is not None else []
    consultations = list(
        case.consultations.select_related("department", "suggested_department").order_by("asked_at", "pk")
    )
    waiting = [c for c in consultations if c.state == ConsultationState.PENDING and c.answer_due > now]
    # Both forms offer the same departments: worked out once.
    departments = dispatchable_departments(user, case.holder_area)
    if form is None:
        initial: dict[str, Any] = {}
        if suggested:
            initial = {"lead": suggested[0].pk, "cooperating": [d.pk for d in suggested[1:]]}
        form = DispatchForm(initial=initial, user=user, area=case.holder_area, departments=departments)
    if consult_form is None and "consult" in names:
        consult_form = ConsultForm(
            initial={"departments": [d.pk for d in suggested]},
            user=user,
            area=case.holder_area,
            departments=departments,
        )
    [case] = decorate_cases([case], now=now)
    context = {
        "nav": "orders",
        "case": case,
        "form": form,
        "allowed": "dispatch" in names,
        "consult_form": consult_form if "consult" in names or status != 200 else None,
        "consultations": consultations,
        "waiting_until": max((c.answer_due for c in waiting), default=None),
        "whistle": whistle,
        "suggested": suggested,
        "order_settings": OrderSettings.current(),
    }
    return render(request, "dispatch/staff/dispatch_case.html", context, status=status)


# --- common issues -------------------------------------------------------------------------------


@login_required
def common_issue_list(request: SignedInRequest) -> HttpResponse:
    """Common issues the user may see; organisation departments create them here."""
    user = request.user
    scope = scope_for(user)
    may_create = is_org(scope)
    status = 200
    form = CommonIssueForm()
    if request.method == "POST":
        form = CommonIssueForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            found = {
                c.tracking_code: c
                for c in Case.objects.visible_to(user)
                .filter(tracking_code__in=data["codes"])
                .select_related("alley")
            }
            missing = [code for code in data["codes"] if code not in found]
            if missing:
                form.add_error(
                    "codes", _("找不到这些查询码的案件：%(codes)s") % {"codes": "、".join(missing)}
                )
                status = 400
            else:
                try:
                    issue = common_issue_create(
                        actor=user,
                        title=data["title"],
                        description=data["description"],
                        is_long_term=data["is_long_term"],
                        cases=[found[code] for code in data["codes"]],
                    )
                except TransitionError as exc:
                    _form_error(form, exc)
                    status = 403 if isinstance(exc, TransitionForbidden) else 400
                else:
                    messages.success(request, _("共性问题已设立。"))
                    return redirect("staff:common-issue-detail", pk=issue.pk)
        else:
            status = 400
    issues = (
        CommonIssue.objects.visible_to(user)
        .select_related("coordinator_area", "lead_department")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(issues, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    counts = {
        row["commonissue_id"]: row["n"]
        for row in CommonIssue.cases.through.objects.filter(commonissue_id__in=[i.pk for i in rows])
        .values("commonissue_id")
        .annotate(n=Count("pk"))
    }
    for issue in rows:
        issue.n_cases = counts.get(issue.pk, 0)  # type: ignore[attr-defined]
    context = {"nav": "orders", "page": page, "issues": rows, "form": form, "may_create": may_create}
    return render(request, "dispatch/staff/common_issue_list.html", context, status=status)


@login_required
def common_issue_proposals(request: SignedInRequest) -> HttpResponse:
    """共性问题提议 (issues/common_proposals.py): the street's same-type cases from several communities;
    the organisation department sets one up as a common issue with one click (the service decides who may).

    A second click finds the cases grouped already: the proposal is gone, and the page says so.
    """
    user = request.user
    scope = scope_for(user)
    if not common_proposals.sees_proposals(scope):
        raise Http404
    now = timezone.now()
    status = 200
    if request.method == "POST":
        street = _int_or_none(request.POST.get("street"))
        category = _int_or_none(request.POST.get("category"))
        found = (
            common_proposals.proposals(user, now, street=street, category=category)
            if street is not None and category is not None
            else []
        )
        if not found:
            messages.info(request, _("该提议已不存在：案件可能已归入共性问题，或已办结。"))
            return redirect("staff:common-issue-proposals")
        proposal = found[0]
        title = _("%(street)s：%(category)s（%(n)s 个社区 %(count)s 件）") % {
            "street": proposal.street.name,
            "category": proposal.category.name,
            "n": len(proposal.communities),
            "count": len(proposal.cases),
        }
        try:
            issue = common_issue_create(
                actor=user,
                title=title[:200],
                description=_("由共性问题提议设立：%(days)s 天内同一街道多个社区反映的同类问题。")
                % {"days": common_proposals.window_days()},
                cases=proposal.cases,
                now=now,
            )
        except TransitionError as exc:
            messages.error(request, exc.message)
            status = 403 if isinstance(exc, TransitionForbidden) else 400
        else:
            messages.success(request, _("共性问题已设立。"))
            return redirect("staff:common-issue-detail", pk=issue.pk)
    context = {
        "nav": "orders",
        "proposals": common_proposals.proposals(user, now),
        "may_create": is_org(scope),
        "min_cases": common_proposals.min_cases(),
        "min_communities": common_proposals.MIN_COMMUNITIES,
        "days": common_proposals.window_days(),
    }
    return render(request, "dispatch/staff/common_issue_proposals.html", context, status=status)


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
def common_issue_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """A common issue: its cases, its orders, and (for its organisation department) the dispatch form."""
    user = request.user
    issue = get_object_or_404(
        CommonIssue.objects.visible_to(user).select_related("coordinator_area", "lead_department"), pk=pk
    )
    now = timezone.now()
    status = 200
    area = issue.coordinator_area
    scope = scope_for(user)
    orders = decorate_orders(
        issue.orders.select_related("department").order_by("dispatched_at", "pk"), now=now
    )
    has_active = any(o.is_active for o in orders)
    may_dispatch = scope.holds_tier(area.level, area.code) and not has_active
    form = DispatchForm(user=user, area=area) if may_dispatch else None
    if request.method == "POST":
        form = DispatchForm(request.POST, user=user, area=area)
        if form.is_valid():
            refused = _dispatch_from_form(request, form, partial(common_issue_dispatch, issue=issue.pk))
            if refused is None:
                return redirect("staff:common-issue-detail", pk=issue.pk)
            status = refused
        else:
            status = 400
    cases = decorate_cases(
        issue.cases.visible_to(user).select_related(*CASE_LIST_RELATED),
        now=now,
    )
    context = {
        "nav": "orders",
        "issue": issue,
        "cases": cases,
        "orders": orders,
        "form": form,
        "open_states": OPEN_STATES,
        "meeting_items": meeting_items_of(user, common_issue=issue),
        "mechanisms": mechanisms_of(user, common_issue=issue),
    }
    return render(request, "dispatch/staff/common_issue_detail.html", context, status=status)
