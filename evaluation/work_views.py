"""Staff pages of the evaluation work: 一哨一考核, satisfaction surveys and the annual assessment.

Views are thin: they read through selectors and querysets' ``visible_to``, and every write
goes through evaluation.services, which checks who may act.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alleys.choices import AreaLevel, Role
from alleys.models import Area
from alleys.people import Actor, SignedInRequest
from alleys.scoping import scope_for
from issues.choices import VERIFIED_STATES
from issues.models import Case, DispatchOrder, Whistle
from issues.workflow import is_community_of

from . import selectors as sel
from . import services
from .choices import AssessmentState, RespondentKind, SurveyState, Timeliness
from .forms import AdjustForm, EvaluationForm, InvitesForm, ReasonForm, SurveyOpenForm
from .models import AnnualAssessment, AssessmentLine, DepartmentEvaluation, Survey, SurveyAnswer

# --- 一哨一考核 ------------------------------------------------------------------------------------------


@login_required
def evaluations(request: SignedInRequest) -> HttpResponse:
    """The community's pending evaluations and the evaluations the user may see."""
    pending = sel.pending_evaluations(request.user, limit=100)
    recent = (
        DepartmentEvaluation.objects.visible_to(request.user)
        .select_related("department", "community", "case", "order")
        .order_by("-evaluated_at", "-pk")[:50]
    )
    return render(
        request,
        "evaluation/evaluations.html",
        {"nav": "dashboard", "tab": "evaluations", "pending": pending, "recent": recent},
    )


@login_required
def evaluation_new(request: SignedInRequest, order_id: int) -> HttpResponse:
    order = (
        DispatchOrder.objects.visible_to(request.user)
        .select_related("department", "case", "case__alley", "case__category", "common_issue")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise Http404
    community = None
    if code := request.GET.get("community") or request.POST.get("community"):
        community = Area.objects.filter(code=code, level=AreaLevel.COMMUNITY).first()
    auto = services.report_timeliness_of(order)
    form = EvaluationForm(request.POST or None, initial={"report_timeliness": auto})
    if request.method == "POST" and form.is_valid():
        try:
            services.evaluation_record(
                order=order, actor=request.user, community=community, **form.cleaned_data
            )
        except services.EvaluationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("评价已提交：%(dept)s") % {"dept": order.department.name})
            return redirect("dashboard:evaluations")
    return render(
        request,
        "evaluation/evaluation_form.html",
        {
            "nav": "dashboard",
            "tab": "evaluations",
            "order": order,
            "form": form,
            "auto": Timeliness(auto),
            "community": community,
        },
        status=400 if request.method == "POST" else 200,
    )


