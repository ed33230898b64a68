"""A year of realistic, deterministic case history for the demo city.

Every case is written through the real services (issues.workflow, dispatch.orders)
with back-dated ``now=`` values, so timelines, deadlines, whistles and orders are
exactly what the product would have produced. Most cases are solved in the alley or
the community; some are whistled to the street, some dispatched to departments (with
consultations before dispatch, reports in person that the community confirms — on time,
late, after a no-show, or never —, extensions, a rejected order, a common issue); residents
who do not answer get the community's return visits (reached, not solved and worked on again,
or closed unrated after two failed attempts); the most recent ones are still open (a
consultation waiting for answers, a visit waiting for the community), and the final sweep
escalates those whose deadlines have passed and asks for the return visits now due. In the
named logins' community, street and district the quarter ends with joint meetings (联席会议):
hard items whistled up to the city, others settled, a standing mechanism made.

Idempotent and resumable: demo cases carry tracking codes ``DM000001``…, written 200 to a
transaction, each batch with a random stream of its own; a batch whose cases exist is skipped,
and the closing steps (meetings, the return-visit showcase, evaluations, the final sweep) are one
transaction whose showcase case (``DMRV0001``) marks the history complete. So an interrupted run
(``dev.py run`` fills the history in the background, and Ctrl-C may come first) is completed by
the next, and a complete history is never written twice.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from alleys.choices import AreaLevel, Role
from alleys.models import Area, Department, RoleAssignment
from alleys.people import Member
from dispatch.calendar import get_calendar
from dispatch.models import CategoryType
from evaluation.services import evaluation_record
from issues import workflow as wf
from issues.choices import (
    VERIFIED_STATES,
    CaseSource,
    CaseState,
    Decision,
    FeedbackSolved,
    OrderState,
    PatrolKind,
    ReturnVisitChannel,
    Satisfaction,
    Urgency,
)
from issues.models import Case, DispatchOrder, JointMeeting, PatrolLog, StandingMechanism
from issues.notify import notifications_suppressed
from issues.sweep import run_sweep
from issues.workflow import mechanisms as mechanism_services
from issues.workflow import meetings as meeting_services
from issues.workflow import orders as order_services
from issues.workflow.attendance import attendance_confirm, attendance_missed
from issues.workflow.consultations import consultation_answer
from issues.workflow.mechanisms import MechanismDraft

from .city import demo_anchors

DEMO_PREFIX = "DM"
# The return-visit showcase, written in the history's last transaction: its presence means complete.
COMPLETE_MARKER = f"{DEMO_PREFIX}RV0001"
BATCH = 200
DEFAULT_CASES = 2000
SEED = 20_261_122

DETAILS = (
    "已经好几天了，影响居民出行。",
    "晚上尤其明显，老人小孩经过不安全。",
    "之前反映过一次，还没有处理。",
    "就在巷口第三户门前。",
    "靠近菜市场，早上人多的时候更严重。",
    "希望尽快安排人来看看。",
    "周边几户居民都有意见。",
    "下雨以后情况更糟。",
)
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASIC)
NOT_REACHED = ("电话无人接听。", "电话关机。", "上门时家中无人。", "电话占线，稍后再打。")
PLAN = "成立专班，分管领导牵头，一周内完成现场勘查，制定整改方案并组织实施，每周向社区通报进展。"


class Writer(Protocol):
    """Where progress text goes."""

    def write(self, text: str, /) -> Any: ...


@dataclass
class People:
    """Who acts for each unit in the demo (the first person of each role there)."""

    by_area_role: dict[tuple[str, str], Member]
    by_department: dict[int, Member]

    def at(self, code: str, role: str) -> Member:
        return self.by_area_role[(code, role)]


def _people() -> People:
    by_area_role: dict[tuple[str, str], Member] = {}
    by_department: dict[int, Member] = {}
    rows = (
        RoleAssignment.objects.filter(is_active=True)
        .select_related("user", "area")
        .order_by("area__code", "role", "user__username")
    )
    for ra in rows:
        if ra.area is not None:
            by_area_role.setdefault((ra.area.code, ra.role), ra.user)
        elif ra.department_id and ra.role == Role.DEPT_CONTACT:
            by_department.setdefault(ra.department_id, ra.user)
    return People(by_area_role, by_department)


def _photo(rng: random.Random, text: str) -> io.BytesIO:
    """A small generated 'after' photo (the fix), different per case."""
    image = Image.new(
        "RGB", (320, 240), (rng.randrange(120, 220), rng.randrange(120, 220), rng.randrange(120, 220))
    )
    ImageDraw.Draw(image).text((12, 110), text, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    out.seek(0)
    out.name = "fix.jpg"
    return out


class _History:
    """The simulation: one method per scenario, each moving a case through the services."""

    def __init__(self, rng: random.Random, people: People, end: dt.datetime) -> None:
        self.rng = rng
        self.people = people
        self.end = end
        self.calendar = get_calendar()
        self.departments = {
            (d.area.code, d.role_key): d
            for d in Department.objects.filter(is_active=True).select_related("area")
        }
        self.areas: dict[str, Area] = {}

    # --- helpers ---------------------------------------------------------------------
    def later(self, moment: dt.datetime, hours: float) -> dt.datetime:
        # Nothing happens after the demo's "now".
        return min(self.calendar.add_working_hours(moment, hours), self.end - dt.timedelta(minutes=5))

    def holder(self, case: Case) -> Member:
        code = case.holder_area.code
        role: str = {
            AreaLevel.ALLEY: Role.CHIEF,
            AreaLevel.COMMUNITY: Role.COMMUNITY_STAFF,
            AreaLevel.STREET: Role.STREET_STAFF,
            AreaLevel.DISTRICT: Role.DISTRICT_ORG,
            AreaLevel.CITY: Role.CITY_ORG,
        }[AreaLevel(case.tier)]
        return self.people.at(code, role)

    def community_staff(self, case: Case) -> Member:
        return self.people.at(case.alley.code_at(AreaLevel.COMMUNITY), Role.COMMUNITY_STAFF)

    def department_for(self, case: Case) -> Department | None:
        """The department of the type's role the case's district may dispatch to, else None.

        The district's own; else the city's, if it takes orders from a district (a public-service
        company, not a city government department: ``rules.may_receive_orders_from``). A city
        department's case would need the district's joint meeting to whistle it to the city, which
        the history's ending plays once; these stay with the street.
        """
        role = case.category.default_department_role or "cg"
        district = case.alley.code_at(AreaLevel.DISTRICT)
        if own := self.departments.get((district, role)):
            return own
        city = self.departments.get((district[:4], role))
        if city is not None and wf.may_receive_orders_from(city, self.area(district)):
            return city
        return None

    def area(self, code: str) -> Area:
        if code not in self.areas:
            self.areas[code] = Area.objects.get(code=code)
        return self.areas[code]

    def fix(self, case: Case, at: dt.datetime, *, actor: Member) -> Case:
        photos = [_photo(self.rng, case.tracking_code)] if case.category.fix_photo_required else []
        return wf.case_resolve(
            case=case, actor=actor, note="已到现场处理完毕，经复查问题已解决。", photos=photos, now=at
        )

    def verify_and_rate(self, case: Case, at: dt.datetime, *, rate: bool = True) -> Case:
        case = wf.case_verify(case=case, actor=self.community_staff(case), passed=True, now=at)
        if not rate or self.rng.random() < 0.15:
            return self.return_visits(case, at)  # no feedback within the window
        roll = self.rng.random()
        solved = FeedbackSolved.SOLVED if roll < 0.9 else FeedbackSolved.PARTLY
        satisfaction = (
            Satisfaction.SATISFIED
            if roll < 0.8
            else Satisfaction.BASIC
            if roll < 0.96
            else Satisfaction.DISSATISFIED
        )
        return wf.case_feedback(
            case=case,
            solved=solved,
            satisfaction=satisfaction,
            comment="",
            now=self.later(at, self.rng.uniform(2, 30)),
        )

    def return_visits(self, case: Case, verified: dt.datetime) -> Case:
        """The window passed unanswered (橘灯): the community calls or visits, as the sweep asked it to.

        Reached (solved, or not solved and worked on again), failed twice and closed unrated,
        or answered by the resident meanwhile; the last days' cases still wait for their visit
        (the final sweep asks for those whose window has just passed).
        """
        due = self.later(verified, 8 * settings.JXT_FEEDBACK_WINDOW_DAYS + 8)
        if self.end - due < dt.timedelta(days=1):
            return case  # the window has not passed yet, or only just: the final sweep's work
        moved = wf.case_return_visit_due(case=case, now=due)
        if moved is None:
            return case
        case = moved
        staff = self.community_staff(case)
        t = self.later(due, self.rng.uniform(1, 12))
        pending = self.end - due < dt.timedelta(days=4)
        roll = self.rng.random()
        if pending and roll < 0.5:
            return case  # not visited yet: the community's to-do list shows it
        if pending or roll < 0.3:
            # One failed attempt; the next is still to make (or, for older cases, reached below).
            case = self.visit(case, t, staff, reached=False, note=self.rng.choice(NOT_REACHED))
            if pending:
                return case
            t = self.later(t, self.rng.uniform(4, 16))
        roll = self.rng.random()
        if roll < 0.45:
            return self.visit(
                case, t, staff, reached=True, solved=FeedbackSolved.SOLVED, words="修好了，谢谢社区。"
            )
        if roll < 0.65 and not case.lead_department_id:
            case = self.visit(
                case, t, staff, reached=True, solved=FeedbackSolved.NOT_SOLVED, words="过了几天又不行了。"
            )
            # Reopened at its tier: worked on again, then the resident answers.
            holder = self.holder(case)
            t = self.later(t, 2)
            case = wf.case_accept(case=case, actor=holder, now=t)
            t = self.later(t, self.rng.uniform(4, 16))
            case = self.fix(case, t, actor=holder)
            return self.verify_and_rate(case, self.later(t, 4))
        if roll < 0.9:
            case = self.visit(case, t, staff, reached=False, note=self.rng.choice(NOT_REACHED))
            if case.state != CaseState.CLOSED:
                t = self.later(t, self.rng.uniform(4, 16))
                case = self.visit(case, t, staff, reached=False, note=self.rng.choice(NOT_REACHED))
            return case  # closed unrated after the second failed attempt
        # The resident answers on the tracking page while the visit is pending: their answer wins.
        return wf.case_feedback(
            case=case, solved=FeedbackSolved.SOLVED, satisfaction=Satisfaction.SATISFIED, now=t
        )

    def visit(
        self,
        case: Case,
        t: dt.datetime,
        staff: Member,
        *,
        reached: bool,
        solved: str = "",
        words: str = "",
        note: str = "",
    ) -> Case:
        satisfaction = ""
        if reached:
            unhappy = solved == FeedbackSolved.NOT_SOLVED
            satisfaction = Satisfaction.DISSATISFIED if unhappy else self.rng.choice(SATISFIED)
        return wf.case_return_visit(
            case=case,
            actor=staff,
            channel=ReturnVisitChannel.PHONE if self.rng.random() < 0.75 else ReturnVisitChannel.IN_PERSON,
            reached=reached,
            solved=solved,
            satisfaction=satisfaction,
            words=words,
            note=note,
            now=t,
        )

    # --- scenarios ----------------------------------------------------------------------
    def solve_here(self, case: Case, t: dt.datetime, *, reopen: bool = False) -> None:
        actor = self.holder(case)
        t = self.later(t, self.rng.uniform(0.2, 3))
        case = wf.case_accept(case=case, actor=actor, now=t)
        t = self.later(t, self.rng.uniform(0.5, 4))
        case = wf.case_start(case=case, actor=actor, now=t)
        t = self.later(t, self.rng.uniform(2, 30))
        case = self.fix(case, t, actor=actor)
        t = self.later(t, self.rng.uniform(1, 8))
        if reopen:
            case = wf.case_verify(case=case, actor=self.community_staff(case), passed=True, now=t)
            t = self.later(t, 4)
            case = wf.case_feedback(
                case=case,
                solved=FeedbackSolved.NOT_SOLVED,
                satisfaction=Satisfaction.DISSATISFIED,
                comment="过了两天又坏了。",
                now=t,
            )
            t = self.later(t, 2)
            case = wf.case_accept(case=case, actor=actor, now=t)
            t = self.later(t, self.rng.uniform(4, 16))
            case = self.fix(case, t, actor=actor)
            t = self.later(t, 4)
        self.verify_and_rate(case, t)

    def whistle_then_solve(self, case: Case, t: dt.datetime) -> None:
        actor = self.holder(case)
        t = self.later(t, self.rng.uniform(0.5, 3))
        case = wf.case_accept(case=case, actor=actor, now=t)
        t = self.later(t, self.rng.uniform(2, 12))
        case = wf.case_whistle(
            case=case, actor=actor, reason="巷内力量无法解决，需要社区协调相关单位。", now=t
        )
        self.solve_here(case, t)

    def to_departments(self, case: Case, t: dt.datetime, *, extension: bool, reject: bool) -> None:
        # Climb to the street, whistle to the district with the department named, dispatch.
        department = self.department_for(case)
        if department is None:
            self.solve_here(case, t)
            return
        if case.tier in (AreaLevel.DISTRICT, AreaLevel.CITY):
            self.dispatch(case, t, department, extension=extension, reject=reject)
            return
        case, t = self.climb_to_district(case, t, department)
        self.dispatch(case, t, department, extension=extension, reject=reject)

    def climb_to_district(
        self, case: Case, t: dt.datetime, department: Department
    ) -> tuple[Case, dt.datetime]:
        """Whistled up to the street, which reviews it and whistles to the district naming the department."""
        while case.tier != AreaLevel.STREET:
            actor = self.holder(case)
            t = self.later(t, self.rng.uniform(0.5, 4))
            case = wf.case_accept(case=case, actor=actor, now=t)
            t = self.later(t, self.rng.uniform(1, 8))
            case = wf.case_whistle(case=case, actor=actor, reason="需上级协调职能部门解决。", now=t)
        street = self.holder(case)
        t = self.later(t, self.rng.uniform(1, 6))
        case = wf.case_accept(case=case, actor=street, now=t)
        t = self.later(t, self.rng.uniform(2, 16))
        case = wf.case_whistle(
            case=case,
            actor=street,
            reason="经街道研判，属职能部门职责，启动吹哨程序。",
            departments=[department],
            urgency=Urgency.URGENT if self.rng.random() < 0.2 else None,
            now=t,
        )
        return case, t

    def consult(self, case: Case, t: dt.datetime, department: Department, org: Member) -> dt.datetime:
        """派单前征求意见: the organisation department asks the department (and a neighbour) first.

        Most answer within the working day; one in five suggests another department; some never
        answer, and the dispatch goes ahead once their deadline has passed. Returns when it may.
        """
        others = [
            d
            for d in self.departments.values()
            if d.area_id == department.area_id
            and d.pk != department.pk
            and d.pk in self.people.by_department
            and wf.may_receive_orders_from(d, case.holder_area)  # one the case's tier may dispatch to
        ]
        asked = [department, self.rng.choice(others)] if others else [department]
        rows = wf.case_consult(
            case=case, actor=org, departments=asked, question="拟派单，请就承办部门提出意见。", now=t
        )
        ready = t
        for row in rows:
            roll = self.rng.random()
            contact = self.people.by_department.get(row.department_id)
            if contact is None or roll >= 0.85:
                ready = max(ready, row.answer_due + dt.timedelta(minutes=5))  # never answered
                continue
            at = self.later(t, self.rng.uniform(1, 7))
            if roll < 0.65 or row.department_id == department.pk:
                consultation_answer(
                    consultation=row,
                    actor=contact,
                    opinion="agree",
                    text="同意承办，将按时到社区报到。",
                    now=at,
                )
            else:
                consultation_answer(
                    consultation=row,
                    actor=contact,
                    opinion="other_department",
                    suggested_department=department,
                    text="该事项主要属其职责，我单位可配合。",
                    now=at,
                )
            ready = max(ready, at)
        return ready

    def report_in_person(
        self, case: Case, order: DispatchOrder, department: Department, contact: Member, t: dt.datetime
    ) -> dt.datetime:
        """报到 in person: the department announces who comes when; the community records what happened.

        Most come as announced within the deadline; some come after it; some do not come and report
        again with a new date; a few are never confirmed (missed). Returns the last moment used.
        """
        leader = department.leader_name or "分管领导"
        person = department.contact_name or "联系人"
        community = self.community_staff(case)

        def announce(at: dt.datetime, visit: dt.datetime) -> None:
            order_services.order_report(
                order=order,
                actor=contact,
                leader_name=leader,
                contact_name=person,
                contact_phone=department.contact_phone or "0595-00000000",
                work_plan=PLAN,
                visit_at=visit,
                visitors=[leader, person],
                now=at,
            )

        roll = self.rng.random()
        order.refresh_from_db()
        if roll < 0.8:  # came as announced
            visit = self.later(t, self.rng.uniform(1, 8))
            announce(t, visit)
        elif roll < 0.86:  # announced a visit after the deadline: late
            visit = self.later(max(t, order.report_due), self.rng.uniform(2, 16))
            announce(t, visit)
        elif roll < 0.93:  # nobody came; reported again with a new date
            first = self.later(t, self.rng.uniform(2, 16))
            announce(t, first)
            noticed = self.later(first, 2)
            attendance_missed(order=order, actor=community, note="约定时间未见部门人员到场。", now=noticed)
            again = self.later(noticed, 2)
            visit = self.later(again, self.rng.uniform(4, 24))
            announce(again, visit)
        else:  # announced, but the community never confirmed a visit: missed
            visit = self.later(t, self.rng.uniform(2, 24))
            announce(t, visit)
            return visit
        attendance_confirm(
            order=order,
            actor=community,
            attended_at=visit,
            present=[leader, person],
            note="到现场查看并与社区、居民代表商议整改方案。",
            now=self.later(visit, self.rng.uniform(0.5, 8)),
        )
        return visit

    def dispatch(
        self, case: Case, t: dt.datetime, department: Department, *, extension: bool, reject: bool
    ) -> None:
        org = self.holder(case)
        t = self.later(t, self.rng.uniform(2, 16))
        if self.rng.random() < 0.3:
            t = self.consult(case, t, department, org)
        case = wf.case_dispatch(
            case=case, actor=org, lead=department, instructions="请按时报到并制定工作方案。", now=t
        )
        order = case.orders.get(department=department)
        contact = self.people.by_department[department.pk]
        if reject:
            t = self.later(t, 6)
            order_services.order_reject(
                order=order, actor=contact, reason="该事项不属于我单位职责范围。", now=t
            )
            t = self.later(t, 8)
            order = order_services.order_insist(
                order=order, actor=org, note="经核查属于该单位职责，维持派单。", now=t
            )
        t = self.later(t, self.rng.uniform(4, 48 if self.rng.random() < 0.9 else 60))
        order_services.order_receive(
            order=order, actor=contact, now=t
        ) if order.state == "dispatched" else None
        t = self.report_in_person(case, order, department, contact, t)
        t = self.later(t, self.rng.uniform(16, 120))
        order_services.order_progress(
            order=order, actor=contact, note="已完成现场勘查，正在组织施工。", now=t
        )
        if extension:
            order.refresh_from_db()
            t = self.later(t, 8)
            ext = order_services.extension_request(
                order=order,
                actor=contact,
                reason="需协调产权单位，材料采购周期较长。",
                new_due=order.complete_due + dt.timedelta(days=30),
                now=t,
            )
            t = self.later(t, 8)
            ext = order_services.extension_community_decide(
                extension=ext, actor=self.community_staff(case), agree=True, now=t
            )
            t = self.later(t, 8)
            order_services.extension_org_decide(
                extension=ext, actor=org, approve=True, note="同意延期。", now=t
            )
        t = self.later(t, self.rng.uniform(40, 300))
        photos = [_photo(self.rng, case.tracking_code)] if case.category.fix_photo_required else []
        order_services.order_complete(
            order=order, actor=contact, note="已按工作方案完成整改。", photos=photos, now=t
        )
        case.refresh_from_db()
        self.verify_and_rate(case, self.later(t, self.rng.uniform(4, 24)))

    def reject(self, case: Case, t: dt.datetime) -> None:
        wf.case_reject(
            case=case,
            actor=self.holder(case),
            reason="属于私人产权纠纷，建议通过司法途径解决，已告知相关渠道。",
            now=self.later(t, 2),
        )

    def partial_open(self, case: Case, t: dt.datetime) -> None:
        """Recent cases left in every open state for the demo's to-do lists."""
        actor = self.holder(case)
        step = self.rng.random()
        if step < 0.25:
            return  # submitted, waiting for acceptance (the sweep may escalate it)
        t = self.later(t, self.rng.uniform(0.2, 2))
        case = wf.case_accept(case=case, actor=actor, now=t)
        if step < 0.5:
            return
        t = self.later(t, 1)
        case = wf.case_start(case=case, actor=actor, now=t)
        if step < 0.8:
            return
        t = self.later(t, 4)
        self.fix(case, t, actor=actor)


