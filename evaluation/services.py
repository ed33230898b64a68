"""Writes of evaluation: one whistle one evaluation, surveys, the annual assessment.

Each service is keyword-only, runs under ``transaction.atomic``, checks who may act
(through ``alleys.scoping`` and the case state machine's own "who" predicates) and
raises ``EvaluationError`` (or a subclass) with a message for the user, changing nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alleys.choices import CODE_LENGTH, AreaLevel, Role
from alleys.models import Area
from alleys.people import Actor, Member
from alleys.scoping import scope_for
from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from issues.choices import VERIFIED_STATES, FeedbackSolved, OrderState, Satisfaction
from issues.models import Case
from issues.workflow import is_community_of, stored
from members.selectors import service_by_department

from .choices import AssessmentEventKind, AssessmentState, Rating, RespondentKind, SurveyState, Timeliness
from .models import (
    AnnualAssessment,
    AssessmentEvent,
    AssessmentLine,
    DepartmentEvaluation,
    Survey,
    SurveyAnswer,
    SurveyInvite,
    new_invite_code,
)


class EvaluationError(ActionRefused):
    """An action that is not allowed now; the message is for the user."""


class EvaluationForbidden(EvaluationError, ActionForbidden):
    """The actor may not do this."""

    status_code = 403


class EvaluationInvalid(EvaluationError, ActionInvalid):
    """Something required is missing or wrong."""

    status_code = 400


MAX_INVITES = 500
COMMUNITY_LEN = CODE_LENGTH[AreaLevel.COMMUNITY]


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _text(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise EvaluationInvalid(message, field=field)
    return text


# --- one whistle, one evaluation -----------------------------------------------------------------------


def report_timeliness_of(order: Any) -> str:
    """The report (报到) timeliness computed from the order: on time, late, or never.

    Only the attendance the community confirmed counts (``issues.attendance``): a report filed
    in time but attended late is late; no confirmed attendance is "not reported".
    """
    if order.attended_at is None:
        return Timeliness.NOT_REPORTED
    return Timeliness.ON_TIME if order.attended_at <= order.report_due else Timeliness.LATE


def _rating(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number not in Rating.values:
        raise EvaluationInvalid(_("请选择评价等级。"), field=field)
    return number


def evaluation_record(
    *,
    order: Any,
    actor: Member,
    plan_quality: int,
    work_quality: int,
    cooperation: int,
    overall_score: int,
    opinion: str,
    report_timeliness: str | None = None,
    timeliness_override_reason: str = "",
    community: Area | None = None,
    now: dt.datetime | None = None,
) -> DepartmentEvaluation:
    """The whistling community evaluates a department's completed, verified order — once.

    Only community staff of the case's community may record it. The report timeliness is
    computed from the order; the community may correct it, with a reason.
    """
    from issues.models import DispatchOrder

    now = _now(now)
    ratings = {
        "plan_quality": _rating(plan_quality, "plan_quality"),
        "work_quality": _rating(work_quality, "work_quality"),
        "cooperation": _rating(cooperation, "cooperation"),
    }
    try:
        score = int(overall_score)
    except (TypeError, ValueError):
        score = -1
    if not 0 <= score <= 100:
        raise EvaluationInvalid(_("综合评分应在 0 到 100 之间。"), field="overall_score")
    opinion = _text(opinion, "opinion", _("请填写初步评价意见。"))
    with transaction.atomic():
        pk = order if isinstance(order, int) else order.pk
        order = (
            DispatchOrder.objects.select_for_update(of=("self",))
            .select_related("case", "case__alley", "department", "common_issue")
            .get(pk=pk)
        )
        scope = scope_for(actor) if actor is not None else None
        if scope is None:
            raise EvaluationForbidden(_("只有发起吹哨的社区可以评价。"))
        if order.case_id:
            cases = [order.case]
        else:
            cases = list(order.common_issue.cases.select_related("alley")) if order.common_issue_id else []
        mine = [c for c in cases if is_community_of(scope, c)]
        if not mine:
            raise EvaluationForbidden(_("只有发起吹哨的社区工作人员可以评价该部门。"))
        codes = sorted({c.alley.code[:COMMUNITY_LEN] for c in mine})
        if community is not None:
            if community.code not in codes:
                raise EvaluationForbidden(_("只能以本社区的名义评价。"))
            code = community.code
        elif len(codes) == 1:
            code = codes[0]
        else:
            raise EvaluationInvalid(_("请选择以哪个社区的名义评价。"), field="community")
        if order.state != OrderState.COMPLETED or order.completed_at is None:
            raise EvaluationError(_("部门尚未办结该派单，办结并核实后才能评价。"))
        verified = [
            c for c in mine if c.alley.code.startswith(code) and c.verified_at and c.state in VERIFIED_STATES
        ]
        if not verified:
            raise EvaluationError(_("案件尚未核实通过，核实后才能评价。"))
        if DepartmentEvaluation.objects.filter(order=order, community__code=code).exists():
            raise EvaluationError(_("本社区已评价过该派单（一哨一考核，每单评价一次）。"))
        auto = report_timeliness_of(order)
        final = report_timeliness or auto
        if final not in Timeliness.values:
            raise EvaluationInvalid(_("报到及时性无效。"), field="report_timeliness")
        reason = (timeliness_override_reason or "").strip()
        if final != auto and not reason:
            raise EvaluationInvalid(
                _("报到及时性与系统记录（%(auto)s）不同，请说明更正理由。")
                % {"auto": Timeliness(auto).label},
                field="timeliness_override_reason",
            )
        try:
            with transaction.atomic():
                return DepartmentEvaluation.objects.create(
                    order=order,
                    department=order.department,
                    role=order.role,
                    community=Area.objects.get(code=code),
                    case=order.case if order.case_id else None,
                    report_timeliness_auto=auto,
                    report_timeliness=final,
                    timeliness_override_reason=reason if final != auto else "",
                    overall_score=score,
                    opinion=opinion,
                    item_completed_at=order.completed_at,
                    evaluator=actor,
                    evaluated_at=now,
                    **ratings,
                )
        except IntegrityError as exc:
            raise EvaluationError(_("本社区已评价过该派单（一哨一考核，每单评价一次）。")) from exc


# --- satisfaction surveys ----------------------------------------------------------------------------------


def is_whistle_item(case: Case) -> bool:
    """A case that went up the chain: whistled (吹哨) or dispatched to departments."""
    return case.whistles.exists() or case.orders.exists()


def survey_open(
    *,
    case: Case | int,
    actor: Member,
    invites: int = 30,
    title: str = "",
    closes_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Survey:
    """The community opens a satisfaction survey on a completed whistle item, with one-time invites."""
    now = _now(now)
    if not 1 <= int(invites) <= MAX_INVITES:
        raise EvaluationInvalid(_("邀请码数量应在 1 到 %(n)d 之间。") % {"n": MAX_INVITES}, field="invites")
    if closes_at is not None and closes_at <= now:
        raise EvaluationInvalid(_("截止时间必须晚于现在。"), field="closes_at")
    with transaction.atomic():
        pk = case if isinstance(case, int) else case.pk
        case = Case.objects.select_for_update(of=("self",)).select_related("alley", "category").get(pk=pk)
        if actor is None or not is_community_of(scope_for(actor), case):
            raise EvaluationForbidden(_("只有案件所在社区的工作人员可以发起满意度调查。"))
        if case.state not in VERIFIED_STATES or case.verified_at is None:
            raise EvaluationError(_("案件办结并核实后才能发起满意度调查。"))
        if not is_whistle_item(case):
            raise EvaluationError(_("满意度调查针对吹哨上报或派单办理的事项。"))
        if Survey.objects.filter(case=case).exists():
            raise EvaluationError(_("该事项已发起过满意度调查。"))
        community = Area.objects.get(code=case.alley.code[:COMMUNITY_LEN])
        survey = Survey.objects.create(
            case=case,
            community=community,
            title=(title or "").strip()[:200]
            or _("“%(category)s”办理情况满意度调查") % {"category": case.category.name},
            opened_by=actor,
            opened_at=now,
            closes_at=closes_at,
        )
        _add_invites(survey, int(invites), now=now)
    return survey


def _add_invites(survey: Survey, count: int, *, now: dt.datetime) -> list[SurveyInvite]:
    taken = set(survey.invites.values_list("code", flat=True))
    codes: list[str] = []
    while len(codes) < count:
        code = new_invite_code()
        if code not in taken:
            taken.add(code)
            codes.append(code)
    return SurveyInvite.objects.bulk_create(
        [SurveyInvite(survey=survey, code=c, created_at=now) for c in codes]
    )


def _lock_survey_for(actor: Member, survey: Survey | int) -> Survey:
    pk = survey if isinstance(survey, int) else survey.pk
    survey = Survey.objects.select_for_update(of=("self",)).select_related("case", "case__alley").get(pk=pk)
    if actor is None or not is_community_of(scope_for(actor), survey.case):
        raise EvaluationForbidden(_("只有组织调查的社区可以管理该调查。"))
    return survey


def survey_add_invites(
    *, survey: Survey | int, actor: Member, count: int, now: dt.datetime | None = None
) -> int:
    """More one-time invite codes for an open survey."""
    now = _now(now)
    with transaction.atomic():
        survey = _lock_survey_for(actor, survey)
        if survey.state != SurveyState.OPEN:
            raise EvaluationError(_("调查已结束。"))
        if not 1 <= int(count) <= MAX_INVITES or survey.invites.count() + int(count) > 5 * MAX_INVITES:
            raise EvaluationInvalid(_("邀请码数量无效。"), field="count")
        return len(_add_invites(survey, int(count), now=now))


def survey_close(*, survey: Survey | int, actor: Member, now: dt.datetime | None = None) -> Survey:
    """The community ends the survey; no further answers."""
    now = _now(now)
    with transaction.atomic():
        survey = _lock_survey_for(actor, survey)
        if survey.state == SurveyState.CLOSED:
            raise EvaluationError(_("调查已结束。"))
        survey.state = SurveyState.CLOSED
        survey.closed_at = now
        survey.save(update_fields=["state", "closed_at"])
    return survey


def normalise_code(code: str) -> str:
    """Invite codes are read off paper: ignore case, spaces and dashes."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def survey_answer(
    *,
    token: str,
    code: str,
    respondent_kind: str,
    solved: str,
    satisfaction: str,
    comment: str = "",
    now: dt.datetime | None = None,
) -> SurveyAnswer:
    """One invited person answers, once: the invite is locked and marked used in the same transaction."""
    now = _now(now)
    if respondent_kind not in RespondentKind.values:
        raise EvaluationInvalid(_("请选择您的身份。"), field="respondent_kind")
    if solved not in FeedbackSolved.values:
        raise EvaluationInvalid(_("请选择问题是否解决。"), field="solved")
    if satisfaction not in Satisfaction.values:
        raise EvaluationInvalid(_("请选择满意程度。"), field="satisfaction")
    code = normalise_code(code)
    if not code:
        raise EvaluationInvalid(_("请输入邀请码。"), field="code")
    with transaction.atomic():
        survey = Survey.objects.filter(token=token).first()
        if survey is None:
            raise EvaluationInvalid(_("调查不存在。"))
        if not survey.accepts_answers(now):
            raise EvaluationError(_("该调查已结束，感谢您的关注。"))
        invite = SurveyInvite.objects.select_for_update().filter(survey=survey, code=code).first()
        if invite is None:
            raise EvaluationInvalid(_("邀请码不正确，请核对后重新输入。"), field="code")
        if invite.used_at is not None:
            raise EvaluationError(_("该邀请码已经使用过了，每个邀请码只能回答一次。"), field="code")
        invite.used_at = now
        invite.save(update_fields=["used_at"])
        try:
            with transaction.atomic():
                return SurveyAnswer.objects.create(
                    survey=survey,
                    invite=invite,
                    respondent_kind=respondent_kind,
                    solved=solved,
                    satisfaction=satisfaction,
                    comment=(comment or "").strip()[:1000],
                    created_at=now,
                )
        except IntegrityError as exc:
            raise EvaluationError(_("该邀请码已经使用过了，每个邀请码只能回答一次。"), field="code") from exc


