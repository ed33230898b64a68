"""The case state machine as a hypothesis RuleBasedStateMachine.

Rules call the real services (issues.workflow, dispatch.orders, dispatch.sweep) with
random actors, legal or not, while the clock moves forward; after every step the
invariants below must hold for both cases of the example. A refused call
(TransitionError) must change nothing at all. Any other exception is a bug.

Each example runs inside a savepoint of the test's transaction and is rolled back at
the end, so examples do not see each other's cases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from alleys.choices import CODE_LENGTH, AreaLevel
from dispatch.chain import tier_index
from issues import workflow
from issues.choices import (
    ACTIVE_ORDER_STATES,
    AWAITING_ANSWER_STATES,
    FINAL_STATES,
    OPEN_STATES,
    CaseState,
    EventKind,
    ExtensionState,
    FeedbackSolved,
    OrderRole,
    Satisfaction,
)
from issues.models import Case, CaseEvent, DispatchOrder, ExtensionRequest, Feedback, ReturnVisit, Whistle
from issues.sweep import run_sweep
from issues.workflow import TransitionError
from issues.workflow import orders as order_services
from tests.factories import ACTORS, MONDAY, World

S = CaseState
# "natural" picks the actor the rule's step normally needs (the holder, the community, the
# department, the org department), so examples get deep into the loop; the others are random.
OTHER_ACTORS = st.sampled_from([*ACTORS, "admin", "anonymous"])
ACTOR_NAMES = st.one_of(st.just("natural"), st.just("natural"), OTHER_ACTORS)
# Terminal moves (reject, merge) go to the natural actor only now and then, or walks end early.
RARELY_NATURAL = st.one_of(st.just("natural"), OTHER_ACTORS, OTHER_ACTORS, OTHER_ACTORS)
NO_CLOCK = frozenset({S.AWAITING_VERIFICATION, *AWAITING_ANSWER_STATES, *FINAL_STATES})
HOLDER_OF_TIER_X = {
    AreaLevel.ALLEY: "chief_x",
    AreaLevel.COMMUNITY: "community_worker_x",
    AreaLevel.STREET: "street_worker",
    AreaLevel.DISTRICT: "district_officer",
    AreaLevel.CITY: "city_officer",
}
# The clock stops well inside 2026: the package knows 2026, not 2027.
LAST_MOMENT = dt.datetime(2026, 11, 1, tzinfo=MONDAY.tzinfo)


class CaseMachine(RuleBasedStateMachine):
    """Random walks through the closed loop of one case (and a second one to merge into)."""

    world: World  # set by the test before running

    def __init__(self) -> None:
        super().__init__()
        self.savepoint: str | None = None
        self.cases: list[Case] = []
        self.now = MONDAY
        self.max_tier: dict[int, int] = {}
        self.timeline: dict[int, list[tuple[int, str]]] = {}

    # --- setup and teardown -------------------------------------------------------------------
    @initialize(
        category=st.sampled_from(["cat_a", "cat_a", "cat_b", "cat_c", "cat_d"]),
        urgent=st.booleans(),
    )
    def submit(self, category: str, urgent: bool) -> None:
        self.savepoint = transaction.savepoint()
        cat = getattr(self.world, category)
        for description in ("巷口路灯不亮", "同一盏路灯，邻居也反映"):
            case = workflow.case_submit(
                category=cat,
                alley=self.world.alley_x,
                description=description,
                reporter_name="张三",
                reporter_phone="13900001234",
                urgency="urgent" if urgent else "normal",
                now=self.now,
            )
            self.cases.append(case)
            self.max_tier[case.pk] = tier_index(case.tier)
            self.timeline[case.pk] = self._events(case)

    def teardown(self) -> None:
        if self.savepoint is not None:
            transaction.savepoint_rollback(self.savepoint)

    # --- helpers ------------------------------------------------------------------------------------
    @property
    def case(self) -> Case:
        return Case.objects.select_related("alley", "holder_area").get(pk=self.cases[0].pk)

    @property
    def other(self) -> Case:
        return Case.objects.get(pk=self.cases[1].pk)

    def _events(self, case: Case) -> list[tuple[int, str]]:
        return list(CaseEvent.objects.filter(case_id=case.pk).order_by("pk").values_list("pk", "kind"))

    def _snapshot(self) -> Any:
        """Every row the calls may touch, read with plain SQL (the ORM's overhead dominated the run)."""
        ids = tuple(c.pk for c in self.cases)
        marks = ", ".join(["%s"] * len(ids))
        tables = {
            "case": (Case._meta.db_table, "id"),
            "event": (CaseEvent._meta.db_table, "case_id"),
            "whistle": (Whistle._meta.db_table, "case_id"),
            "feedback": (Feedback._meta.db_table, "case_id"),
            "order": (DispatchOrder._meta.db_table, "case_id"),
        }
        rows: dict[str, Any] = {}
        with connection.cursor() as cursor:
            for key, (table, column) in tables.items():
                if key == "event":
                    cursor.execute(f"SELECT count(*) FROM {table} WHERE {column} IN ({marks})", ids)  # noqa: S608
                else:
                    cursor.execute(f"SELECT * FROM {table} WHERE {column} IN ({marks}) ORDER BY id", ids)  # noqa: S608
                rows[key] = cursor.fetchall()
            extension = ExtensionRequest._meta.db_table
            cursor.execute(
                f"SELECT e.* FROM {extension} e JOIN {tables['order'][0]} o ON o.id = e.order_id "  # noqa: S608
                f"WHERE o.case_id IN ({marks}) ORDER BY e.id",
                ids,
            )
            rows["extension"] = cursor.fetchall()
        return rows

    def _actor(self, name: str, natural: str) -> Any:
        return self.world.actor(natural if name == "natural" else name)

    def _holder_name(self) -> str:
        return HOLDER_OF_TIER_X[self.case.tier]

    def _try(self, call: Any) -> None:
        """Make the call; a refusal must leave every row exactly as it was."""
        before = self._snapshot()
        try:
            call()
        except TransitionError:
            assert self._snapshot() == before, "a refused call changed something"

    def _lead_order(self) -> DispatchOrder | None:
        return (
            DispatchOrder.objects.filter(case_id=self.cases[0].pk, role=OrderRole.LEAD)
            .order_by("-pk")
            .select_related("department")
            .first()
        )

    def _order_actor(self, name: str, order: DispatchOrder) -> Any:
        contact = {
            self.world.dept_lead.pk: "lead_contact",
            self.world.dept_coop.pk: "coop_contact",
            self.world.dept_far.pk: "far_contact",
            self.world.dept_city.pk: "city_contact",
        }[order.department_id]
        return self._actor(name, contact)

    # --- the clock ------------------------------------------------------------------------------
    @rule(hours=st.integers(min_value=1, max_value=30))
    def time_passes(self, hours: int) -> None:
        self.now = min(self.now + dt.timedelta(hours=hours), LAST_MOMENT)

    @rule(hours=st.integers(min_value=0, max_value=24 * 3))
    def sweep(self, hours: int) -> None:
        self.now = min(self.now + dt.timedelta(hours=hours), LAST_MOMENT)
        run_sweep(now=self.now, batch=7)

    @precondition(lambda self: Case.objects.filter(pk=self.cases[0].pk, state=S.AWAITING_FEEDBACK).exists())
    @rule()
    def feedback_window_passes(self) -> None:
        # A week and a half at once, so walks reach the return visits (and their closing).
        self.sweep(24 * 10)

    # --- the holder's transitions --------------------------------------------------------------------
    @rule(who=ACTOR_NAMES)
    def accept(self, who: str) -> None:
        actor = self._actor(who, self._holder_name())
        self._try(lambda: workflow.case_accept(case=self.cases[0].pk, actor=actor, now=self.now))

    @rule(who=ACTOR_NAMES)
    def start(self, who: str) -> None:
        actor = self._actor(who, self._holder_name())
        self._try(lambda: workflow.case_start(case=self.cases[0].pk, actor=actor, now=self.now))

    @rule(who=ACTOR_NAMES, reason=st.sampled_from(["本级无法解决", ""]), name_department=st.booleans())
    def whistle(self, who: str, reason: str, name_department: bool) -> None:
        actor = self._actor(who, self._holder_name())
        departments = [self.world.dept_lead] if name_department else []
        self._try(
            lambda: workflow.case_whistle(
                case=self.cases[0].pk, actor=actor, reason=reason, departments=departments, now=self.now
            )
        )

    @rule(who=ACTOR_NAMES, note=st.sampled_from(["已修复", ""]))
    def resolve(self, who: str, note: str) -> None:
        actor = self._actor(who, self._holder_name())
        self._try(lambda: workflow.case_resolve(case=self.cases[0].pk, actor=actor, note=note, now=self.now))

    @rule(who=ACTOR_NAMES, passed=st.booleans())
    def verify(self, who: str, passed: bool) -> None:
        actor = self._actor(who, "community_worker_x")
        self._try(
            lambda: workflow.case_verify(
                case=self.cases[0].pk, actor=actor, passed=passed, note="灯仍不亮", now=self.now
            )
        )

    @rule(solved=st.sampled_from(FeedbackSolved.values), by_phone=st.booleans())
    def feedback(self, solved: str, by_phone: bool) -> None:
        actor = self.world.community_worker_x if by_phone else None
        self._try(
            lambda: workflow.case_feedback(
                case=self.cases[0].pk,
                solved=solved,
                satisfaction=Satisfaction.BASIC,
                actor=actor,
                channel="return_call" if by_phone else "resident",
                now=self.now,
            )
        )

    @rule(
        who=st.sampled_from(["natural", "natural", "anonymous", "chief_x", "community_worker_y", "admin"]),
        reached=st.booleans(),
        solved=st.sampled_from(FeedbackSolved.values),
    )
    def return_visit(self, who: str, reached: bool, solved: str) -> None:
        actor = self._actor(who, "community_worker_x")
        answer = {"solved": solved, "satisfaction": Satisfaction.BASIC} if reached else {}
        self._try(
            lambda: workflow.case_return_visit(
                case=self.cases[0].pk, actor=actor, channel="phone", reached=reached, now=self.now, **answer
            )
        )

    @rule(who=RARELY_NATURAL)
    def reject(self, who: str) -> None:
        actor = self._actor(who, self._holder_name())
        self._try(
            lambda: workflow.case_reject(
                case=self.cases[0].pk, actor=actor, reason="不属于受理范围", now=self.now
            )
        )

    @rule(who=RARELY_NATURAL, which=st.sampled_from(["first_into_second", "second_into_first"]))
    def merge(self, who: str, which: str) -> None:
        source, target = self.cases if which == "first_into_second" else reversed(self.cases)
        case = Case.objects.get(pk=source.pk)
        actor = self._actor(who, HOLDER_OF_TIER_X[case.tier])
        self._try(lambda: workflow.case_merge(case=source.pk, actor=actor, into=target.pk, now=self.now))

    @rule(who=ACTOR_NAMES)
    def supervise(self, who: str) -> None:
        actor = self._actor(who, "street_worker")
        self._try(lambda: workflow.case_supervise(case=self.cases[0].pk, actor=actor, now=self.now))

    @rule(who=ACTOR_NAMES)
    def chase(self, who: str) -> None:
        actor = self._actor(who, "district_officer")
        self._try(lambda: workflow.case_chase(case=self.cases[0].pk, actor=actor, now=self.now))

    # --- orders ---------------------------------------------------------------------------------------
    @rule(who=ACTOR_NAMES, lead=st.sampled_from(["dept_lead", "dept_coop", "dept_far", "dept_city"]))
    def dispatch(self, who: str, lead: str) -> None:
        actor = self._actor(who, self._holder_name())
        department = getattr(self.world, lead)
        self._try(
            lambda: workflow.case_dispatch(
                case=self.cases[0].pk,
                actor=actor,
                lead=department,
                cooperating=[self.world.dept_coop],
                now=self.now,
            )
        )

    @rule(
        who=ACTOR_NAMES,
        step=st.sampled_from(["receive", "report", "progress", "complete", "reject"]),
        cooperating=st.booleans(),
    )
    def order_step(self, who: str, step: str, cooperating: bool) -> None:
        role = OrderRole.COOPERATING if cooperating else OrderRole.LEAD
        order = DispatchOrder.objects.filter(case_id=self.cases[0].pk, role=role).order_by("-pk").first()
        if order is None:
            return
        actor = self._order_actor(who, order)
        calls = {
            "receive": lambda: order_services.order_receive(order=order.pk, actor=actor, now=self.now),
            "report": lambda: order_services.order_report(
                order=order.pk,
                actor=actor,
                leader_name="王局长",
                contact_name="李科长",
                contact_phone="0595-22000000",
                work_plan="三日内清理",
                visit_at=self.now,
                visitors=["王局长"],
                now=self.now,
            ),
            "progress": lambda: order_services.order_progress(
                order=order.pk, actor=actor, note="已进场", now=self.now
            ),
            "complete": lambda: order_services.order_complete(
                order=order.pk, actor=actor, note="已办结", now=self.now
            ),
            "reject": lambda: order_services.order_reject(
                order=order.pk, actor=actor, reason="不属本部门职责", now=self.now
            ),
        }
        self._try(calls[step])

    @rule(who=ACTOR_NAMES, redispatch=st.booleans())
    def org_decides_rejection(self, who: str, redispatch: bool) -> None:
        order = self._lead_order()
        if order is None:
            return
        org = "city_officer" if order.dispatcher_area.level == AreaLevel.CITY else "district_officer"
        actor = self._actor(who, org)
        if redispatch:
            other = (
                self.world.dept_coop
                if order.department_id == self.world.dept_lead.pk
                else self.world.dept_lead
            )
            self._try(
                lambda: order_services.order_redispatch(
                    order=order.pk, actor=actor, department=other, now=self.now
                )
            )
        else:
            self._try(
                lambda: order_services.order_insist(
                    order=order.pk, actor=actor, note="职责明确", now=self.now
                )
            )

    @rule(who=ACTOR_NAMES, stage=st.sampled_from(["request", "community", "org"]), yes=st.booleans())
    def extension(self, who: str, stage: str, yes: bool) -> None:
        order = self._lead_order()
        if order is None:
            return
        if stage == "request":
            actor = self._order_actor(who, order)
            new_due = order.complete_due + dt.timedelta(days=30)
            self._try(
                lambda: order_services.extension_request(
                    order=order.pk, actor=actor, reason="需要协调产权单位", new_due=new_due, now=self.now
                )
            )
            return
        ext = ExtensionRequest.objects.filter(order=order).order_by("-pk").first()
        if ext is None:
            return
        if stage == "community":
            actor = self._actor(who, "community_worker_x")
            self._try(
                lambda: order_services.extension_community_decide(
                    extension=ext.pk,
                    actor=actor,
                    agree=yes,
                    note="同意" if yes else "群众等不了",
                    now=self.now,
                )
            )
        else:
            actor = self._actor(who, "district_officer")
            self._try(
                lambda: order_services.extension_org_decide(
                    extension=ext.pk, actor=actor, approve=yes, note="" if yes else "不批准", now=self.now
                )
            )

    # --- the natural next step, so walks reach deep into the loop ---------------------------------------
    def _natural_step(self, variant: int) -> None:
        case = self.case
        holder = self.world.actor(HOLDER_OF_TIER_X[case.tier])
        lead = self._lead_order()
        active_lead = lead if lead is not None and lead.state in ACTIVE_ORDER_STATES else None
        if case.state in (S.SUBMITTED, S.REOPENED):
            if case.tier in (AreaLevel.DISTRICT, AreaLevel.CITY) and variant % 2 and active_lead is None:
                department = self.world.dept_city if case.tier == AreaLevel.CITY else self.world.dept_lead
                self.dispatch_to(holder, department)
            else:
                self._try(lambda: workflow.case_accept(case=case.pk, actor=holder, now=self.now))
        elif case.state == S.ACCEPTED and active_lead is None:
            if case.tier in (AreaLevel.DISTRICT, AreaLevel.CITY) and variant % 2:
                department = self.world.dept_city if case.tier == AreaLevel.CITY else self.world.dept_lead
                self.dispatch_to(holder, department)
            else:
                self._try(lambda: workflow.case_start(case=case.pk, actor=holder, now=self.now))
        elif case.state in (S.ACCEPTED, S.IN_PROGRESS) and active_lead is not None:
            step = {"dispatched": "receive", "received": "report", "reported": "complete"}.get(
                active_lead.state, "receive"
            )
            self.order_step("natural", step, False)
        elif case.state == S.IN_PROGRESS:
            self._try(lambda: workflow.case_resolve(case=case.pk, actor=holder, note="已修复", now=self.now))
        elif case.state == S.AWAITING_VERIFICATION:
            self.verify("natural", variant % 3 != 0)
        elif case.state == S.AWAITING_FEEDBACK:
            self.feedback(FeedbackSolved.values[variant % 3], bool(variant % 2))
        elif case.state == S.AWAITING_RETURN_VISIT:
            self.return_visit("natural", variant % 3 == 0, FeedbackSolved.values[variant % 3])

    def dispatch_to(self, actor: Any, department: Any) -> None:
        self._try(
            lambda: workflow.case_dispatch(case=self.cases[0].pk, actor=actor, lead=department, now=self.now)
        )

    @rule(variant=st.integers(min_value=0, max_value=5))
    def advance(self, variant: int) -> None:
        self._natural_step(variant)

    @rule(variant=st.integers(min_value=0, max_value=5))
    def advance_again(self, variant: int) -> None:
        self._natural_step(variant)

    @rule(variant=st.integers(min_value=0, max_value=5))
    def advance_once_more(self, variant: int) -> None:
        self._natural_step(variant)

    # --- invariants -----------------------------------------------------------------------------------------
    @invariant()
    def every_case_is_consistent(self) -> None:
        ids = [c.pk for c in self.cases]
        whistles: dict[int, list[str]] = {pk: [] for pk in ids}
        for case_id, to_tier in Whistle.objects.filter(case_id__in=ids).values_list("case_id", "to_tier"):
            whistles[case_id].append(to_tier)
        timeline: dict[int, list[tuple[int, str]]] = {pk: [] for pk in ids}
        for case_id, pk, kind in (
            CaseEvent.objects.filter(case_id__in=ids).order_by("pk").values_list("case_id", "pk", "kind")
        ):
            timeline[case_id].append((pk, kind))
        rows = Case.objects.filter(pk__in=ids).values_list(
            "pk",
            "state",
            "tier",
            "merged_into_id",
            "closed_at",
            "escalation_due",
            "alley__code",
            "holder_area__code",
            "accepted_at",
            "resolved_at",
            "verified_at",
        )
        for row in rows:
            pk, state, tier, merged_into, closed_at, escalation_due, alley_code, holder_code = row[:8]
            accepted_at, resolved_at, verified_at = row[8:]
            assert state in S.values
            assert tier in AreaLevel.values
            # Tiers only go up.
            assert tier_index(tier) >= self.max_tier[pk]
            self.max_tier[pk] = tier_index(tier)
            # One whistle per (case, tier), each with its timeline event.
            assert len(whistles[pk]) == len(set(whistles[pk]))
            moved = [kind for _pk, kind in timeline[pk] if kind in (EventKind.WHISTLED, EventKind.ESCALATED)]
            assert len(whistles[pk]) == len(moved)
            if state == S.MERGED:
                assert merged_into is not None
            if state in (S.CLOSED, S.REJECTED, S.MERGED):
                assert closed_at is not None
            if state in OPEN_STATES:
                assert holder_code == alley_code[: CODE_LENGTH[tier]]
            if state in NO_CLOCK:
                assert escalation_due is None
            # The lights' timestamps: signed for, fixed, checked.
            if state in (S.ACCEPTED, S.IN_PROGRESS):
                assert accepted_at is not None
            if state in (S.AWAITING_VERIFICATION, *AWAITING_ANSWER_STATES):
                assert resolved_at is not None
            if state in AWAITING_ANSWER_STATES:
                assert verified_at is not None
            # The timeline only grows: what was there is still there, unchanged.
            previous = self.timeline[pk]
            assert timeline[pk][: len(previous)] == previous
            self.timeline[pk] = timeline[pk]

    @invariant()
    def nothing_closes_unheard(self) -> None:
        """A closed case has its round's answer, or the round's failed return visits (issue 15)."""
        from django.conf import settings as django_settings

        for case in Case.objects.filter(pk__in=[c.pk for c in self.cases], state=S.CLOSED):
            if Feedback.objects.filter(case=case, round=case.feedback_round).exists():
                continue
            failed = ReturnVisit.objects.filter(case=case, round=case.feedback_round, reached=False).count()
            assert failed >= django_settings.JXT_RETURN_VISIT_ATTEMPTS

    @invariant()
    def orders_stay_consistent(self) -> None:
        orders = list(
            DispatchOrder.objects.filter(case_id=self.cases[0].pk).values_list("pk", "role", "state")
        )
        active_leads = [
            pk for pk, role, state in orders if role == OrderRole.LEAD and state in ACTIVE_ORDER_STATES
        ]
        assert len(active_leads) <= 1
        open_extensions = list(
            ExtensionRequest.objects.filter(
                order_id__in=[pk for pk, _r, _s in orders],
                state__in=[ExtensionState.PENDING_COMMUNITY, ExtensionState.PENDING_ORG],
            ).values_list("order_id", flat=True)
        )
        assert len(open_extensions) == len(set(open_extensions))


@pytest.mark.django_db
def test_no_sequence_of_calls_reaches_an_inconsistent_case(world: World) -> None:
    CaseMachine.world = world
    run_state_machine_as_test(
        CaseMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            derandomize=False,
        ),
    )