def seed_history(*, stdout: Writer, cases: int | None = None, now: dt.datetime | None = None) -> int:
    """Write the demo's case history; returns the number of cases created (0 when already there).

    ``cases`` defaults to DEMO_CASES from the environment, else DEFAULT_CASES.
    """
    cases = cases if cases is not None else int(os.environ.get("DEMO_CASES", DEFAULT_CASES))
    if history_complete():
        stdout.write(f"case history: already present ({Case.objects.count()} cases), nothing to do\n")
        return 0
    alleys = list(Area.objects.filter(level=AreaLevel.ALLEY).order_by("code"))
    categories = list(
        CategoryType.objects.filter(is_active=True).select_related("category_class").order_by("code")
    )
    if not alleys or not categories:
        stdout.write("case history: no territory or categories yet, skipped\n")
        return 0
    end = now or timezone.now()
    start = end - dt.timedelta(days=365)
    rng = random.Random(SEED)
    people = _people()
    history = _History(rng, people, end)
    # Common categories dominate, as in real intake.
    # Most matters are small (小事不出巷): weight the easy classes, and common types most of all.
    class_weight = {"A": 8.0, "B": 3.0, "C": 0.8, "D": 0.25}
    weights = [class_weight.get(c.category_class.code, 1.0) * (4 if c.common else 1) for c in categories]
    created = 0
    with notifications_suppressed():
        # Patrol logs are unique per alley, day and kind: a resumed run finds the same ones.
        patrols = _seed_patrols(rng, alleys, people, end)
        moments = sorted(start + dt.timedelta(seconds=rng.uniform(0, 365 * 86400)) for _ in range(cases))
        for first in range(0, len(moments), BATCH):
            indexes = range(first + 1, min(first + BATCH, cases) + 1)
            if Case.objects.filter(tracking_code__in=[_code(i) for i in indexes]).exists():
                continue  # written by an earlier, interrupted run
            # Each batch draws from its own stream, so it comes out the same whether or not
            # the batches before it were written by this run.
            history.rng = random.Random(SEED * 1000 + first)
            # One transaction per batch: each case is still its own savepoint.
            with transaction.atomic():
                for index, moment in zip(indexes, moments[first : first + BATCH], strict=True):
                    alley = alleys[history.rng.randrange(len(alleys))]
                    category = history.rng.choices(categories, weights)[0]
                    created += _one_case(history, index, alley, category, moment, patrols)
            stdout.write(f"case history: {indexes[-1]}/{cases}\n")
        history.rng = random.Random(SEED - 1)
        with transaction.atomic():
            _common_issue(history, end)
            _open_consultation(history, end)
            meetings = _meetings(history, end)
            created += _return_visit_showcase(history, cases + 1, end)
            evaluations = _evaluations(history)
            result = run_sweep(now=end)
    stdout.write(
        f"case history: {created} cases, {sum(map(len, patrols.values()))} recent patrol/visit logs, "
        f"{meetings} joint meetings, {evaluations} department evaluations; final sweep escalated {result.escalated}, "
        f"warned {result.warned}, asked for {result.return_visit_due} return visits\n"
    )
    return created