# --- the annual assessment ----------------------------------------------------------------------------------

TWO = Decimal("0.01")


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(TWO, rounding=ROUND_HALF_UP)


def _is_street_staff(actor: Member, street: Area) -> bool:
    return actor is not None and scope_for(actor).holds_tier(AreaLevel.STREET, street.code)


def _is_org_over(actor: Member, street: Area) -> bool:
    if actor is None:
        return False
    return scope_for(actor).has_role_over(frozenset({Role.DISTRICT_ORG, Role.CITY_ORG}), street.code)


def _lock_assessment(assessment: AnnualAssessment | int) -> AnnualAssessment:
    pk = assessment if isinstance(assessment, int) else assessment.pk
    return AnnualAssessment.objects.select_for_update(of=("self",)).select_related("street").get(pk=pk)


def _require_state(assessment: AnnualAssessment, state: str, action: str) -> None:
    if assessment.state != state:
        if assessment.state == AssessmentState.APPROVED:
            raise EvaluationError(_("年度考核已审定冻结，不能%(action)s。") % {"action": action})
        raise EvaluationError(
            _("年度考核当前为“%(state)s”，不能%(action)s。")
            % {"state": assessment.get_state_display(), "action": action}
        )


def assessment_figures(street: Area, year: int) -> dict[int, dict[str, Any]]:
    """Per department: its communities' evaluations in the year, aggregated (the proposal's basis).

    The year is the year the department completed the item. The computed score is the
    mean overall score of the evaluations.
    """
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    end = dt.datetime(year + 1, 1, 1, tzinfo=tz)
    per: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "communities": set(), "on_time": 0, "plan": 0, "work": 0, "coop": 0, "score": 0}
    )
    for e in DepartmentEvaluation.objects.filter(
        community__code__startswith=street.code, item_completed_at__gte=start, item_completed_at__lt=end
    ).values(
        "department_id",
        "community_id",
        "report_timeliness",
        "plan_quality",
        "work_quality",
        "cooperation",
        "overall_score",
    ):
        d = per[e["department_id"]]
        d["n"] += 1
        d["communities"].add(e["community_id"])
        d["on_time"] += e["report_timeliness"] == Timeliness.ON_TIME
        d["plan"] += e["plan_quality"]
        d["work"] += e["work_quality"]
        d["coop"] += e["cooperation"]
        d["score"] += e["overall_score"]
    bonus = member_service_bonus(street, year, departments=list(per))
    return {
        dept: {
            "evaluations": d["n"],
            "communities": len(d["communities"]),
            "on_time_reports": d["on_time"],
            "avg_plan": _dec(d["plan"] / d["n"]),
            "avg_work": _dec(d["work"] / d["n"]),
            "avg_cooperation": _dec(d["coop"] / d["n"]),
            "computed_score": min(
                _dec(d["score"] / d["n"] + bonus.get(dept, 0.0)) or Decimal(0), Decimal(100)
            ),
        }
        for dept, d in per.items()
    }


