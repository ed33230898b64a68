"""The ONE definition of every rate the product shows (documented in docs/rates.md).

A rate is computed in two steps, and both live here:

1. ``classify_case`` / ``classify_order`` turn one case (or one department order) into
   additive *counters* (0/1 flags, hours) at a moment ``now``;
2. ``case_rates`` / ``order_rates`` turn summed counters into rates.

The rollups (evaluation.rollups) store the summed counters per area and month/week;
``rates_for_cases`` / ``rates_for_orders`` compute the same counters straight from a
queryset. Both paths call the same two functions, so a dashboard figure and a
hand-computed fixture cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.utils import timezone

from alleys.choices import AreaLevel
from dispatch.calendar import HOURS_PER_DAY, WORK_END, WORK_START, BusinessCalendar
from issues.attendance import report_outcome
from issues.choices import (
    AWAITING_ACCEPT_STATES,
    OPEN_STATES,
    PROACTIVE_SOURCES,
    VERIFIED_STATES,
    CaseState,
    EventKind,
    FeedbackSolved,
    ReportOutcome,
    Satisfaction,
)

# States in which a case counts as resolved (its fix reported; verification or feedback may follow).
RESOLVED_STATES: frozenset[str] = VERIFIED_STATES | {CaseState.AWAITING_VERIFICATION}
# Cases that are not part of any rate: duplicates (counted in the case they were merged into)
# and matters rejected as not ours (counted on their own).
EXCLUDED_STATES: frozenset[str] = frozenset({CaseState.MERGED, CaseState.REJECTED})
SATISFIED_ANSWERS: frozenset[str] = frozenset({Satisfaction.SATISFIED, Satisfaction.BASIC})
TIERS: tuple[str, ...] = (
    AreaLevel.ALLEY,
    AreaLevel.COMMUNITY,
    AreaLevel.STREET,
    AreaLevel.DISTRICT,
    AreaLevel.CITY,
)

CASE_COUNTERS: tuple[str, ...] = (
    "submitted",
    "cases",
    "rejected",
    "open",
    "proactive",
    "resp_on_time",
    "resp_late",
    "resolved",
    "on_time",
    "late",
    "hours_n",
    "hours_sum",
    "fb_cases",
    "fb_solved",
    "answers",
    "satisfied",
    "ever_resolved",
    "reopened",
    "tier_alley",
    "tier_community",
    "tier_street",
    "tier_district",
    "tier_city",
)
ORDER_COUNTERS: tuple[str, ...] = (
    "orders",
    "active",
    "report_on_time",
    "report_late",
    "report_missed",
    "report_no_show",
    "completed",
    "complete_on_time",
    "complete_late",
    "rejected",
    "extended",
    "fb_cases",
    "fb_solved",
    "answers",
    "satisfied",
    "eval_n",
    "eval_score_sum",
)


# --- working hours, fast ------------------------------------------------------------------------


class WorkClock:
    """Working hours between two moments, equal to ``BusinessCalendar.working_hours_between``.

    The calendar walks day by day; a rollup of a million cases cannot. This clock keeps,
    per year, the working hours before each day, so each difference costs two lookups.
    A year without official holiday data counts as the calendar predicts it (weekends and
    statutory holidays), as the deadlines do.
    """

    def __init__(self, calendar: BusinessCalendar | None = None) -> None:
        if calendar is None:
            from dispatch.calendar import get_calendar

            calendar = get_calendar()
        self.calendar = calendar
        self._years: dict[int, list[float]] = {}
        self._days: dict[dt.date, bool] = {}

    def is_workday(self, day: dt.date) -> bool:
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self.calendar.is_workday(day)
        return known

    def _year(self, year: int) -> list[float]:
        table = self._years.get(year)
        if table is None:
            table, total, day = [], 0.0, dt.date(year, 1, 1)
            while day.year == year:
                table.append(total)
                total += HOURS_PER_DAY if self.is_workday(day) else 0.0
                day += dt.timedelta(days=1)
            table.append(total)  # the year's total, after its last day
            self._years[year] = table
        return table

    def _in_year(self, moment: dt.datetime) -> tuple[int, float]:
        """(year, working hours from that year's start to ``moment``)."""
        local = timezone.localtime(moment, self.calendar.tz) if timezone.is_aware(moment) else moment
        day = local.date()
        base = self._year(day.year)[day.timetuple().tm_yday - 1]
        if not self.is_workday(day):
            return day.year, base
        start = dt.datetime.combine(day, WORK_START, tzinfo=local.tzinfo)
        end = dt.datetime.combine(day, WORK_END, tzinfo=local.tzinfo)
        clipped = min(max(local, start), end)
        return day.year, base + (clipped - start).total_seconds() / 3600

    def hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        if end <= start:
            return 0.0
        # Only the years the interval spans are ever tabulated.
        year_a, at_a = self._in_year(start)
        year_b, at_b = self._in_year(end)
        between = sum(self._year(y)[-1] for y in range(year_a, year_b))
        return max(0.0, between + at_b - at_a)

    _shared: ClassVar[tuple[BusinessCalendar, WorkClock] | None] = None

    @classmethod
    def shared(cls) -> WorkClock:
        """The process's clock for the current calendar: its tables are built once, not per request.

        Reused while the calendar's content (the admin's overrides and manual years) is unchanged.
        """
        from dispatch.calendar import get_calendar

        calendar = get_calendar()
        cached = cls._shared
        if cached is not None and cached[0] == calendar:
            return cached[1]
        clock = cls(calendar)
        cls._shared = (calendar, clock)
        return clock


# --- counters ---------------------------------------------------------------------------------------


@dataclass
class CaseCounts:
    """Summed case counters, plus the histogram of resolution times (tenths of an hour → cases)."""

    submitted: int = 0
    cases: int = 0
    rejected: int = 0
    open: int = 0
    proactive: int = 0
    resp_on_time: int = 0
    resp_late: int = 0
    resolved: int = 0
    on_time: int = 0
    late: int = 0
    hours_n: int = 0
    hours_sum: float = 0.0
    fb_cases: int = 0
    fb_solved: int = 0
    answers: int = 0
    satisfied: int = 0
    ever_resolved: int = 0
    reopened: int = 0
    tier_alley: int = 0
    tier_community: int = 0
    tier_street: int = 0
    tier_district: int = 0
    tier_city: int = 0
    hours_hist: Counter[int] = field(default_factory=Counter)

    def add(self, other: CaseCounts | Mapping[str, Any]) -> CaseCounts:
        """Add another set of counters (a CaseCounts, a rollup row's values() dict) in place."""
        mine = self.__dict__
        if isinstance(other, Mapping):
            for name in CASE_COUNTERS:
                value = other.get(name)
                if value:
                    mine[name] += value
            hist = other.get("hours_hist")
        else:
            theirs = other.__dict__
            for name in CASE_COUNTERS:
                mine[name] += theirs[name]
            hist = other.hours_hist
        if hist:
            for key, count in hist.items():
                self.hours_hist[int(key)] += int(count)
        return self

    @classmethod
    def total(cls, rows: Iterable[CaseCounts | Mapping[str, Any]]) -> CaseCounts:
        result = cls()
        for row in rows:
            result.add(row)
        return result

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CASE_COUNTERS}