def history_complete() -> bool:
    """Whether the whole history was written (its last transaction committed)."""
    return Case.objects.filter(tracking_code=COMPLETE_MARKER).exists()


def _code(index: int) -> str:
    return f"{DEMO_PREFIX}{index:06d}"


def _one_case(
    history: _History,
    index: int,
    alley: Area,
    category: CategoryType,
    moment: dt.datetime,
    patrols: dict[str, list[PatrolLog]],
) -> int:
    rng = history.rng
    roll = rng.random()
    patrol = None
    source = CaseSource.RESIDENT_FORM
    if roll < 0.18 and patrols.get(alley.code):
        patrol = rng.choice(patrols[alley.code])
        source = CaseSource.PATROL if patrol.kind == PatrolKind.PATROL else CaseSource.VISIT
        moment = dt.datetime.combine(patrol.date, dt.time(10, rng.randrange(60)), tzinfo=moment.tzinfo)
    elif roll < 0.24:
        source = CaseSource.HOTLINE
    actor = history.people.at(alley.code, Role.CHIEF) if patrol else None
    if source == CaseSource.HOTLINE:
        actor = history.people.at(alley.code_at(AreaLevel.COMMUNITY), Role.COMMUNITY_STAFF)
    try:
        with transaction.atomic():
            case = wf.case_submit(
                category=category,
                alley=alley,
                source=source,
                actor=actor,
                patrol=patrol,
                description=f"{alley.name}{category.name}。{rng.choice(DETAILS)}",
                reporter_name="" if patrol else f"{'张王李陈林黄吴郑'[index % 8]}先生",
                reporter_phone="" if patrol else f"139{index:08d}",
                consent=not patrol,
                now=moment,
            )
            Case.objects.filter(pk=case.pk).update(tracking_code=_code(index))
            case.tracking_code = _code(index)
            # Cases of the last twelve days are still open in every state (after a patrol's
            # date replaced the moment, so a recent patrol's finding stays recent too).
            _play(history, case, moment, recent=(history.end - moment) < dt.timedelta(days=12))
    except wf.TransitionError as exc:
        # A scenario the rules refuse is skipped, never half-written (the services are atomic).
        history.rng.random()
        print(f"demo case {index} skipped: {exc.message}")
        return 0
    return 1