def member_service_bonus(street: Area, year: int, *, departments: list[int]) -> dict[int, float]:
    """Points for the in-service Party members' service (双报到) of each evaluated department.

    ``JXT_ASSESSMENT_MEMBER_SERVICE_WEIGHT`` per confirmed service in the street's communities in
    ``year``, at most ``JXT_ASSESSMENT_MEMBER_SERVICE_CAP``; nothing (and no query) at weight 0.
    """
    weight = float(settings.JXT_ASSESSMENT_MEMBER_SERVICE_WEIGHT)
    if not weight or not departments:
        return {}
    cap = float(settings.JXT_ASSESSMENT_MEMBER_SERVICE_CAP)
    served = service_by_department(street.code, year)
    return {dept: min(weight * served.get(dept, 0), cap) for dept in departments}


def assessment_compute(
    *, street: Area, year: int, actor: Member, now: dt.datetime | None = None
) -> AnnualAssessment:
    """The street computes (or, while drafting, recomputes) its annual proposal.

    Adjustments already made stay (each is an explicit, reasoned decision in the audit
    trail); departments no longer evaluated drop out.
    """
    now = _now(now)
    if street.level != AreaLevel.STREET:
        raise EvaluationInvalid(_("年度考核建议由街道生成。"), field="street")
    if not 2000 <= int(year) <= 2100:
        raise EvaluationInvalid(_("年度无效。"), field="year")
    if not _is_street_staff(actor, street):
        raise EvaluationForbidden(_("只有本街道的工作人员可以生成年度考核建议。"))
    with transaction.atomic():
        assessment, created = AnnualAssessment.objects.get_or_create(
            street=street, year=year, defaults={"computed_at": now}
        )
        assessment = _lock_assessment(assessment)
        if not created:
            _require_state(assessment, AssessmentState.DRAFT, _("重新生成"))
        figures = assessment_figures(street, year)
        lines = {line.department_id: line for line in assessment.lines.all()}
        for dept_id, line in lines.items():
            if dept_id not in figures:
                line.delete()
        for dept_id, values in figures.items():
            line = lines.get(dept_id) or AssessmentLine(assessment=assessment, department_id=dept_id)
            for name, value in values.items():
                setattr(line, name, value)
            line.save()
        assessment.computed_at = now
        assessment.save(update_fields=["computed_at"])
        AssessmentEvent.objects.create(
            assessment=assessment,
            kind=AssessmentEventKind.COMPUTED if created else AssessmentEventKind.RECOMPUTED,
            # The record is written in the site's language, whoever's session computed it.
            reason=stored(gettext_noop("依据 %(n)d 个部门的社区评价生成。"), n=len(figures)),
            actor=actor,
            at=now,
        )
    return assessment