@dataclass
class OrderCounts:
    """Summed department-order counters."""

    orders: int = 0
    active: int = 0
    report_on_time: int = 0
    report_late: int = 0
    report_missed: int = 0
    report_no_show: int = 0
    completed: int = 0
    complete_on_time: int = 0
    complete_late: int = 0
    rejected: int = 0
    extended: int = 0
    fb_cases: int = 0
    fb_solved: int = 0
    answers: int = 0
    satisfied: int = 0
    eval_n: int = 0
    eval_score_sum: int = 0

    def add(self, other: OrderCounts | Mapping[str, Any]) -> OrderCounts:
        mine = self.__dict__
        theirs = other if isinstance(other, Mapping) else other.__dict__
        for name in ORDER_COUNTERS:
            value = theirs.get(name)
            if value:
                mine[name] += value
        return self

    @classmethod
    def total(cls, rows: Iterable[OrderCounts | Mapping[str, Any]]) -> OrderCounts:
        result = cls()
        for row in rows:
            result.add(row)
        return result


# --- step 1: one case ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseInputs:
    """What the rates need to know about one case."""

    state: str
    source: str
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    accept_due: dt.datetime | None
    resolved_at: dt.datetime | None
    resolve_due: dt.datetime | None
    resolved_tier: str
    reopen_count: int
    # An automatic escalation happened while the case waited for acceptance (its tier missed the deadline).
    missed_accept: bool = False
    # (round, solved, satisfaction) of the reporter's feedback, every round.
    feedbacks: tuple[tuple[int, str, str], ...] = ()
    # (solved, satisfaction) of every survey answer on the case.
    survey_answers: tuple[tuple[str, str], ...] = ()