def _play(history: _History, case: Case, moment: dt.datetime, recent: bool) -> None:
    rng = history.rng
    if recent:
        history.partial_open(case, moment)
        return
    scenario = rng.random()
    plays: list[tuple[float, Callable[[], None]]] = [
        (0.02, lambda: history.reject(case, moment)),
        (0.05, lambda: history.solve_here(case, moment, reopen=True)),
        (0.75, lambda: history.solve_here(case, moment)),
        (0.87, lambda: history.whistle_then_solve(case, moment)),
        (0.95, lambda: history.to_departments(case, moment, extension=False, reject=rng.random() < 0.05)),
        (1.01, lambda: history.to_departments(case, moment, extension=True, reject=False)),
    ]
    if case.category.category_class.code in ("C", "D") and scenario < 0.87:
        scenario = 0.9  # hard classes start in the alley too, but end with departments
    for threshold, play in plays:
        if scenario < threshold:
            play()
            return


def _seed_patrols(
    rng: random.Random, alleys: list[Area], people: People, end: dt.datetime
) -> dict[str, list[PatrolLog]]:
    """Daily patrols on most working days of the last eight weeks, weekly visits on Mondays."""
    calendar = get_calendar()
    days = [timezone.localdate(end) - dt.timedelta(days=i) for i in range(1, 57)]
    workdays = [d for d in days if calendar.is_workday(d)]
    mondays = [d for d in days if d.weekday() == 0]
    logs: list[PatrolLog] = []
    checklist = ["下水道", "路灯", "消防通道", "乱停乱放", "环境卫生", "独居老人"]
    for alley in alleys:
        chief = people.at(alley.code, Role.CHIEF)
        if chief is None:
            continue
        diligence = rng.uniform(0.45, 0.98)
        for day in workdays:
            if rng.random() < diligence:
                logs.append(
                    PatrolLog(
                        kind=PatrolKind.PATROL,
                        chief=chief,
                        alley=alley,
                        date=day,
                        checked=rng.sample(checklist, 3),
                        notes="巡查正常。",
                    )
                )
        for day in mondays:
            if rng.random() < diligence:
                logs.append(
                    PatrolLog(
                        kind=PatrolKind.VISIT,
                        chief=chief,
                        alley=alley,
                        date=day,
                        households_visited=rng.randrange(5, 25),
                        notes="走访独居老人和商户。",
                        expense_yuan=rng.choice([0, 0, 10, 20, 35]),
                    )
                )
    PatrolLog.objects.bulk_create(logs, batch_size=2000, ignore_conflicts=True)
    by_alley: dict[str, list[PatrolLog]] = {}
    for log in PatrolLog.objects.select_related("alley").filter(
        date__gte=timezone.localdate(end) - dt.timedelta(days=60)
    ):
        by_alley.setdefault(log.alley.code, []).append(log)
    return by_alley