def assessment_adjust(
    *, line: AssessmentLine | int, actor: Member, score: Any, reason: str, now: dt.datetime | None = None
) -> AssessmentLine:
    """The street adjusts one department's score, with a reason (audit trail row)."""
    now = _now(now)
    reason = _text(reason, "reason", _("调整分数必须说明理由。"))
    try:
        new = Decimal(str(score)).quantize(TWO, rounding=ROUND_HALF_UP)
    except (ArithmeticError, ValueError) as exc:
        raise EvaluationInvalid(_("分数无效。"), field="score") from exc
    if not Decimal(0) <= new <= Decimal(100):
        raise EvaluationInvalid(_("分数应在 0 到 100 之间。"), field="score")
    with transaction.atomic():
        pk = line if isinstance(line, int) else line.pk
        line = AssessmentLine.objects.select_related("department").get(pk=pk)
        assessment = _lock_assessment(line.assessment_id)
        if not _is_street_staff(actor, assessment.street):
            raise EvaluationForbidden(_("只有本街道的工作人员可以调整考核建议。"))
        _require_state(assessment, AssessmentState.DRAFT, _("调整"))
        line = AssessmentLine.objects.select_for_update().get(pk=pk)
        old = line.final_score
        line.adjusted_score = new
        line.adjustment_reason = reason
        line.save(update_fields=["adjusted_score", "adjustment_reason"])
        AssessmentEvent.objects.create(
            assessment=assessment,
            line=line,
            kind=AssessmentEventKind.ADJUSTED,
            department_name=line.department.name,
            old_score=old,
            new_score=new,
            reason=reason,
            actor=actor,
            at=now,
        )
    return line