@dataclass
class CaseClassification:
    """One case's counters, its resolution time and when the result may change by itself."""

    counts: CaseCounts
    hours: float | None = None
    pending_until: dt.datetime | None = None

    @property
    def tenths(self) -> int | None:
        """The resolution time in tenths of an hour, the median's unit."""
        return None if self.hours is None else round(self.hours * 10)


def classify_case(inputs: CaseInputs, *, now: dt.datetime, clock: WorkClock) -> CaseClassification:
    """One case → counters, at ``now`` (see docs/rates.md for each rule)."""
    c = CaseCounts(submitted=1)
    result = CaseClassification(counts=c)
    if inputs.state in EXCLUDED_STATES:
        c.rejected = int(inputs.state == CaseState.REJECTED)
        return result
    c.cases = 1
    c.open = int(inputs.state in OPEN_STATES)
    c.proactive = int(inputs.source in PROACTIVE_SOURCES)
    pending: list[dt.datetime] = []

    # Response: accepted within the acceptance deadline of the tier holding it.
    if inputs.missed_accept:
        c.resp_late = 1
    elif inputs.accepted_at is not None:
        on_time = inputs.accept_due is None or inputs.accepted_at <= inputs.accept_due
        c.resp_on_time, c.resp_late = int(on_time), int(not on_time)
    elif inputs.state in AWAITING_ACCEPT_STATES and inputs.accept_due is not None:
        if inputs.accept_due <= now:
            c.resp_late = 1
        else:
            pending.append(inputs.accept_due)

    # On time: resolved by the (possibly extended) deadline; open past it counts as late.
    resolved = inputs.state in RESOLVED_STATES and inputs.resolved_at is not None
    if resolved:
        assert inputs.resolved_at is not None
        c.resolved = 1
        on_time = inputs.resolve_due is None or inputs.resolved_at <= inputs.resolve_due
        c.on_time, c.late = int(on_time), int(not on_time)
        hours = clock.hours_between(inputs.created_at, inputs.resolved_at)
        result.hours = hours
        c.hours_n, c.hours_sum = 1, hours
        c.hours_hist[round(hours * 10)] += 1  # == result.tenths
        if inputs.resolved_tier in TIERS:
            setattr(c, f"tier_{inputs.resolved_tier}", 1)
    elif inputs.state in OPEN_STATES and inputs.resolve_due is not None:
        if inputs.resolve_due <= now:
            c.late = 1
        else:
            pending.append(inputs.resolve_due)

    c.ever_resolved = int(inputs.resolved_at is not None)
    c.reopened = int(inputs.reopen_count > 0)

    # Resolution: the reporter's latest answer, else the survey's majority.
    if inputs.feedbacks:
        latest = max(inputs.feedbacks, key=lambda f: f[0])
        c.fb_cases, c.fb_solved = 1, int(latest[1] == FeedbackSolved.SOLVED)
    elif inputs.survey_answers:
        solved = sum(1 for s, _ in inputs.survey_answers if s == FeedbackSolved.SOLVED)
        c.fb_cases, c.fb_solved = 1, int(2 * solved > len(inputs.survey_answers))

    # Satisfaction: every answer counts, the reporter's (each round) and each survey answer.
    satisfactions = [f[2] for f in inputs.feedbacks] + [a[1] for a in inputs.survey_answers]
    c.answers = len(satisfactions)
    c.satisfied = sum(1 for s in satisfactions if s in SATISFIED_ANSWERS)

    result.pending_until = min(pending) if pending else None
    return result


# --- step 1: one department order ---------------------------------------------------------------------