def _form_error(form: Any, exc: services.EvaluationError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


# --- satisfaction surveys -------------------------------------------------------------------------------


def _community_q(user: Actor, field: str) -> Q:
    scope = scope_for(user)
    if scope.is_global:
        return Q()
    q = Q(pk__in=[])
    for role, code, _d in scope.assignments:
        if role == Role.COMMUNITY_STAFF and code:
            q |= Q(**{f"{field}__startswith": code})
    return q


@login_required
def surveys(request: SignedInRequest) -> HttpResponse:
    """Surveys the user may see, and the community's completed whistle items without one."""
    visible = (
        Survey.objects.visible_to(request.user)
        .select_related("case", "case__category", "community")
        .annotate(n_answers=Count("answers", distinct=True), n_invites=Count("invites", distinct=True))
        .order_by("-opened_at", "-pk")[:50]
    )
    mine = _community_q(request.user, "alley__code")
    eligible = (
        Case.objects.filter(
            mine,
            state__in=sorted(VERIFIED_STATES),
            verified_at__isnull=False,
        )
        .filter(
            Exists(Whistle.objects.filter(case_id=OuterRef("pk")))
            | Exists(DispatchOrder.objects.filter(case_id=OuterRef("pk")))
        )
        .exclude(Exists(Survey.objects.filter(case_id=OuterRef("pk"))))
        .select_related("category", "alley")
        .order_by("-verified_at")[:30]
    )
    return render(
        request,
        "evaluation/surveys.html",
        {
            "nav": "dashboard",
            "tab": "surveys",
            "surveys": visible,
            "eligible": eligible,
            "open_form": SurveyOpenForm(),
        },
    )


@login_required
@require_POST
def survey_open(request: SignedInRequest, case_id: int) -> HttpResponse:
    case = Case.objects.visible_to(request.user).filter(pk=case_id).first()
    if case is None:
        raise Http404
    form = SurveyOpenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查填写的内容。"))
        return redirect("dashboard:surveys")
    closes = form.cleaned_data.get("closes_on")
    closes_at = (
        dt.datetime.combine(closes, dt.time(23, 59), tzinfo=timezone.get_current_timezone())
        if closes
        else None
    )
    try:
        survey = services.survey_open(
            case=case,
            actor=request.user,
            invites=form.cleaned_data["invites"],
            title=form.cleaned_data.get("title") or "",
            closes_at=closes_at,
        )
    except services.EvaluationError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:surveys")
    messages.success(request, _("满意度调查已发起。"))
    return redirect("dashboard:survey-detail", pk=survey.pk)


def _survey_for(request: HttpRequest, pk: int) -> Survey:
    survey = (
        Survey.objects.visible_to(request.user)
        .select_related("case", "case__alley", "community")
        .filter(pk=pk)
        .first()
    )
    if survey is None:
        raise Http404
    return survey


def survey_public_url(request: HttpRequest, survey: Survey) -> str:
    return request.build_absolute_uri(reverse("survey:answer", kwargs={"token": survey.token}))


@login_required
def survey_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """Counts (answers by satisfaction, by solved, by respondent), the link, QR and invite codes."""
    survey = _survey_for(request, pk)
    answers = SurveyAnswer.objects.filter(survey=survey)
    by_satisfaction = dict(answers.values_list("satisfaction").annotate(n=Count("pk")))
    by_solved = dict(answers.values_list("solved").annotate(n=Count("pk")))
    by_kind = dict(answers.values_list("respondent_kind").annotate(n=Count("pk")))
    total = sum(by_satisfaction.values())
    invites = list(survey.invites.order_by("pk").values("code", "used_at"))
    from issues.choices import FeedbackSolved, Satisfaction

    manages = is_community_of(scope_for(request.user), survey.case)
    return render(
        request,
        "evaluation/survey_detail.html",
        {
            "nav": "dashboard",
            "tab": "surveys",
            "survey": survey,
            "total": total,
            "satisfaction_rows": [(label, by_satisfaction.get(v, 0)) for v, label in Satisfaction.choices],
            "solved_rows": [(label, by_solved.get(v, 0)) for v, label in FeedbackSolved.choices],
            "kind_rows": [(label, by_kind.get(v, 0)) for v, label in RespondentKind.choices],
            "satisfied": by_satisfaction.get(Satisfaction.SATISFIED, 0)
            + by_satisfaction.get(Satisfaction.BASIC, 0),
            "invites": invites if manages else [],
            "used": sum(1 for i in invites if i["used_at"]),
            "invite_total": len(invites),
            "manages": manages,
            "public_url": survey_public_url(request, survey),
            "invites_form": InvitesForm(),
            "is_open": survey.state == SurveyState.OPEN,
        },
    )


@login_required
def survey_qr(request: SignedInRequest, pk: int) -> HttpResponse:
    """The survey link as an SVG QR code (for the notice board or a WeChat group)."""
    import qrcode
    import qrcode.image.svg

    survey = _survey_for(request, pk)
    url = survey_public_url(request, survey)
    if code := request.GET.get("code"):
        url = f"{url}?code={services.normalise_code(code)}"
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    out = io.BytesIO()
    image.save(out)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


@login_required
def survey_print(request: SignedInRequest, pk: int) -> HttpResponse:
    """Printable invite slips: the link, the QR and one code per slip (for the community to hand out)."""
    survey = _survey_for(request, pk)
    if not is_community_of(scope_for(request.user), survey.case):
        raise PermissionDenied
    invites = list(survey.invites.filter(used_at__isnull=True).order_by("pk").values_list("code", flat=True))
    return render(
        request,
        "evaluation/survey_print.html",
        {"survey": survey, "invites": invites, "public_url": survey_public_url(request, survey)},
    )


@login_required
@require_POST
def survey_invites(request: SignedInRequest, pk: int) -> HttpResponse:
    survey = _survey_for(request, pk)
    form = InvitesForm(request.POST)
    if form.is_valid():
        try:
            n = services.survey_add_invites(
                survey=survey, actor=request.user, count=form.cleaned_data["count"]
            )
            messages.success(request, _("已追加 %(n)d 个邀请码。") % {"n": n})
        except services.EvaluationError as exc:
            messages.error(request, exc.message)
    return redirect("dashboard:survey-detail", pk=survey.pk)


@login_required
@require_POST
def survey_close(request: SignedInRequest, pk: int) -> HttpResponse:
    survey = _survey_for(request, pk)
    try:
        services.survey_close(survey=survey, actor=request.user)
        messages.success(request, _("调查已结束。"))
    except services.EvaluationError as exc:
        messages.error(request, exc.message)
    return redirect("dashboard:survey-detail", pk=survey.pk)


# --- the annual assessment -----------------------------------------------------------------------------------


@login_required
def assessments(request: SignedInRequest) -> HttpResponse:
    """Each street the user works for or reviews, with its proposal for the year."""
    today = timezone.localdate()
    year = _year(request.GET.get("year"), today)
    streets = services.streets_for_assessment(request.user)
    if not streets:
        raise PermissionDenied(_("年度考核由街道拟定、组织部审定。"))
    existing = {
        a.street_id: a
        for a in AnnualAssessment.objects.visible_to(request.user)
        .filter(year=year, street__in=streets)
        .annotate(n_lines=Count("lines"))
    }
    scope = scope_for(request.user)
    rows = [
        {
            "street": street,
            "assessment": existing.get(street.pk),
            "can_compute": scope.holds_tier(AreaLevel.STREET, street.code),
        }
        for street in streets
    ]
    summary_area = None
    for role, code, _d in scope.assignments:
        if role in (Role.DISTRICT_ORG, Role.CITY_ORG) and code:
            summary_area = code
            break
    if scope.is_global:
        summary_area = Area.objects.filter(level=AreaLevel.CITY).values_list("code", flat=True).first()
    return render(
        request,
        "evaluation/assessments.html",
        {
            "nav": "dashboard",
            "tab": "assessments",
            "rows": rows,
            "year": year,
            "years": list(range(today.year, today.year - 4, -1)),
            "summary_area": summary_area,
        },
    )


def _year(value: str | None, today: dt.date) -> int:
    try:
        year = int(value or "")
    except ValueError:
        year = today.year
    return year if 2000 <= year <= 2100 else today.year


@login_required
@require_POST
def assessment_compute(request: SignedInRequest) -> HttpResponse:
    street = Area.objects.filter(code=request.POST.get("street", ""), level=AreaLevel.STREET).first()
    if street is None:
        raise Http404
    year = _year(request.POST.get("year"), timezone.localdate())
    try:
        assessment = services.assessment_compute(street=street, year=year, actor=request.user)
    except services.EvaluationError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('dashboard:assessments')}?year={year}")
    messages.success(request, _("已生成 %(year)d 年度考核建议。") % {"year": year})
    return redirect("dashboard:assessment", pk=assessment.pk)