def assessment_submit(
    *, assessment: AnnualAssessment | int, actor: Member, note: str = "", now: dt.datetime | None = None
) -> AnnualAssessment:
    """The street sends its proposal to the organisation department for review."""
    now = _now(now)
    with transaction.atomic():
        assessment = _lock_assessment(assessment)
        if not _is_street_staff(actor, assessment.street):
            raise EvaluationForbidden(_("只有本街道的工作人员可以报送年度考核建议。"))
        _require_state(assessment, AssessmentState.DRAFT, _("报送"))
        if not assessment.lines.exists():
            raise EvaluationError(_("考核建议中没有部门，无法报送。"))
        assessment.state = AssessmentState.SUBMITTED
        assessment.submitted_at = now
        assessment.save(update_fields=["state", "submitted_at"])
        AssessmentEvent.objects.create(
            assessment=assessment,
            kind=AssessmentEventKind.SUBMITTED,
            reason=note.strip(),
            actor=actor,
            at=now,
        )
    return assessment


def assessment_return(
    *, assessment: AnnualAssessment | int, actor: Member, reason: str, now: dt.datetime | None = None
) -> AnnualAssessment:
    """The organisation department sends the proposal back to the street, with a reason."""
    now = _now(now)
    reason = _text(reason, "reason", _("退回时请说明理由。"))
    with transaction.atomic():
        assessment = _lock_assessment(assessment)
        if not _is_org_over(actor, assessment.street):
            raise EvaluationForbidden(_("只有区、市委组织部可以审核年度考核。"))
        _require_state(assessment, AssessmentState.SUBMITTED, _("退回"))
        assessment.state = AssessmentState.DRAFT
        assessment.save(update_fields=["state"])
        AssessmentEvent.objects.create(
            assessment=assessment, kind=AssessmentEventKind.RETURNED, reason=reason, actor=actor, at=now
        )
    return assessment