def _common_issue(history: _History, end: dt.datetime) -> None:
    """Three open cases from three communities of one street grouped and dispatched as one."""
    open_cases = list(
        Case.objects.open()
        .filter(tracking_code__startswith=DEMO_PREFIX, lead_department__isnull=True)
        .select_related("alley", "category")
        .order_by("tracking_code")
    )
    by_street: dict[str, dict[str, Case]] = {}
    for case in open_cases:
        by_street.setdefault(case.alley.code_at(AreaLevel.STREET), {}).setdefault(
            case.alley.code_at(AreaLevel.COMMUNITY), case
        )
    for _street, per_community in sorted(by_street.items()):
        if len(per_community) < 3:
            continue
        cases = list(per_community.values())[:3]
        district = cases[0].alley.code_at(AreaLevel.DISTRICT)
        org = history.people.at(district, Role.DISTRICT_ORG)
        lead = history.departments.get((district, "cg"))
        if org is None or lead is None:
            return
        t = end - dt.timedelta(hours=3)
        issue = order_services.common_issue_create(
            actor=org,
            title="多个社区反映背街小巷占道经营问题",
            cases=cases,
            is_long_term=True,
            description="联合整治背街小巷占道经营，建立长效机制。",
            now=t,
        )
        cooperating = [d for key in ("sj", "ga") if (d := history.departments.get((district, key)))]
        orders = order_services.common_issue_dispatch(
            issue=issue,
            actor=org,
            lead=lead,
            cooperating=cooperating,
            instructions="牵头开展联合整治。",
            now=t,
        )
        contact = history.people.by_department.get(lead.pk)
        if contact is not None:
            # The lead announces its visit for the next working morning: the communities' to-do.
            morning = history.calendar.add_working_days(end, 1).replace(hour=9, minute=30)
            order_services.order_report(
                order=orders[0],
                actor=contact,
                leader_name=lead.leader_name or "分管领导",
                contact_name=lead.contact_name or "联系人",
                contact_phone=lead.contact_phone or "0595-00000000",
                work_plan="会同配合部门到各社区召开现场协调会，制定联合整治方案。",
                visit_at=morning,
                visitors=[lead.leader_name or "分管领导", lead.contact_name or "联系人"],
                now=t,
            )
        return


