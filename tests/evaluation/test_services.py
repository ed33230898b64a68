"""One whistle one evaluation, satisfaction surveys and the annual assessment: may and may not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alleys.choices import AreaLevel
from evaluation import services
from evaluation.choices import AssessmentEventKind, AssessmentState, Timeliness
from evaluation.models import AssessmentEvent, AssessmentLine, DepartmentEvaluation, SurveyAnswer
from evaluation.rates import rates_for_cases
from evaluation.selectors import pending_evaluations
from issues.choices import CaseState, FeedbackSolved, OrderRole, Satisfaction
from issues.models import Case, DispatchOrder
from issues.workflow import case_dispatch, case_verify
from issues.workflow.orders import order_complete, order_receive
from tests.factories import at, make_case, report_in_person

pytestmark = pytest.mark.django_db

T0 = at("2026-03-02 10:00")  # a Monday


def dispatched_case(
    world: Any, *, verify: bool = True, alley: Any = None
) -> tuple[Case, DispatchOrder, DispatchOrder]:
    """A case dispatched by the district to a lead and a cooperating department, both done; verified."""
    case = make_case(
        world, alley=alley or world.alley_x, state=CaseState.ACCEPTED, tier=AreaLevel.DISTRICT, now=T0
    )
    case_dispatch(
        case=case, actor=world.district_officer, lead=world.dept_lead, cooperating=[world.dept_coop], now=T0
    )
    lead = DispatchOrder.objects.get(case=case, role=OrderRole.LEAD)
    coop = DispatchOrder.objects.get(case=case, role=OrderRole.COOPERATING)
    community = world.community_worker_x
    report_in_person(lead, actor=world.lead_contact, community=community, now=T0 + dt.timedelta(days=1))
    order_receive(order=coop, actor=world.coop_contact, now=T0 + dt.timedelta(days=1))
    report_in_person(
        coop, actor=world.coop_contact, community=community, now=T0 + dt.timedelta(days=10)
    )  # late
    order_complete(order=coop, actor=world.coop_contact, note="配合完成", now=T0 + dt.timedelta(days=11))
    order_complete(order=lead, actor=world.lead_contact, note="已修复", now=T0 + dt.timedelta(days=12))
    if verify:
        case_verify(case=case, actor=world.community_worker_x, passed=True, now=T0 + dt.timedelta(days=13))
    case.refresh_from_db()
    lead.refresh_from_db()
    coop.refresh_from_db()
    return case, lead, coop


def evaluate(order: Any, actor: Any, **extra: Any) -> DepartmentEvaluation:
    values = {
        "plan_quality": 5,
        "work_quality": 4,
        "cooperation": 4,
        "overall_score": 88,
        "opinion": "报到及时，整改到位。",
    }
    values.update(extra)
    return services.evaluation_record(order=order, actor=actor, **values)


# --- one whistle, one evaluation ---------------------------------------------------------------------------


def test_the_whistling_community_evaluates_lead_and_cooperating_once(world: Any) -> None:
    _case, lead, coop = dispatched_case(world)
    pending = pending_evaluations(world.community_worker_x)
    assert {p.order.pk for p in pending} == {lead.pk, coop.pk}
    assert all(p.community == world.community_x for p in pending)
    e1 = evaluate(lead, world.community_worker_x)
    assert (e1.report_timeliness_auto, e1.report_timeliness, e1.role) == (
        Timeliness.ON_TIME,
        Timeliness.ON_TIME,
        "lead",
    )
    e2 = evaluate(coop, world.community_worker_x, overall_score=60)
    assert e2.report_timeliness_auto == Timeliness.LATE
    assert pending_evaluations(world.community_worker_x) == []
    with pytest.raises(services.EvaluationError, match="已评价"):
        evaluate(lead, world.community_worker_x)
    assert DepartmentEvaluation.objects.count() == 2


@pytest.mark.parametrize(
    "who",
    [
        "community_worker_y",
        "community_worker_far",
        "street_worker",
        "district_officer",
        "lead_contact",
        "chief_x",
    ],
)
def test_others_may_not_evaluate(world: Any, who: str) -> None:
    _case, lead, _coop = dispatched_case(world)
    with pytest.raises(services.EvaluationForbidden):
        evaluate(lead, getattr(world, who))
    assert pending_evaluations(getattr(world, who)) == []
    assert not DepartmentEvaluation.objects.exists()


def test_not_before_completion_and_verification(world: Any) -> None:
    _case, lead, _coop = dispatched_case(world, verify=False)
    assert pending_evaluations(world.community_worker_x) == []
    with pytest.raises(services.EvaluationError, match="核实"):
        evaluate(lead, world.community_worker_x)
    case2 = make_case(world, state=CaseState.ACCEPTED, tier=AreaLevel.DISTRICT, now=T0)
    case_dispatch(case=case2, actor=world.district_officer, lead=world.dept_lead, now=T0)
    open_order = DispatchOrder.objects.get(case=case2)
    with pytest.raises(services.EvaluationError, match="办结"):
        evaluate(open_order, world.community_worker_x)


def test_correcting_the_report_timeliness_needs_a_reason(world: Any) -> None:
    _case, _lead, coop = dispatched_case(world)
    with pytest.raises(services.EvaluationInvalid) as err:
        evaluate(coop, world.community_worker_x, report_timeliness=Timeliness.ON_TIME)
    assert err.value.field == "timeliness_override_reason"
    e = evaluate(
        coop,
        world.community_worker_x,
        report_timeliness=Timeliness.ON_TIME,
        timeliness_override_reason="社区同意推迟报到",
    )
    assert e.timeliness_overridden and e.report_timeliness_auto == Timeliness.LATE


@pytest.mark.parametrize(
    ("field", "value"), [("overall_score", 101), ("overall_score", -1), ("plan_quality", 0), ("opinion", " ")]
)
def test_invalid_evaluations_change_nothing(world: Any, field: str, value: Any) -> None:
    _case, lead, _coop = dispatched_case(world)
    with pytest.raises(services.EvaluationInvalid):
        evaluate(lead, world.community_worker_x, **{field: value})
    assert not DepartmentEvaluation.objects.exists()


def test_evaluation_pages(client: Any, world: Any) -> None:
    from django.urls import reverse

    _case, lead, _coop = dispatched_case(world)
    client.force_login(world.community_worker_x)
    page = client.get(reverse("dashboard:evaluations"))
    assert page.status_code == 200 and "鲤城区城管局" in page.content.decode()
    form_url = reverse("dashboard:evaluation-new", args=[lead.pk])
    assert client.get(form_url).status_code == 200
    bad = client.post(
        form_url,
        {
            "report_timeliness": "on_time",
            "plan_quality": 5,
            "work_quality": 5,
            "cooperation": 5,
            "overall_score": 95,
        },
    )
    assert bad.status_code == 400 and not DepartmentEvaluation.objects.exists()
    ok = client.post(
        form_url,
        {
            "report_timeliness": "on_time",
            "plan_quality": 5,
            "work_quality": 5,
            "cooperation": 5,
            "overall_score": 95,
            "opinion": "很好",
        },
    )
    assert ok.status_code == 302
    assert DepartmentEvaluation.objects.get().overall_score == 95
    client.force_login(world.community_worker_y)
    assert client.get(form_url).status_code == 404  # not their territory: the order does not exist for them


# --- satisfaction surveys ------------------------------------------------------------------------------------


def test_survey_one_answer_per_invite_and_counts(world: Any) -> None:
    case, _lead, _coop = dispatched_case(world)
    survey = services.survey_open(case=case, actor=world.community_worker_x, invites=3)
    codes = list(survey.invites.values_list("code", flat=True))
    assert len(set(codes)) == 3
    answer = {
        "respondent_kind": "party_member",
        "solved": FeedbackSolved.SOLVED,
        "satisfaction": Satisfaction.SATISFIED,
    }
    services.survey_answer(token=survey.token, code=codes[0].lower(), **answer)
    with pytest.raises(services.EvaluationError, match="已经使用过"):
        services.survey_answer(token=survey.token, code=codes[0], **answer)
    with pytest.raises(services.EvaluationInvalid, match="邀请码不正确"):
        services.survey_answer(token=survey.token, code="WRONG123", **answer)
    services.survey_answer(
        token=survey.token,
        code=codes[1],
        respondent_kind="resident",
        solved="not_solved",
        satisfaction="dissatisfied",
    )
    assert SurveyAnswer.objects.filter(survey=survey).count() == 2
    # The answers count in the rates: no reporter feedback, so the survey decides (1 of 2 solved: not a majority).
    rates = rates_for_cases(Case.objects.filter(pk=case.pk), now=T0 + dt.timedelta(days=20))
    assert (rates.counts.answers, rates.counts.satisfied, rates.counts.fb_cases, rates.counts.fb_solved) == (
        2,
        1,
        1,
        0,
    )
    services.survey_close(survey=survey, actor=world.community_worker_x)
    with pytest.raises(services.EvaluationError, match="已结束"):
        services.survey_answer(token=survey.token, code=codes[2], **answer)


def test_who_may_open_a_survey_and_on_what(world: Any) -> None:
    case, _lead, _coop = dispatched_case(world)
    for who in ("community_worker_y", "street_worker", "district_officer", "chief_x"):
        with pytest.raises(services.EvaluationForbidden):
            services.survey_open(case=case, actor=getattr(world, who))
    not_whistled = make_case(world, state=CaseState.AWAITING_FEEDBACK, now=T0)
    with pytest.raises(services.EvaluationError, match="吹哨"):
        services.survey_open(case=not_whistled, actor=world.community_worker_x)
    unverified, _l, _c = dispatched_case(world, verify=False)
    with pytest.raises(services.EvaluationError, match="核实"):
        services.survey_open(case=unverified, actor=world.community_worker_x)
    services.survey_open(case=case, actor=world.community_worker_x)
    with pytest.raises(services.EvaluationError, match="已发起"):
        services.survey_open(case=case, actor=world.community_worker_x)


def test_public_survey_page(client: Any, world: Any) -> None:
    case, _lead, _coop = dispatched_case(world)
    survey = services.survey_open(case=case, actor=world.community_worker_x, invites=2)
    code = survey.invites.first().code
    url = f"/survey/{survey.token}/"
    page = client.get(f"{url}?code={code}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "已有 0 人参与" in text and code in text
    assert "张三" not in text and "13900001234" not in text  # the reporter is never shown
    data = {"code": code, "respondent_kind": "resident", "solved": "solved", "satisfaction": "basic"}
    done = client.post(url, data)
    assert done.status_code == 200 and "已有 1 人参与" in done.content.decode()
    again = client.post(url, data)
    assert again.status_code == 400 and "已经使用过" in again.content.decode()
    assert client.get("/survey/nonexistent-token/").status_code == 404


def test_survey_staff_pages(client: Any, world: Any) -> None:
    from django.urls import reverse

    case, _lead, _coop = dispatched_case(world)
    client.force_login(world.community_worker_x)
    listing = client.get(reverse("dashboard:surveys"))
    assert case.tracking_code in listing.content.decode()
    opened = client.post(reverse("dashboard:survey-open", args=[case.pk]), {"invites": 5})
    assert opened.status_code == 302
    survey = case.survey
    detail = client.get(reverse("dashboard:survey-detail", args=[survey.pk]))
    assert detail.status_code == 200 and f"/survey/{survey.token}/" in detail.content.decode()
    qr = client.get(reverse("dashboard:survey-qr", args=[survey.pk]))
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    assert client.get(reverse("dashboard:survey-print", args=[survey.pk])).status_code == 200
    client.post(reverse("dashboard:survey-invites", args=[survey.pk]), {"count": 3})
    assert survey.invites.count() == 8
    client.force_login(world.community_worker_y)
    assert client.get(reverse("dashboard:survey-detail", args=[survey.pk])).status_code == 404


# --- the annual assessment -------------------------------------------------------------------------------------


def evaluated_year(world: Any) -> None:
    """Two evaluations of the lead department (88, 70) and one of the cooperating one (60), in 2026."""
    _c1, lead1, coop1 = dispatched_case(world)
    evaluate(lead1, world.community_worker_x, overall_score=88)
    evaluate(coop1, world.community_worker_x, overall_score=60, plan_quality=3)
    _c2, lead2, _coop2 = dispatched_case(world)
    evaluate(lead2, world.community_worker_x, overall_score=70)


def test_the_computed_record_is_in_the_sites_language(world: Any) -> None:
    """The assessment's record is shared: a street worker browsing in English writes it in Chinese too."""
    evaluated_year(world)
    with translation.override("en"):
        a = services.assessment_compute(street=world.street, year=2026, actor=world.street_worker)
    assert a.events.get().reason == "依据 2 个部门的社区评价生成。"