@dataclass(frozen=True)
class OrderInputs:
    """What the department rates need to know about one order."""

    state: str
    report_due: dt.datetime
    # The attendance the community confirmed (the report counts only then: issues.attendance).
    attended_at: dt.datetime | None
    complete_due: dt.datetime
    completed_at: dt.datetime | None
    ever_rejected: bool = False
    extended: bool = False
    # The community recorded that the department did not come as it had announced.
    no_show: bool = False
    eval_scores: tuple[int, ...] = ()
    # The served case's feedback counters (fb_cases, fb_solved, answers, satisfied).
    case_feedback: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass
class OrderClassification:
    """One order's counters and when they may change by themselves."""

    counts: OrderCounts
    pending_until: dt.datetime | None = None


def classify_order(inputs: OrderInputs, *, now: dt.datetime) -> OrderClassification:
    """One department order → counters, at ``now`` (see docs/rates.md)."""
    from issues.choices import ACTIVE_ORDER_STATES, OrderState

    c = OrderCounts()
    result = OrderClassification(counts=c)
    if inputs.state == OrderState.WITHDRAWN:
        return result  # redispatched elsewhere: the order no longer exists for the rates
    pending: list[dt.datetime] = []
    c.orders = 1
    active = inputs.state in ACTIVE_ORDER_STATES
    c.active = int(active)
    outcome = report_outcome(
        report_due=inputs.report_due, attended_at=inputs.attended_at, no_show=inputs.no_show, now=now
    )
    c.report_on_time = int(outcome == ReportOutcome.ON_TIME)
    c.report_late = int(outcome == ReportOutcome.LATE)
    c.report_missed = int(outcome == ReportOutcome.MISSED)
    c.report_no_show = int(inputs.no_show)
    if outcome == ReportOutcome.PENDING:
        pending.append(inputs.report_due)
    if inputs.state == OrderState.COMPLETED and inputs.completed_at is not None:
        c.completed = 1
        on_time = inputs.completed_at <= inputs.complete_due
        c.complete_on_time, c.complete_late = int(on_time), int(not on_time)
    elif active:
        if inputs.complete_due <= now:
            c.complete_late = 1
        else:
            pending.append(inputs.complete_due)
    c.rejected = int(inputs.ever_rejected)
    c.extended = int(inputs.extended)
    c.fb_cases, c.fb_solved, c.answers, c.satisfied = inputs.case_feedback
    c.eval_n = len(inputs.eval_scores)
    c.eval_score_sum = sum(inputs.eval_scores)
    result.pending_until = min(pending) if pending else None
    return result


# --- step 2: counters → rates ------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    """The composite score's weights (evaluation.models.RateWeights holds the editable ones)."""

    response: float = 30
    resolution: float = 35
    satisfaction: float = 35

    @classmethod
    def current(cls) -> Weights:
        from .models import RateWeights

        row = RateWeights.current()
        return cls(row.response, row.resolution, row.satisfaction)


def ratio(part: float, whole: float) -> float | None:
    """part / whole, or None when there is nothing to divide by (shown as “—”, never as 0 %)."""
    return part / whole if whole else None


def min_sample() -> int:
    """The smallest sample a rate is shown for (``JXT_RATE_MIN_SAMPLE``); below it: 样本不足."""
    from django.conf import settings

    return int(settings.JXT_RATE_MIN_SAMPLE)


def composite(
    response: float | None,
    resolution: float | None,
    satisfaction: float | None,
    weights: Weights,
    *,
    samples: tuple[int, int, int] | None = None,
    minimum: int = 1,
) -> float | None:
    """Weighted mean of the three rates, on 0–100, or None (样本不足) unless every weighted rate
    stands on at least ``minimum`` cases (``samples``: the three denominators).

    A missing rate is not left out with its weight: a score of the response rate alone and one
    of all three are not the same measure, and the day the first answer arrives one resident's
    "not solved" turned a district's 76.5 into 23.7. A score is given only when all its parts are.
    """
    parts = [
        (weights.response, response, samples[0] if samples else None),
        (weights.resolution, resolution, samples[1] if samples else None),
        (weights.satisfaction, satisfaction, samples[2] if samples else None),
    ]
    weighted = [(w, r, n) for w, r, n in parts if w]
    if not weighted:
        return None
    if any(r is None or (n is not None and n < minimum) for _w, r, n in weighted):
        return None
    total = sum(w for w, _r, _n in weighted)
    return round(100 * sum(w * r for w, r, _n in weighted if r is not None) / total, 1)


