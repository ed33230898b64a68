"""The staff's workbench pages beside the case page: the case list with its saved views, bulk actions and
CSV, and the POSTs of the case page's work panel (take/assign, internal notes, progress updates).

Thin like ``issues.views``: scope with ``visible_to``, bind a form, call the services of
``issues.workflow`` (each row of a bulk action in its own transaction) and report what each did.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import IntegrityError, models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from alleys.logging import mask_phone as mask_phones_in_text
from alleys.people import SignedInRequest
from alleys.scoping import scope_for
from core.text import spreadsheet_text

from . import selectors
from .deadline_state import DueStatus, case_due
from .forms import CaseFilterForm
from .models import Case, SavedView
from .privacy import handles_q, mask_name, mask_phone
from .views import PAGE_SIZE, _case_for, _form_error, _render_detail, decorate_cases
from .work import AssignForm, work_form
from .workflow import (
    TRANSITIONS,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    case_accept,
    case_assign,
    case_chase,
    case_note,
    case_progress_update,
    case_supervise,
    case_take,
)
from .workflow.assignment import person_name

# Query parameters that are not filters (a saved view and the CSV keep the rest).
NOT_FILTERS = ("page", "bulk")
# The most rows one CSV holds (the page says so when a view has more).
CSV_MAX_ROWS = 10000
# How long a bulk action's result stays to be shown (and its form token refuses a repeat).
BULK_KEEP = 3600


def filter_query(query: QueryDict) -> str:
    """The filters of a query string, without the page and the bulk result (for saved views, links, CSV)."""
    pairs = [(k, v) for k in sorted(query) if k not in NOT_FILTERS for v in query.getlist(k) if v != ""]
    return urlencode(pairs)


def filtered_cases(request: SignedInRequest, *, now: dt.datetime) -> tuple[CaseFilterForm, QuerySet[Case]]:
    """The case list's form and the cases it selects; an invalid filter is ignored, the others apply."""
    form = CaseFilterForm(request.GET or None, user=request.user, queues=selectors.CASE_QUEUES)
    data: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        data = dict(getattr(form, "cleaned_data", {}))
    qs = selectors.filter_cases(Case.objects.visible_to(request.user), data, user=request.user, now=now)
    return form, qs


# --- the case list ---------------------------------------------------------------------------------


@login_required
def case_list(request: SignedInRequest) -> HttpResponse:
    """All cases the user may see, filtered, ordered and paginated (with the total); personal data masked.

    The rows' checkboxes belong to the bulk form (``form="bulk"``), which works without JavaScript;
    the user's saved views are listed above the filters, and the CSV is the same view.
    """
    now = timezone.now()
    form, qs = filtered_cases(request, now=now)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    scope = scope_for(request.user)
    query = filter_query(request.GET)
    queue = request.GET.get("queue", "")
    context = {
        "nav": "cases",
        "form": form,
        "page": page,
        "cases": decorate_cases(page.object_list, now=now),
        "now": now,
        "can_register": bool(scope.is_global or scope.area_prefixes),
        "query": query,
        "queue_title": selectors.CASE_QUEUES[queue].title if queue in selectors.CASE_QUEUES else "",
        "saved_views": list(SavedView.objects.filter(user_id=request.user.pk).only("pk", "name", "query")),
        "export_url": reverse("staff:case-export") + (f"?{query}" if query else ""),
        "bulk_results": _bulk_results(request),
        "bulk_token": secrets.token_urlsafe(16),
        "bulk_actions": BULK_ACTIONS,
        "assign_form": AssignForm(case=None, user=request.user, prefix="bulk"),
    }
    return render(request, "issues/staff/case_list.html", context)


# --- saved views -------------------------------------------------------------------------------------


@login_required
@require_POST
def saved_view_create(request: SignedInRequest) -> HttpResponse:
    """Save the current filters under a name (the user's own; the same name replaces the old view)."""
    name = (request.POST.get("name") or "").strip()[:40]
    query = QueryDict(request.POST.get("query", ""))
    stored = filter_query(query)[:1000]
    target = reverse("staff:case-list") + (f"?{stored}" if stored else "")
    if not name:
        messages.error(request, _("请为视图起个名字。"))
        return redirect(target)
    # The same name saved twice at once: the other one stands.
    with contextlib.suppress(IntegrityError):
        SavedView.objects.update_or_create(user_id=request.user.pk, name=name, defaults={"query": stored})
    messages.success(request, _("已保存视图“%(name)s”。") % {"name": name})
    return redirect(target)


@login_required
@require_POST
def saved_view_delete(request: SignedInRequest, pk: int) -> HttpResponse:
    """Delete one of the user's saved views (another user's is 404)."""
    view = get_object_or_404(SavedView, pk=pk, user_id=request.user.pk)
    view.delete()
    messages.success(request, _("已删除视图“%(name)s”。") % {"name": view.name})
    return redirect("staff:case-list")