def test_annual_workflow_compute_adjust_approve_frozen(world: Any) -> None:
    evaluated_year(world)
    a = services.assessment_compute(street=world.street, year=2026, actor=world.street_worker)
    lines = {line.department.name: line for line in a.lines.select_related("department")}
    assert lines["鲤城区城管局"].computed_score == Decimal("79.00")
    assert (lines["鲤城区城管局"].evaluations, lines["鲤城区城管局"].communities) == (2, 1)
    assert lines["鲤城区住建局"].computed_score == Decimal("60.00")
    assert lines["鲤城区住建局"].on_time_reports == 0
    with pytest.raises(services.EvaluationInvalid):
        services.assessment_adjust(
            line=lines["鲤城区住建局"], actor=world.street_worker, score=65, reason=" "
        )
    services.assessment_adjust(
        line=lines["鲤城区住建局"], actor=world.street_worker, score=82, reason="配合部门承担了主要工作量"
    )
    event = AssessmentEvent.objects.get(kind=AssessmentEventKind.ADJUSTED)
    assert (event.old_score, event.new_score, event.department_name) == (
        Decimal("60.00"),
        Decimal("82.00"),
        "鲤城区住建局",
    )
    # Recomputing keeps the reasoned adjustment.
    services.assessment_compute(street=world.street, year=2026, actor=world.street_worker)
    assert AssessmentLine.objects.get(pk=lines["鲤城区住建局"].pk).adjusted_score == Decimal("82.00")
    services.assessment_submit(assessment=a, actor=world.street_worker)
    with pytest.raises(services.EvaluationError):
        services.assessment_adjust(
            line=lines["鲤城区城管局"], actor=world.street_worker, score=99, reason="x"
        )
    with pytest.raises(services.EvaluationForbidden):
        services.assessment_approve(assessment=a, actor=world.district_officer_far)
    with pytest.raises(services.EvaluationForbidden):
        services.assessment_approve(assessment=a, actor=world.street_worker)
    services.assessment_approve(assessment=a, actor=world.district_officer)
    a.refresh_from_db()
    assert a.state == AssessmentState.APPROVED and a.approved_by == world.district_officer
    ranked = list(a.lines.order_by("rank").values_list("department__name", "rank"))
    assert ranked == [("鲤城区住建局", 1), ("鲤城区城管局", 2)]
    # Frozen: no service, no direct save, no delete.
    for call in (
        lambda: services.assessment_adjust(
            line=lines["鲤城区城管局"], actor=world.street_worker, score=90, reason="x"
        ),
        lambda: services.assessment_compute(street=world.street, year=2026, actor=world.street_worker),
        lambda: services.assessment_submit(assessment=a, actor=world.street_worker),
        lambda: services.assessment_return(assessment=a, actor=world.district_officer, reason="x"),
    ):
        with pytest.raises(services.EvaluationError, match="冻结"):
            call()
    line = AssessmentLine.objects.get(pk=lines["鲤城区城管局"].pk)
    line.adjusted_score = Decimal(100)
    with pytest.raises(ValidationError):
        line.save()
    with pytest.raises(ValidationError):
        line.delete()
    with pytest.raises(ValidationError):
        a.delete()
    kinds = list(a.events.values_list("kind", flat=True))
    assert kinds == ["computed", "adjusted", "recomputed", "submitted", "approved"]