def _open_consultation(history: _History, end: dt.datetime) -> None:
    """One recent case of the demo district whistled up by its street, its departments asked an hour ago.

    Their answers are due the next working day: the department's and the organisation
    department's pages show the consultation waiting.
    """
    for case in (
        Case.objects.open()
        .filter(tracking_code__startswith=DEMO_PREFIX, state="submitted", tier=AreaLevel.ALLEY)
        .filter(alley__code__startswith="350502")
        .select_related("alley", "category", "holder_area")
        .order_by("-created_at")
    ):
        department = history.department_for(case)
        if department is None or department.area.code != "350502":
            continue
        case, t = history.climb_to_district(case, end - dt.timedelta(hours=4), department)
        org = history.holder(case)
        # The demo's department login (鲤城区城市管理局, role "cg") is among those asked.
        second = history.departments.get(("350502", "cg"))
        if second is None or second == department:
            second = next(
                (
                    d
                    for d in history.departments.values()
                    if d.area_id == department.area_id and d != department
                ),
                None,
            )
        wf.case_consult(
            case=case,
            actor=org,
            departments=[department, *([second] if second is not None else [])],
            question="经街道研判拟派单，请于一个工作日内提出意见。",
            now=max(t, end - dt.timedelta(hours=1)),
        )
        return


