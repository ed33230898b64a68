"""Staff pages for chiefs' expenses, mounted at /staff/expenses/ by ``issues/urls.py``.

The pages ask ``alleys/expenses.py`` what the user may do and call its services; they hold no rule.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ActionRefused
from core.text import spreadsheet_text

from .choices import AreaLevel, ExpensePurpose
from .expense_forms import ExpenseFilterForm, ExpenseForm, PayForm, ReturnForm
from .expenses import (
    DESTRUCTIVE,
    EXPENSE_TRANSITIONS,
    ExpenseReport,
    allowed_transitions,
    check,
    expense_approve,
    expense_file,
    expense_pay,
    expense_report,
    expense_resubmit,
    expense_return,
    files_expenses,
    sees_receipt,
)
from .models import Area, Expense
from .people import SignedInRequest

PAGE_SIZE = 50
NAV = "expenses"


def _forbidden(request: SignedInRequest, message: str) -> HttpResponse:
    return render(request, "issues/staff/forbidden.html", {"nav": NAV, "message": message}, status=403)


@login_required
def expense_list(request: SignedInRequest) -> HttpResponse:
    """The expenses the user may see, filtered by state and year; newest spending first."""
    qs = Expense.objects.visible_to(request.user).select_related("alley", "chief__staff_profile")
    filters = ExpenseFilterForm(request.GET or None)
    if filters.is_valid():
        if state := filters.cleaned_data.get("state"):
            qs = qs.filter(state=state)
        if year := filters.cleaned_data.get("year"):
            qs = qs.filter(spent_on__year=year)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": NAV,
        "filters": filters,
        "page": page,
        "expenses": list(page.object_list),
        "can_file": files_expenses(request.user),
        "can_report": _communities(request).exists(),
    }
    return render(request, "alleys/staff/expense_list.html", context)


@login_required
def expense_new(request: SignedInRequest) -> HttpResponse:
    """A chief files an expense for their alley."""
    if not files_expenses(request.user) and not request.user.is_superuser:
        return _forbidden(request, _("只有巷长可以申报垫付费用。"))
    status = 200
    if request.method == "POST":
        form = ExpenseForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                expense = expense_file(
                    user=request.user,
                    alley=data["alley"],
                    amount=data["amount"],
                    purpose=data["purpose"],
                    description=data["description"],
                    spent_on=data["spent_on"],
                    receipt=data["receipt"],
                    now=timezone.now(),
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("费用已提交，等待社区审核。"))
                return redirect("staff:expense-detail", pk=expense.pk)
        status = 400
    else:
        form = ExpenseForm(user=request.user, initial={"spent_on": timezone.localdate()})
    return render(request, "alleys/staff/expense_form.html", {"nav": NAV, "form": form}, status=status)


def _visible(request: SignedInRequest, pk: int) -> Expense:
    return get_object_or_404(
        Expense.objects.visible_to(request.user).select_related(
            "alley", "chief__staff_profile", "decided_by"
        ),
        pk=pk,
    )


@login_required
def expense_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One expense and what this user may do with it now."""
    expense = _visible(request, pk)
    allowed = allowed_transitions(expense, request.user)
    context = {
        "nav": NAV,
        "expense": expense,
        "allowed": allowed,
        "destructive": DESTRUCTIVE,
        "show_receipt": sees_receipt(request.user, expense),
        "return_form": ReturnForm(auto_id="return-%s") if "return" in allowed else None,
        "pay_form": PayForm(auto_id="pay-%s", initial={"paid_on": timezone.localdate()})
        if "pay" in allowed
        else None,
    }
    return render(request, "alleys/staff/expense_detail.html", context)