def test_who_may_compute_and_return(world: Any) -> None:
    evaluated_year(world)
    for who in ("community_worker_x", "street_worker_far", "district_officer", "lead_contact"):
        with pytest.raises(services.EvaluationForbidden):
            services.assessment_compute(street=world.street, year=2026, actor=getattr(world, who))
    a = services.assessment_compute(street=world.street, year=2026, actor=world.street_worker)
    services.assessment_submit(assessment=a, actor=world.street_worker)
    with pytest.raises(services.EvaluationInvalid):
        services.assessment_return(assessment=a, actor=world.district_officer, reason="")
    services.assessment_return(assessment=a, actor=world.district_officer, reason="请补充说明")
    a.refresh_from_db()
    assert a.state == AssessmentState.DRAFT
    # The city organisation department may approve too.
    services.assessment_submit(assessment=a, actor=world.street_worker)
    services.assessment_approve(assessment=a, actor=world.city_officer)
    assert services.assessment_compute.__doc__


def test_assessment_pages_admin_and_export(client: Any, world: Any) -> None:
    import io

    from django.urls import reverse
    from openpyxl import load_workbook

    evaluated_year(world)
    client.force_login(world.street_worker)
    listing = client.get(reverse("dashboard:assessments") + "?year=2026")
    assert listing.status_code == 200
    created = client.post(
        reverse("dashboard:assessment-compute"), {"street": world.street.code, "year": 2026}
    )
    assert created.status_code == 302
    a = world.street.annual_assessments.get(year=2026)
    line = a.lines.get(department=world.dept_coop)
    client.post(
        reverse("dashboard:assessment-action", args=[a.pk, "adjust"]),
        {"line": line.pk, "score": "81", "reason": "补充"},
    )
    client.post(reverse("dashboard:assessment-action", args=[a.pk, "submit"]), {})
    client.force_login(world.district_officer)
    client.post(reverse("dashboard:assessment-action", args=[a.pk, "approve"]), {})
    a.refresh_from_db()
    assert a.state == AssessmentState.APPROVED
    detail = client.get(reverse("dashboard:assessment", args=[a.pk])).content.decode()
    assert "已审定（冻结）" in detail and "补充" in detail
    export = client.get(reverse("dashboard:assessment-export", args=[a.pk]))
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "2026年度开元街道部门考核结果（已审定）"
    header = next(r for r in rows if r and r[0] == "排名")
    data = [r for r in rows[rows.index(header) + 1 :] if r and r[0]]
    assert [r[1] for r in data] == ["鲤城区住建局", "鲤城区城管局"]
    summary = client.get(reverse("dashboard:assessment-summary") + f"?area={world.district.code}&year=2026")
    assert [r["name"] for r in summary.context["table"].rows] == ["鲤城区住建局", "鲤城区城管局"]
    # The admin refuses any change or deletion of a frozen assessment.
    client.force_login(world.admin)
    change = client.get(reverse("admin:evaluation_annualassessment_change", args=[a.pk]))
    assert change.status_code == 200 and "保存" not in change.content.decode()
    assert (
        client.post(
            reverse("admin:evaluation_annualassessment_delete", args=[a.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    a.refresh_from_db()
    # A street worker elsewhere cannot see it at all.
    client.force_login(world.street_worker_far)
    assert client.get(reverse("dashboard:assessment", args=[a.pk])).status_code == 404


@pytest.mark.parametrize("items", [1, 3])
def test_pending_evaluations_costs_a_fixed_number_of_queries(
    world: Any, items: int, django_assert_max_num_queries: Any
) -> None:
    for _ in range(items):
        dispatched_case(world)
    user = world.community_worker_x
    from alleys.scoping import scope_for

    scope_for(user)  # the scope is computed once per request by the page anyway
    with django_assert_max_num_queries(3):
        pending = pending_evaluations(user)
    assert len(pending) == 2 * items  # lead and cooperating orders of each case


def test_a_common_issue_order_is_evaluated_once_by_each_community(world: Any) -> None:
    from issues.workflow.orders import common_issue_create, common_issue_dispatch

    cases = [
        make_case(world, alley=alley, state=CaseState.ACCEPTED, tier=AreaLevel.DISTRICT, now=T0)
        for alley in (world.alley_x, world.alley_y)
    ]
    issue = common_issue_create(actor=world.district_officer, title="两巷路灯老化", cases=cases, now=T0)
    (order,) = common_issue_dispatch(issue=issue, actor=world.district_officer, lead=world.dept_lead, now=T0)
    report_in_person(
        order,
        actor=world.lead_contact,
        community=world.community_worker_x,
        now=T0 + dt.timedelta(days=1),
        work_plan="统一更换",
    )
    order_complete(order=order, actor=world.lead_contact, note="已全部更换", now=T0 + dt.timedelta(days=5))
    case_verify(case=cases[0], actor=world.community_worker_x, passed=True, now=T0 + dt.timedelta(days=6))
    assert [p.community for p in pending_evaluations(world.community_worker_x)] == [world.community_x]
    assert pending_evaluations(world.community_worker_y) == []  # its case is not verified yet
    evaluate(order, world.community_worker_x)
    case_verify(case=cases[1], actor=world.community_worker_y, passed=True, now=T0 + dt.timedelta(days=6))
    assert [p.community for p in pending_evaluations(world.community_worker_y)] == [world.community_y]
    evaluate(order, world.community_worker_y, overall_score=75)
    assert (
        pending_evaluations(world.community_worker_x) == pending_evaluations(world.community_worker_y) == []
    )
    assert set(DepartmentEvaluation.objects.values_list("community__code", flat=True)) == {
        world.community_x.code,
        world.community_y.code,
    }
    with pytest.raises(services.EvaluationError, match="已评价"):
        evaluate(order, world.community_worker_x)