def _pdf(text: str) -> io.BytesIO:
    """A one-page PDF (Pillow writes it) standing for a scanned document."""
    image = Image.new("RGB", (595, 842), (255, 255, 255))
    ImageDraw.Draw(image).text((60, 80), text, fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PDF")
    out.seek(0)
    out.name = "document.pdf"
    return out


def _meetings(history: _History, end: dt.datetime) -> int:
    """联席会议 in the named logins' units, the quarter's last fortnight: the community studies its hard
    items (whistles two up, settles the rest, makes a standing mechanism), the street whistles them to
    the district naming departments, the district dispatches one and its meeting sends the other to the
    city; next quarter's community meeting is planned with its agenda proposed. Returns the meetings."""
    from demo.city import demo_anchors

    anchors = demo_anchors()
    community = Area.objects.get(code=anchors.community.code)
    street = Area.objects.get(code=anchors.street.code)
    district = Area.objects.get(code=anchors.district.code)
    alleys = list(community.children.order_by("code"))
    types = {t.code: t for t in CategoryType.objects.filter(code__in=["C01", "D01", "C18"])}
    if len(alleys) < 2 or len(types) < 3:
        return 0
    people = history.people
    chief = people.at(alleys[0].code, Role.CHIEF)
    staff = people.at(community.code, Role.COMMUNITY_STAFF)
    street_staff = people.at(street.code, Role.STREET_STAFF)
    org = people.at(district.code, Role.DISTRICT_ORG)
    dept = history.departments
    cg, zj, sj = (dept[(district.code, key)] for key in ("cg", "zj", "sj"))
    city_zj = dept[(district.code[:4], "zj")]
    t = end - dt.timedelta(days=16)
    stories = (
        (types["C01"], alleys[0], "巷口两户在屋顶加盖铁皮房，邻居担心消防和房屋安全。"),
        (types["D01"], alleys[1], "老宅外墙出现多道裂缝，住户仍在居住，下雨后更明显。"),
        (types["C18"], alleys[0], "菜市场周边早晚占道摆卖，车辆和行人通行困难，多次劝导后反复。"),
    )
    cases: list[Case] = []
    for category, alley, description in stories:
        case = wf.case_submit(
            category=category,
            alley=alley,
            description=description,
            reporter_name="居民代表",
            reporter_phone="13900009999",
            consent=True,
            now=t,
        )
        holder = people.at(alley.code, Role.CHIEF) or chief
        case = wf.case_accept(case=case, actor=holder, now=history.later(t, 1))
        case = wf.case_whistle(
            case=case,
            actor=holder,
            reason="巷内力量无法解决，需要社区协调相关单位。",
            now=history.later(t, 3),
        )
        case = wf.case_accept(case=case, actor=staff, now=history.later(t, 6))
        cases.append(case)
    built, crumbling, market = cases

    # The community's quarterly Party-building joint meeting.
    t = end - dt.timedelta(days=10)
    meeting = meeting_services.meeting_plan(actor=staff, area=community, date=timezone.localdate(t), now=t)
    meeting_services.meeting_hold(
        meeting=meeting,
        actor=staff,
        present_departments=[cg, sj],
        present_areas=[street],
        attendees="社区党委书记、社区民警、物业服务企业、居民代表",
        minutes="会议逐项研究了本季度辖区难点事项。违章搭建和危房隐患涉及执法和鉴定，本社区无法解决，提交街道；"
        "菜市场周边占道问题反复出现，需要建立长效机制。",
        now=t,
    )
    meeting_services.meeting_attach(
        meeting=meeting, actor=staff, upload=_pdf("Meeting minutes (signed)"), now=t
    )
    decided = {built.pk: [cg], crumbling.pk: [zj]}
    for item in meeting.items.select_related("case").order_by("position"):
        try:
            with transaction.atomic():
                if item.case_id in decided:
                    meeting_services.agenda_item_decide(
                        item=item,
                        actor=staff,
                        decision=Decision.WHISTLE_UP,
                        departments=decided[item.case_id],
                        note="涉及执法或鉴定，社区无法解决，提交街道审核。",
                        now=t,
                    )
                elif item.case_id == market.pk:
                    meeting_services.agenda_item_decide(
                        item=item,
                        actor=staff,
                        decision=Decision.MECHANISM,
                        note="早晚高峰由市场监管、城管联合值守，社区网格员每日巡查记录。",
                        mechanism=MechanismDraft(
                            title="菜市场周边秩序常态化管理机制",
                            owner_department=sj,
                            cooperating=(cg,),
                            category_type=types["C18"],
                            review_on=timezone.localdate(end + dt.timedelta(days=90)),
                            description="早晚高峰联合值守；网格员每日巡查；每季度联席会议通报执行情况。",
                        ),
                        now=t,
                    )
                else:
                    meeting_services.agenda_item_decide(
                        item=item,
                        actor=staff,
                        decision=Decision.SETTLE,
                        assignments="由所在街巷巷长牵头跟进，社区网格员每周回访一次，下次联席会议通报。",
                        now=t,
                    )
        except wf.TransitionError:
            continue  # an item the rules refuse is left for the next meeting
    mechanism = StandingMechanism.objects.filter(decision__meeting=meeting).first()
    if mechanism is not None:
        mechanism_services.mechanism_document_attach(
            mechanism=mechanism,
            actor=people.by_department.get(sj.pk) or org,
            upload=_pdf("Standing mechanism document"),
            document_title="关于建立菜市场周边秩序常态化管理机制的通知",
            document_number="鲤市监〔2026〕12号",
            now=history.later(t, 8),
        )

    # The street's joint meeting reviews what came up and names the departments.
    t = end - dt.timedelta(days=6)
    meeting = meeting_services.meeting_plan(
        actor=street_staff, area=street, date=timezone.localdate(t), now=t
    )
    meeting_services.meeting_hold(
        meeting=meeting,
        actor=street_staff,
        present_departments=[cg, zj],
        present_areas=[community],
        attendees="街道党工委副书记、各社区党委书记",
        minutes="街道审核社区上报的难点事项，明确责任部门，启动吹哨程序。",
        now=t,
    )
    for item in meeting.items.filter(case__in=[built, crumbling]):
        meeting_services.agenda_item_decide(
            item=item,
            actor=street_staff,
            decision=Decision.WHISTLE_UP,
            departments=decided[item.case_id or 0],
            note="经街道审核，属职能部门职责，启动吹哨程序。",
            now=t,
        )
    wf.case_dispatch(
        case=built.pk,
        actor=org,
        lead=cg,
        instructions="请一周内到社区报到，制定拆违方案。",
        now=history.later(t, 4),
    )

    # The district's meeting decides what goes to the city.
    t = end - dt.timedelta(days=3)
    meeting = meeting_services.meeting_plan(actor=org, area=district, date=timezone.localdate(t), now=t)
    meeting_services.meeting_hold(
        meeting=meeting,
        actor=org,
        present_departments=[zj, cg],
        attendees="区委组织部、区住建局、区城管局负责同志",
        minutes="危房隐患涉及产权和资金，区直部门无法解决，提请市委组织部派单。",
        now=t,
    )
    to_city = meeting.items.filter(case=crumbling).first()
    if to_city is not None:
        meeting_services.agenda_item_decide(
            item=to_city,
            actor=org,
            decision=Decision.WHISTLE_UP,
            departments=[city_zj],
            note="涉及产权和改造资金，区直部门无法解决，上报市级。",
            now=t,
        )

    # Next quarter's community meeting, its agenda proposed and still open to changes.
    month = ((end.month - 1) // 3 + 1) * 3 + 1
    next_quarter = dt.date(end.year + (month > 12), (month - 1) % 12 + 1, 15)
    meeting_services.meeting_plan(actor=staff, area=community, date=next_quarter, now=end)
    return JointMeeting.objects.count()


def _return_visit_showcase(history: _History, index: int, end: dt.datetime) -> int:
    """A case of the demo community's first alley (the ``chief`` and ``community`` logins') on its
    to-do list: fixed and verified, unanswered, one failed return visit, the second still to make."""
    alley = Area.objects.filter(code=demo_anchors().alley.code).first()
    category = CategoryType.objects.filter(is_active=True, code="A01").first()
    if alley is None or category is None:
        return 0
    t = end - dt.timedelta(days=16)
    with transaction.atomic():
        case = wf.case_submit(
            category=category,
            alley=alley,
            description=f"{alley.name}路灯不亮，晚上出门看不清路。",
            reporter_name="周女士",
            reporter_phone=f"139{index:08d}",
            consent=True,
            now=t,
        )
        Case.objects.filter(pk=case.pk).update(tracking_code=COMPLETE_MARKER)
        holder = history.holder(case)
        case = wf.case_accept(case=case, actor=holder, now=history.later(t, 1))
        case = wf.case_start(case=case, actor=holder, now=history.later(t, 2))
        case = history.fix(case, history.later(t, 6), actor=holder)
        verified = history.later(t, 10)
        case = wf.case_verify(case=case, actor=history.community_staff(case), passed=True, now=verified)
        due = history.later(verified, 8 * settings.JXT_FEEDBACK_WINDOW_DAYS + 8)
        if wf.case_return_visit_due(case=case, now=due) is None:
            return 1
        history.visit(
            case, history.later(due, 2), history.community_staff(case), reached=False, note=NOT_REACHED[0]
        )
    return 1


def _evaluations(history: _History) -> int:
    """一哨一考核: communities evaluate most departments whose orders were completed and verified."""
    rng = history.rng
    done = 0
    orders = (
        DispatchOrder.objects.filter(
            state=OrderState.COMPLETED,
            case__state__in=sorted(VERIFIED_STATES),
            case__tracking_code__startswith=DEMO_PREFIX,
        )
        .select_related("case__alley")
        .order_by("pk")
    )
    for order in orders:
        if rng.random() < 0.2:
            continue  # left pending: the community's to-do list shows it
        assert order.case is not None
        actor = history.community_staff(order.case)
        on_time = order.attended_at is not None and order.attended_at <= order.report_due
        base = 5 if on_time and rng.random() < 0.7 else 4 if rng.random() < 0.8 else 3
        with transaction.atomic():
            evaluation_record(
                order=order,
                actor=actor,
                plan_quality=base,
                work_quality=max(1, base - rng.choice([0, 0, 1])),
                cooperation=base,
                overall_score=min(100, base * 18 + rng.randrange(0, 10)),
                opinion="报到及时，方案可行，整改到位，群众认可。"
                if base >= 4
                else "报到偏慢，整改效果一般，需加强与社区沟通。",
                now=min(history.end, (order.completed_at or history.end) + dt.timedelta(days=2)),
            )
        done += 1
    return done