def median_from_hist(hist: Mapping[int, int]) -> float | None:
    """The median of per-case times (rounded to a tenth of an hour), in hours."""
    n = sum(hist.values())
    if not n:
        return None
    keys = sorted(hist)
    low_rank, high_rank = (n - 1) // 2, n // 2  # 0-based ranks of the middle value(s)
    seen, low, high = 0, None, None
    for key in keys:
        nxt = seen + hist[key]
        if low is None and low_rank < nxt:
            low = key
        if high_rank < nxt:
            high = key
            break
        seen = nxt
    assert low is not None and high is not None
    return round((low + high) / 20, 2)


@dataclass(frozen=True)
class CaseRates:
    """The rates of a set of cases."""

    counts: CaseCounts
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    on_time_rate: float | None
    avg_hours: float | None
    median_hours: float | None
    reopen_rate: float | None
    proactive_share: float | None
    escalation_profile: dict[str, float | None]
    composite: float | None
    # Each rate's denominator (its sample size n), by the rate's name, and the smallest n shown.
    samples: Mapping[str, int] = field(default_factory=dict)
    min_sample: int = 1

    def shown(self, name: str) -> float | None:
        """The rate if its sample is large enough to show, else None (样本不足)."""
        return shown_rate(getattr(self, name), self.samples.get(name, 0), self.min_sample)

    def shown_share(self, tier: str) -> float | None:
        """A tier's share of the resolved cases (逐级办结), if there are enough of them."""
        return shown_rate(
            self.escalation_profile.get(tier), self.samples.get("alley_share", 0), self.min_sample
        )

    @property
    def funnel(self) -> list[tuple[str, int]]:
        """Resolved cases that climbed to each tier or beyond (the escalation profile as a funnel)."""
        counts = [getattr(self.counts, f"tier_{t}") for t in TIERS]
        return [(t, sum(counts[i:])) for i, t in enumerate(TIERS)]


def shown_rate(value: float | None, n: int, minimum: int) -> float | None:
    return value if n >= minimum else None


def case_samples(counts: CaseCounts) -> dict[str, int]:
    """The denominator of every case rate: what a rate's "n" means."""
    return {
        "response_rate": counts.resp_on_time + counts.resp_late,
        "resolution_rate": counts.fb_cases,
        "satisfaction_rate": counts.answers,
        "on_time_rate": counts.on_time + counts.late,
        "reopen_rate": counts.ever_resolved,
        "proactive_share": counts.cases,
        "alley_share": sum(getattr(counts, f"tier_{t}") for t in TIERS),
    }


def case_rates(
    counts: CaseCounts, weights: Weights | None = None, *, minimum: int | None = None
) -> CaseRates:
    weights = weights or Weights()
    minimum = min_sample() if minimum is None else minimum
    response = ratio(counts.resp_on_time, counts.resp_on_time + counts.resp_late)
    resolution = ratio(counts.fb_solved, counts.fb_cases)
    satisfaction = ratio(counts.satisfied, counts.answers)
    by_tier = sum(getattr(counts, f"tier_{t}") for t in TIERS)
    samples = case_samples(counts)
    return CaseRates(
        counts=counts,
        response_rate=response,
        resolution_rate=resolution,
        satisfaction_rate=satisfaction,
        on_time_rate=ratio(counts.on_time, counts.on_time + counts.late),
        avg_hours=round(counts.hours_sum / counts.hours_n, 2) if counts.hours_n else None,
        median_hours=median_from_hist(counts.hours_hist),
        reopen_rate=ratio(counts.reopened, counts.ever_resolved),
        proactive_share=ratio(counts.proactive, counts.cases),
        escalation_profile={t: ratio(getattr(counts, f"tier_{t}"), by_tier) for t in TIERS},
        composite=composite(
            response,
            resolution,
            satisfaction,
            weights,
            samples=(samples["response_rate"], samples["resolution_rate"], samples["satisfaction_rate"]),
            minimum=minimum,
        ),
        samples=samples,
        min_sample=minimum,
    )