# --- CSV of the view ---------------------------------------------------------------------------------

CSV_COLUMNS: tuple[Any, ...] = (
    gettext_lazy("查询码"),
    gettext_lazy("事项类型"),
    gettext_lazy("分类"),
    gettext_lazy("社区"),
    gettext_lazy("街巷"),
    gettext_lazy("状态"),
    gettext_lazy("当前层级"),
    gettext_lazy("责任单位"),
    gettext_lazy("牵头部门"),
    gettext_lazy("承办人"),
    gettext_lazy("期限"),
    gettext_lazy("期限时间"),
    gettext_lazy("期限状态"),
    gettext_lazy("督办"),
    gettext_lazy("催办次数"),
    gettext_lazy("来源"),
    gettext_lazy("提交时间"),
    gettext_lazy("反映人"),
    gettext_lazy("反映人电话"),
    gettext_lazy("详细位置"),
    gettext_lazy("问题描述"),
)


@login_required
def case_export(request: SignedInRequest) -> HttpResponse:
    """The filtered list as CSV (one query): personal data in full only on the cases the user handles."""
    now = timezone.now()
    _form, qs = filtered_cases(request, now=now)
    handled = models.Case(
        models.When(handles_q(request.user), then=models.Value(True)),
        default=models.Value(False),
        output_field=models.BooleanField(),
    )
    rows = list(qs.select_related("alley__parent").annotate(handled=handled)[: CSV_MAX_ROWS + 1])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet_text(str(c)) for c in CSV_COLUMNS])
    statuses = dict(DueStatus.choices)
    for case in decorate_cases(rows[:CSV_MAX_ROWS], now=now):
        due = case_due(case, now)
        own = bool(getattr(case, "handled", False))
        cells = [
            case.tracking_code,
            case.category.name,
            case.category.category_class.code,
            case.alley.parent.name if case.alley.parent else "",
            case.alley.name,
            str(case.light_label) + " · " + str(case.get_state_display()),  # type: ignore[attr-defined]
            str(case.get_tier_display()),
            case.holder_label,  # type: ignore[attr-defined]
            case.lead_department.name if case.lead_department else "",
            person_name(case.assignee) if case.assignee else "",
            due.label if due else "",
            timezone.localtime(due.due).strftime("%Y-%m-%d %H:%M") if due else "",
            str(statuses[due.status]) if due else str(statuses[DueStatus.NONE]),
            _("是") if case.supervised else "",
            str(case.chase_count),
            str(case.get_source_display()),
            timezone.localtime(case.created_at).strftime("%Y-%m-%d %H:%M"),
            case.reporter_name if own else mask_name(case.reporter_name),
            case.reporter_phone if own else mask_phone(case.reporter_phone),
            case.address_detail if own else "",
            case.description if own else mask_phones_in_text(case.description),
        ]
        writer.writerow([spreadsheet_text(str(c)) for c in cells])
    if len(rows) > CSV_MAX_ROWS:
        writer.writerow(
            [spreadsheet_text(_("（仅导出前 %(n)d 条，请缩小筛选范围。）") % {"n": CSV_MAX_ROWS})]
        )
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="cases-{stamp}.csv"'
    return response


# --- bulk actions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowResult:
    """What a bulk action did to one case."""

    pk: int
    code: str
    done: bool
    message: str