def _assessment_for(request: HttpRequest, pk: int) -> AnnualAssessment:
    assessment = (
        AnnualAssessment.objects.visible_to(request.user)
        .select_related("street", "approved_by")
        .filter(pk=pk)
        .first()
    )
    if assessment is None:
        raise Http404
    return assessment


@login_required
def assessment_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    assessment = _assessment_for(request, pk)
    scope = scope_for(request.user)
    is_street = scope.holds_tier(AreaLevel.STREET, assessment.street.code)
    is_org = scope.has_role_over(frozenset({Role.DISTRICT_ORG, Role.CITY_ORG}), assessment.street.code)
    return render(
        request,
        "evaluation/assessment_detail.html",
        {
            "nav": "dashboard",
            "tab": "assessments",
            "assessment": assessment,
            "table": sel.assessment_table(assessment),
            "events": assessment.events.select_related("actor").order_by("at", "pk"),
            "can_adjust": is_street and assessment.state == AssessmentState.DRAFT,
            "can_submit": is_street and assessment.state == AssessmentState.DRAFT,
            "can_review": is_org and assessment.state == AssessmentState.SUBMITTED,
            "adjust_form": AdjustForm(),
            "reason_form": ReasonForm(),
        },
    )


@login_required
@require_POST
def assessment_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    assessment = _assessment_for(request, pk)
    reason = (request.POST.get("reason") or "").strip()
    try:
        if action == "adjust":
            line = AssessmentLine.objects.filter(
                pk=request.POST.get("line") or 0, assessment=assessment
            ).first()
            if line is None:
                raise Http404
            services.assessment_adjust(
                line=line, actor=request.user, score=request.POST.get("score"), reason=reason
            )
            messages.success(request, _("已调整“%(dept)s”的得分。") % {"dept": line.department.name})
        elif action == "recompute":
            services.assessment_compute(street=assessment.street, year=assessment.year, actor=request.user)
            messages.success(request, _("已重新生成。"))
        elif action == "submit":
            services.assessment_submit(assessment=assessment, actor=request.user, note=reason)
            messages.success(request, _("已报送组织部审核。"))
        elif action == "return":
            services.assessment_return(assessment=assessment, actor=request.user, reason=reason)
            messages.success(request, _("已退回街道修改。"))
        elif action == "approve":
            services.assessment_approve(assessment=assessment, actor=request.user, note=reason)
            messages.success(request, _("已审定，结果已冻结。"))
        else:
            raise Http404
    except services.EvaluationError as exc:
        messages.error(request, exc.message)
    return redirect("dashboard:assessment", pk=assessment.pk)


@login_required
def assessment_summary(request: SignedInRequest) -> HttpResponse:
    """The approved results of every street in the user's area, per department, ranked."""
    viewer = sel.viewer_for(request.user)
    area = sel.resolve_area(viewer, request.GET.get("area"))
    year = _year(request.GET.get("year"), timezone.localdate())
    table = sel.assessment_summary(area, year)
    return render(
        request,
        "evaluation/assessment_summary.html",
        {
            "nav": "dashboard",
            "tab": "assessments",
            "table": table,
            "area": area,
            "year": year,
            "year_str": str(year),
        },
    )