@login_required
@require_POST
def expense_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Approve, return or mark paid; a refusal (state, role, missing reason) is shown on the page."""
    expense = _visible(request, pk)
    if action not in EXPENSE_TRANSITIONS or action == "resubmit":
        raise Http404
    now = timezone.now()
    try:
        if action == "approve":
            expense_approve(expense=expense, user=request.user, now=now)
            messages.success(request, _("已审核通过。"))
        elif action == "return":
            form = ReturnForm(request.POST, auto_id="return-%s")
            if not form.is_valid():
                check(expense, request.user, action)
                messages.error(request, _("请写明退回理由并勾选确认。"))
                return redirect("staff:expense-detail", pk=pk)
            expense_return(expense=expense, user=request.user, reason=form.cleaned_data["reason"], now=now)
            messages.success(request, _("已退回巷长修改。"))
        else:
            pay = PayForm(request.POST, auto_id="pay-%s")
            if not pay.is_valid():
                check(expense, request.user, action)
                messages.error(request, _("请填写报销日期并勾选确认。"))
                return redirect("staff:expense-detail", pk=pk)
            expense_pay(expense=expense, user=request.user, paid_on=pay.cleaned_data["paid_on"], now=now)
            messages.success(request, _("已标记为实报实销。"))
    except ActionRefused as exc:
        messages.error(request, exc.message)
    return redirect("staff:expense-detail", pk=pk)


@login_required
def expense_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    """The chief corrects a returned expense and submits it again."""
    expense = _visible(request, pk)
    try:
        check(expense, request.user, "resubmit")
    except ActionRefused as exc:
        return _forbidden(request, exc.message)
    status = 200
    if request.method == "POST":
        form = ExpenseForm(request.POST, request.FILES, user=request.user, resubmit=True)
        if form.is_valid():
            data = form.cleaned_data
            try:
                expense_resubmit(
                    expense=expense,
                    user=request.user,
                    amount=data["amount"],
                    purpose=data["purpose"],
                    description=data["description"],
                    spent_on=data["spent_on"],
                    receipt=data["receipt"],
                    now=timezone.now(),
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("已重新提交，等待社区审核。"))
                return redirect("staff:expense-detail", pk=pk)
        status = 400
    else:
        form = ExpenseForm(
            user=request.user,
            resubmit=True,
            initial={
                "amount": expense.amount,
                "purpose": expense.purpose,
                "description": expense.description,
                "spent_on": expense.spent_on,
            },
        )
    context = {"nav": NAV, "form": form, "expense": expense}
    return render(request, "alleys/staff/expense_form.html", context, status=status)


@login_required
def expense_receipt(request: SignedInRequest, pk: int) -> FileResponse:
    """The receipt photo: only for the chief who filed it, the alley's community and superusers."""
    expense = _visible(request, pk)
    if not sees_receipt(request.user, expense):
        raise Http404
    try:
        handle = expense.receipt.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the yearly report --------------------------------------------------------------------------------


def _communities(request: SignedInRequest) -> Any:
    return Area.objects.visible_to(request.user).filter(level=AreaLevel.COMMUNITY).order_by("code")


def _report_table(report: ExpenseReport) -> tuple[list[str], list[list[Any]]]:
    purposes = ExpensePurpose.choices
    header = [
        _("街巷"),
        *[_("%(purpose)s（已报销）") % {"purpose": label} for _v, label in purposes],
        _("已报销合计"),
        _("待审核/待报销"),
        _("笔数"),
    ]
    rows: list[list[Any]] = [
        [row.alley.name, *[row.paid[v] for v, _l in purposes], row.paid_total, row.pending_total, row.count]
        for row in report.rows
    ]
    rows.append(
        [
            _("合计"),
            *[report.paid_by_purpose[v] for v, _l in purposes],
            report.paid_total,
            report.pending_total,
            sum(r.count for r in report.rows),
        ]
    )
    return header, rows


@login_required
def expense_report_page(request: SignedInRequest) -> HttpResponse:
    """A community's year: reimbursed totals per alley and purpose, as a page, CSV or XLSX."""
    communities = list(_communities(request))
    if not communities:
        return _forbidden(request, _("年度报表供社区、街道和组织部查看。"))
    by_code = {c.code: c for c in communities}
    community = by_code.get(request.GET.get("community", ""), communities[0])
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    if not 2000 <= year <= 2100:
        year = today.year
    report = expense_report(community=community, year=year)
    header, rows = _report_table(report)
    fmt = request.GET.get("format", "")
    title = _("%(community)s %(year)d 年巷长垫付费用报销") % {"community": community.name, "year": year}
    if fmt in ("csv", "xlsx"):
        return _export(fmt, title=title, header=header, rows=rows, stem=f"expenses-{community.code}-{year}")
    context = {
        "nav": NAV,
        "report": report,
        "header": header,
        "labelled_rows": [list(zip(header, row, strict=True)) for row in rows],
        "communities": communities,
        "community": community,
        "year": year,
        "title": title,
    }
    return render(request, "alleys/staff/expense_report.html", context)


def _cell(value: Any) -> Any:
    # Amounts are ours and stay numbers; names are anyone's and never become formulas.
    return value if isinstance(value, Decimal | int) else spreadsheet_text(str(value))


def _export(fmt: str, *, title: str, header: list[str], rows: list[list[Any]], stem: str) -> HttpResponse:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([spreadsheet_text(title)])
        writer.writerow([spreadsheet_text(h) for h in header])
        for row in rows:
            writer.writerow([_cell(v) for v in row])
        # A byte-order mark, so Excel opens the Chinese text correctly.
        response = HttpResponse(
            ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
        )
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        ws = wb.active
        ws.append([spreadsheet_text(title)])
        ws["A1"].font = Font(bold=True, size=14)
        ws.append([spreadsheet_text(h) for h in header])
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_cell(v) for v in row])
        for cells in ws.iter_rows(min_row=3, min_col=2, max_col=len(header) - 1):
            for cell in cells:
                cell.number_format = "0.00"
        out = io.BytesIO()
        wb.save(out)
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response