def _bulk_accept(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_accept(case=pk, actor=user, note=data["note"])


def _bulk_chase(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_chase(case=pk, actor=user, note=data["note"])


def _bulk_supervise(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_supervise(case=pk, actor=user, note=data["note"])


def _bulk_assign(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_assign(case=pk, actor=user, assignee=data["assignee"])


# Keyed by the transition table's names; each row runs its service in its own transaction.
BULK_ACTIONS: dict[str, Callable[[int, Any, dict[str, Any]], object]] = {
    "accept": _bulk_accept,
    "chase": _bulk_chase,
    "supervise": _bulk_supervise,
    "assign": _bulk_assign,
}
BULK_MAX = 200


@login_required
@require_POST
def case_bulk(request: SignedInRequest) -> HttpResponse:
    """Run one action on the selected cases, row by row; come back to the list with a result per row.

    Every row is the service's own transaction: one refusal (another state, not the user's case)
    leaves the others done, and the page names each refusal with the service's reason. The form's
    one-time token makes a repeated POST (a double click, a reload) show the first result instead.
    """
    back = reverse("staff:case-list")
    query = filter_query(QueryDict(request.POST.get("query", "")))
    action = request.POST.get("action", "")
    token = request.POST.get("token", "")[:40]
    ids = sorted({int(v) for v in request.POST.getlist("case") if v.isdigit()})[:BULK_MAX]
    target = back + "?" + "&".join(p for p in (query, f"bulk={token}" if token else "") if p)
    if action not in BULK_ACTIONS or not token:
        messages.error(request, _("请选择要执行的批量操作。"))
        return redirect(back + (f"?{query}" if query else ""))
    if not ids:
        messages.error(request, _("请先勾选案件。"))
        return redirect(back + (f"?{query}" if query else ""))
    if not cache.add(_bulk_key(request, token), True, BULK_KEEP):
        return redirect(target)  # the same form sent again: its first result stands
    data: dict[str, Any] = {"note": (request.POST.get("note") or "").strip()[:500], "assignee": None}
    if action == "assign":
        form = AssignForm(request.POST, case=None, user=request.user, prefix="bulk")
        if not form.is_valid():
            cache.delete(_bulk_key(request, token))
            messages.error(request, _("请选择承办人。"))
            return redirect(back + (f"?{query}" if query else ""))
        data["assignee"] = form.cleaned_data["assignee"]
    visible = dict(
        Case.objects.visible_to(request.user).filter(pk__in=ids).values_list("pk", "tracking_code")
    )
    results: list[RowResult] = []
    run = BULK_ACTIONS[action]
    for pk in ids:
        code = visible.get(pk)
        if code is None:
            continue  # not the user's to see: as if it did not exist
        try:
            run(pk, request.user, data)
        except TransitionError as exc:
            results.append(RowResult(pk, code, False, exc.message))
        else:
            results.append(RowResult(pk, code, True, _("已完成")))
    label = str(TRANSITIONS[action].label)
    cache.set(
        _bulk_result_key(request, token),
        {"action": label, "rows": [r.__dict__ for r in results]},
        BULK_KEEP,
    )
    done = sum(r.done for r in results)
    refused = len(results) - done
    if refused:
        messages.warning(
            request,
            _("批量%(action)s：%(done)d 件已完成，%(refused)d 件未执行（原因见下表）。")
            % {"action": label, "done": done, "refused": refused},
        )
    else:
        messages.success(request, _("批量%(action)s：%(done)d 件已完成。") % {"action": label, "done": done})
    return redirect(target)


def _bulk_key(request: HttpRequest, token: str) -> str:
    return f"jxt:bulk:{request.user.pk}:{token}"


def _bulk_result_key(request: HttpRequest, token: str) -> str:
    return f"jxt:bulk-result:{request.user.pk}:{token}"


def _bulk_results(request: HttpRequest) -> dict[str, Any] | None:
    token = request.GET.get("bulk", "")[:40]
    if not token:
        return None
    found = cache.get(_bulk_result_key(request, token))
    return found if isinstance(found, dict) else None


# --- the case page's work panel ------------------------------------------------------------------------

Runner = Callable[[int, Any, dict[str, Any]], object]


def _take(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_take(case=pk, actor=user)


def _assign(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_assign(case=pk, actor=user, assignee=data.get("assignee"))


def _note(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_note(case=pk, actor=user, text=data["text"])


def _progress(pk: int, user: Any, data: dict[str, Any]) -> object:
    return case_progress_update(case=pk, actor=user, note=data["note"])


# Keyed by the transition table's names (face WORK); the forms are issues.work.WORK_FORMS.
WORK_ACTIONS: dict[str, Runner] = {"take": _take, "assign": _assign, "note": _note, "progress": _progress}
_DONE = {
    "take": gettext_lazy("已由您处理。"),
    "assign": gettext_lazy("已指定承办人。"),
    "note": gettext_lazy("已添加内部备注。"),
    "progress": gettext_lazy("已通报办理进展，群众可在查询页面看到。"),
}


@login_required
@require_POST
def case_work(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """One work action on the case page; a refusal keeps what was typed, with the service's reason."""
    if action not in WORK_ACTIONS:
        raise Http404
    case = _case_for(request, pk)
    form = work_form(action, case=case, user=request.user, data=request.POST)
    anchor = reverse("staff:case-detail", kwargs={"pk": pk}) + "#work"
    if form is not None and not form.is_valid():
        return _render_detail(request, case, work_bound=(action, form), status=400)
    data = form.cleaned_data if form is not None else {}
    try:
        WORK_ACTIONS[action](case.pk, request.user, data)
    except (TransitionInvalid, TransitionForbidden) as exc:
        if form is None:
            messages.error(request, exc.message)
            return redirect(anchor)
        _form_error(form, exc)
        status = 403 if isinstance(exc, TransitionForbidden) else 400
        return _render_detail(request, case, work_bound=(action, form), status=status)
    except TransitionError as exc:
        messages.warning(request, exc.message)
        return redirect(anchor)
    messages.success(request, str(_DONE[action]))
    return redirect(anchor)