def assessment_approve(
    *, assessment: AnnualAssessment | int, actor: Member, note: str = "", now: dt.datetime | None = None
) -> AnnualAssessment:
    """The district (or city) organisation department approves: ranks are fixed and the result frozen."""
    now = _now(now)
    with transaction.atomic():
        assessment = _lock_assessment(assessment)
        if not _is_org_over(actor, assessment.street):
            raise EvaluationForbidden(_("只有区、市委组织部可以审定年度考核。"))
        _require_state(assessment, AssessmentState.SUBMITTED, _("审定"))
        lines = sorted(assessment.lines.all(), key=lambda line: (-line.final_score, line.department_id))
        rank, last = 0, None
        for index, line in enumerate(lines, start=1):
            if line.final_score != last:
                rank, last = index, line.final_score
            line.rank = rank
        # The ranks are written before the state flips: afterwards no row may change.
        AssessmentLine.objects.bulk_update(lines, ["rank"])
        assessment.state = AssessmentState.APPROVED
        assessment.approved_by = actor
        assessment.approved_at = now
        assessment.save(update_fields=["state", "approved_by", "approved_at"])
        AssessmentEvent.objects.create(
            assessment=assessment, kind=AssessmentEventKind.APPROVED, reason=note.strip(), actor=actor, at=now
        )
    return assessment


def streets_for_assessment(user: Actor) -> list[Area]:
    """Streets whose assessment the user may compute (street staff) or review (org departments)."""
    scope = scope_for(user)
    if scope.is_global:
        return list(Area.objects.filter(level=AreaLevel.STREET).order_by("code"))
    q = Q(pk__in=[])
    for role, code, _d in scope.assignments:
        if role == Role.STREET_STAFF and code:
            q |= Q(code=code)
        if role in (Role.DISTRICT_ORG, Role.CITY_ORG) and code:
            q |= Q(code__startswith=code)
    return list(Area.objects.filter(q, level=AreaLevel.STREET).order_by("code"))