@dataclass(frozen=True)
class OrderRates:
    """The rates of a set of department orders."""

    counts: OrderCounts
    report_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    on_time_rate: float | None
    avg_evaluation: float | None
    composite: float | None
    samples: Mapping[str, int] = field(default_factory=dict)
    min_sample: int = 1

    def shown(self, name: str) -> float | None:
        return shown_rate(getattr(self, name), self.samples.get(name, 0), self.min_sample)


def order_samples(counts: OrderCounts) -> dict[str, int]:
    """The denominator of every department rate."""
    return {
        "report_rate": counts.report_on_time + counts.report_late + counts.report_missed,
        "resolution_rate": counts.fb_cases,
        "satisfaction_rate": counts.answers,
        "on_time_rate": counts.complete_on_time + counts.complete_late,
        "avg_evaluation": counts.eval_n,
    }


def order_rates(
    counts: OrderCounts, weights: Weights | None = None, *, minimum: int | None = None
) -> OrderRates:
    weights = weights or Weights()
    minimum = min_sample() if minimum is None else minimum
    report = ratio(counts.report_on_time, counts.report_on_time + counts.report_late + counts.report_missed)
    resolution = ratio(counts.fb_solved, counts.fb_cases)
    satisfaction = ratio(counts.satisfied, counts.answers)
    samples = order_samples(counts)
    return OrderRates(
        counts=counts,
        report_rate=report,
        resolution_rate=resolution,
        satisfaction_rate=satisfaction,
        on_time_rate=ratio(counts.complete_on_time, counts.complete_on_time + counts.complete_late),
        avg_evaluation=round(counts.eval_score_sum / counts.eval_n, 1) if counts.eval_n else None,
        composite=composite(
            report,
            resolution,
            satisfaction,
            weights,
            samples=(samples["report_rate"], samples["resolution_rate"], samples["satisfaction_rate"]),
            minimum=minimum,
        ),
        samples=samples,
        min_sample=minimum,
    )


# --- loading inputs from the database (used by the rollups and by direct computation) ----------------


CASE_INPUT_FIELDS = (
    "pk",
    "state",
    "source",
    "created_at",
    "accepted_at",
    "accept_due",
    "resolved_at",
    "resolve_due",
    "resolved_tier",
    "reopen_count",
)


def load_case_inputs(case_ids: list[int]) -> dict[int, CaseInputs]:
    """Inputs of the given cases in four queries (call with chunks of a few thousand ids)."""
    return load_case_rows(case_ids=case_ids)[0]


def load_case_rows(
    *,
    case_ids: list[int] | None = None,
    id_range: tuple[int, int] | None = None,
    extra: tuple[str, ...] = (),
) -> tuple[dict[int, CaseInputs], dict[int, dict[str, Any]]]:
    """Inputs of some cases, and their ``extra`` fields, in four queries.

    Select by ids (a changed few) or by a range of ids [lo, hi) — the full rebuild walks the
    table in ranges, which index scans serve without shipping thousands of parameters.
    """
    from issues.models import Case, CaseEvent, Feedback

    from .models import SurveyAnswer

    def by(field: str) -> dict[str, Any]:
        if id_range is not None:
            return {f"{field}__gte": id_range[0], f"{field}__lt": id_range[1]}
        return {f"{field}__in": case_ids}

    rows = list(Case.objects.filter(**by("pk")).values(*CASE_INPUT_FIELDS, *extra))
    missed = set(
        CaseEvent.objects.filter(
            **by("case_id"), kind=EventKind.ESCALATED, from_state__in=sorted(AWAITING_ACCEPT_STATES)
        ).values_list("case_id", flat=True)
    )
    feedbacks: dict[int, list[tuple[int, str, str]]] = {}
    for case_id, rnd, solved, satisfaction in Feedback.objects.filter(**by("case_id")).values_list(
        "case_id", "round", "solved", "satisfaction"
    ):
        feedbacks.setdefault(case_id, []).append((rnd, solved, satisfaction))
    answers: dict[int, list[tuple[str, str]]] = {}
    for case_id, solved, satisfaction in SurveyAnswer.objects.filter(**by("survey__case_id")).values_list(
        "survey__case_id", "solved", "satisfaction"
    ):
        answers.setdefault(case_id, []).append((solved, satisfaction))
    inputs = {
        row["pk"]: CaseInputs(
            state=row["state"],
            source=row["source"],
            created_at=row["created_at"],
            accepted_at=row["accepted_at"],
            accept_due=row["accept_due"],
            resolved_at=row["resolved_at"],
            resolve_due=row["resolve_due"],
            resolved_tier=row["resolved_tier"],
            reopen_count=row["reopen_count"],
            missed_accept=row["pk"] in missed,
            feedbacks=tuple(feedbacks.get(row["pk"], ())),
            survey_answers=tuple(answers.get(row["pk"], ())),
        )
        for row in rows
    }
    return inputs, {row["pk"]: row for row in rows}


def rates_for_cases(
    cases: QuerySet[Any], *, now: dt.datetime | None = None, weights: Weights | None = None
) -> CaseRates:
    """The rates of a queryset of cases computed directly (tests, small ad-hoc sets).

    Dashboards never call this per request: they read the rollups, which hold the
    same counters.
    """
    now = now or timezone.now()
    clock = WorkClock.shared()
    total = CaseCounts()
    ids = list(cases.values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        for inputs in load_case_inputs(ids[start : start + 2000]).values():
            total.add(classify_case(inputs, now=now, clock=clock).counts)
    return case_rates(total, weights)


def load_order_inputs(order_ids: list[int], *, now: dt.datetime, clock: WorkClock) -> dict[int, OrderInputs]:
    """Inputs of the given orders (their cases' feedback is classified with the case rules)."""
    from issues.choices import AttendanceState, ExtensionState
    from issues.models import Attendance, DispatchOrder, ExtensionRequest

    from .models import DepartmentEvaluation

    rows = list(
        DispatchOrder.objects.filter(pk__in=order_ids).values(
            "pk",
            "state",
            "case_id",
            "report_due",
            "attended_at",
            "complete_due",
            "completed_at",
            "rejection_reason",
        )
    )
    no_shows = set(
        Attendance.objects.filter(order_id__in=order_ids, state=AttendanceState.MISSED).values_list(
            "order_id", flat=True
        )
    )
    extended = set(
        ExtensionRequest.objects.filter(order_id__in=order_ids, state=ExtensionState.APPROVED).values_list(
            "order_id", flat=True
        )
    )
    scores: dict[int, list[int]] = {}
    for order_id, score in DepartmentEvaluation.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "overall_score"
    ):
        scores.setdefault(order_id, []).append(score)
    case_ids = sorted({r["case_id"] for r in rows if r["case_id"]})
    feedback: dict[int, tuple[int, int, int, int]] = {}
    for case_id, inputs in load_case_inputs(case_ids).items():
        c = classify_case(inputs, now=now, clock=clock).counts
        feedback[case_id] = (c.fb_cases, c.fb_solved, c.answers, c.satisfied)
    return {
        r["pk"]: OrderInputs(
            state=r["state"],
            report_due=r["report_due"],
            attended_at=r["attended_at"],
            complete_due=r["complete_due"],
            completed_at=r["completed_at"],
            ever_rejected=bool(r["rejection_reason"]),
            extended=r["pk"] in extended,
            no_show=r["pk"] in no_shows,
            eval_scores=tuple(scores.get(r["pk"], ())),
            case_feedback=feedback.get(r["case_id"], (0, 0, 0, 0)),
        )
        for r in rows
    }


def rates_for_orders(
    orders: QuerySet[Any], *, now: dt.datetime | None = None, weights: Weights | None = None
) -> OrderRates:
    """The department rates of a queryset of orders computed directly (tests, small sets)."""
    now = now or timezone.now()
    clock = WorkClock.shared()
    total = OrderCounts()
    ids = list(orders.values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        for inputs in load_order_inputs(ids[start : start + 2000], now=now, clock=clock).values():
            total.add(classify_order(inputs, now=now).counts)
    return order_rates(total, weights)
