"""Dashboards that do not mislead on small numbers (issue 16): the rolling default period, every
rate with its sample size, 样本不足 under the minimum, no ranking below a minimum volume, a
score that one answer cannot swing, who is late, the wall's colour thresholds, and the cards
agreeing with the one definition of "overdue" (issues/deadline_state.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alleys.choices import AreaLevel
from evaluation import selectors as sel
from evaluation.lateness import who_is_late
from evaluation.periods import Period, period_choices
from evaluation.rates import CaseCounts, Weights, case_rates, rates_for_cases
from evaluation.rollups import due_today_q, refresh_rollups
from evaluation.tables import fmt_rate, rate_band
from issues.choices import CaseState, FeedbackSolved, OrderState, Satisfaction
from issues.deadline_state import governing_due, near_q, overdue_q
from issues.models import Case
from tests.factories import MONDAY, DispatchOrderFactory, FeedbackFactory, World, at, case_at

pytestmark = pytest.mark.django_db

DEC_5 = dt.date(2026, 12, 5)


def page(client: Client, user: Any, name: str, **params: str) -> Any:
    client.force_login(user)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"{reverse(f'dashboard:{name}')}?{query}")


# --- the period ---------------------------------------------------------------------------------------


def test_the_default_is_the_thirty_days_ending_today() -> None:
    period = Period.parse("", today=DEC_5)
    assert (period.kind, period.key, period.start, period.last_day) == (
        "rolling",
        "30d",
        dt.date(2026, 11, 6),
        DEC_5,
    )
    assert period.days == 30 and not period.aligned
    assert period.previous() == Period("rolling", dt.date(2026, 10, 7), dt.date(2026, 11, 6))
    # Nonsense, a range backwards or longer than a year falls back to the default, never to a month.
    for text in ("junk", "2026-13", "2026-12-05~2026-11-01", "2024-01-01~2026-01-01", "45d"):
        assert Period.parse(text, today=DEC_5).key == "30d", text


def test_months_quarters_years_and_ranges_stay_selectable() -> None:
    assert Period.parse("2026-11", today=DEC_5).label == "2026年11月"
    assert Period.parse("2026-Q3", today=DEC_5).aligned
    assert Period.parse("2025", today=DEC_5).days == 365
    custom = Period.parse("2026-11-01~2026-11-15", today=DEC_5)
    assert (custom.kind, custom.days, custom.key) == ("range", 15, "2026-11-01~2026-11-15")
    assert Period.parse("90d", today=DEC_5).start == dt.date(2026, 9, 7)
    keys = [p.key for p in period_choices(DEC_5)]
    assert keys[:3] == ["7d", "30d", "90d"] and "2026-12" in keys and "2026-Q4" in keys and "2025" in keys


def test_every_page_opens_on_the_rolling_window(client: Client, world: World) -> None:
    for name in ("overview", "drill", "categories", "departments", "held", "chiefs", "wall"):
        response = page(client, world.district_officer, name, area=world.district.code)
        assert response.status_code == 200, name
        assert response.context["period"].key == "30d", name
    custom = page(client, world.district_officer, "overview", **{"from": "2026-11-01", "to": "2026-11-30"})
    assert custom.context["period"].key == "2026-11-01~2026-11-30"
    assert "2026-11-01至2026-11-30" in custom.content.decode()


def _recent_cases(world: World, now: dt.datetime, n: int, *, alley: Any = None) -> list[Case]:
    """``n`` cases accepted on time over the last three weeks, resolved and verified."""
    cases = []
    for i in range(n):
        created = now - dt.timedelta(days=1 + i % 20, hours=2)
        cases.append(
            case_at(
                world,
                created=created,
                alley=alley or world.alley_x,
                state=CaseState.CLOSED,
                accept_due=created + dt.timedelta(hours=4),
                accepted_at=created + dt.timedelta(hours=1),
                resolve_due=created + dt.timedelta(days=3),
                resolved_at=created + dt.timedelta(days=1),
                verified_at=created + dt.timedelta(days=1, hours=2),
                resolved_tier=AreaLevel.ALLEY,
            )
        )
    return cases


def test_the_rolling_window_counts_what_a_direct_computation_counts(client: Client, world: World) -> None:
    now = timezone.now()
    _recent_cases(world, now, 12)
    case_at(world, created=now - dt.timedelta(days=45), alley=world.alley_y, state=CaseState.SUBMITTED)
    refresh_rollups(now=now, full=True)
    response = page(client, world.district_officer, "overview", area=world.district.code)
    start = timezone.make_aware(dt.datetime.combine(response.context["period"].start, dt.time.min))
    direct = rates_for_cases(Case.objects.filter(created_at__gte=start), now=now)
    shown = response.context["data"].rates
    assert shown.counts.as_dict() == direct.counts.as_dict()
    assert shown.counts.cases == 12  # the 45-day-old case is outside the window


# --- sample sizes ---------------------------------------------------------------------------------------


def test_a_rate_is_shown_with_its_n_or_as_too_few() -> None:
    assert fmt_rate(0.923, 26) == "92.3%（n=26）"
    assert fmt_rate(None, 2) == "样本不足（n=2）"
    assert fmt_rate(None, 0) == "—"
    rates = case_rates(CaseCounts(resp_on_time=2, resp_late=0, fb_cases=9, fb_solved=9), minimum=5)
    assert rates.response_rate == 1.0 and rates.shown("response_rate") is None
    assert rates.shown("resolution_rate") == 1.0
    assert rates.samples["response_rate"] == 2 and rates.samples["resolution_rate"] == 9


def test_pages_and_exports_carry_the_sample_sizes(client: Client, world: World, settings: Any) -> None:
    settings.JXT_RATE_MIN_SAMPLE = 5
    now = timezone.now()
    _recent_cases(world, now, 8)  # 新华社区 (alley_x): 8 cases; 西街社区 (alley_y): 1 case
    _recent_cases(world, now, 1, alley=world.alley_y)
    refresh_rollups(now=now, full=True)
    overview = page(client, world.district_officer, "overview", area=world.district.code).content.decode()
    assert "n=9" in overview  # the response rate's sample on its card
    drill = page(client, world.district_officer, "drill", area=world.street.code).content.decode()
    assert "100.0%（n=8）" in drill and "样本不足（n=1）" in drill
    client.force_login(world.district_officer)
    body = client.get(
        reverse("dashboard:export", args=["drill"]) + f"?area={world.street.code}&fmt=csv"
    ).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    header = next(r for r in rows if r and r[0] == "排名")
    assert "响应率样本数" in header
    by_name = {r[1]: r for r in rows[rows.index(header) + 1 :] if len(r) > 2}
    rate_at, n_at = header.index("响应率"), header.index("响应率样本数")
    x, y = by_name[world.community_x.name], by_name[world.community_y.name]
    assert (x[rate_at], x[n_at], y[rate_at], y[n_at]) == ("100.0%", "8", "样本不足", "1")
    preamble = {r[0]: r[1] for r in rows if len(r) == 2}
    assert "5" in preamble["最小样本"] and "5" in preamble["参与排名"]


def test_the_chart_tooltips_get_the_sample_sizes(client: Client, world: World) -> None:
    now = timezone.now()
    _recent_cases(world, now, 6)
    refresh_rollups(now=now, full=True)
    charts = page(client, world.district_officer, "overview", area=world.district.code).context["charts"]
    series = {s["name"]: s for s in charts["weekly"]["series"]}
    assert len(series["响应率"]["n"]) == len(series["响应率"]["data"]) == 12
    assert charts["weekly"]["thin"] == "样本不足"


# --- the ranking minimum ---------------------------------------------------------------------------------


def test_units_below_the_minimum_are_listed_after_the_ranked_ones_unranked(
    client: Client, world: World, settings: Any
) -> None:
    settings.JXT_RANKING_MIN_CASES = 5
    settings.JXT_RATE_MIN_SAMPLE = 1
    now = timezone.now()
    _recent_cases(world, now, 6)  # 新华社区: ranked
    _recent_cases(world, now, 1, alley=world.alley_y)  # 西街社区: one case, all on time: not "the best"
    refresh_rollups(now=now, full=True)
    for sort in ("composite", "response_rate", "overdue"):
        table = page(client, world.district_officer, "drill", area=world.street.code, sort=sort).context[
            "table"
        ]
        names = [r["name"] for r in table.rows]
        last = table.rows[-1]
        assert (last["name"], last["rank"], last["mark"]) == (world.community_y.name, None, "样本不足"), sort
        assert names[0] == world.community_x.name
    # Sorted by volume, every unit takes its place.
    by_cases = page(client, world.district_officer, "drill", area=world.street.code, sort="cases")
    assert [r["rank"] for r in by_cases.context["table"].rows] == [1, 2]


# --- one answer cannot swing the score -----------------------------------------------------------------


def test_one_not_solved_answer_cannot_swing_the_score(settings: Any) -> None:
    """December's 76.5 → 23.7: the composite was the response rate alone (resolution and satisfaction
    had no answers, so their weights were left out); the first answer — "not solved", dissatisfied —
    brought both in at 0 % with their full weights. Now a score needs all three rates over the minimum."""
    settings.JXT_RATE_MIN_SAMPLE = 5
    weights = Weights(30, 35, 35)
    before = CaseCounts(resp_on_time=26, resp_late=8)  # response 76.5 %, nobody has answered yet
    after = CaseCounts(resp_on_time=26, resp_late=8, fb_cases=1, fb_solved=0, answers=1, satisfied=0)
    assert case_rates(before, weights).composite is None
    assert case_rates(after, weights).composite is None  # not 23.0
    enough = CaseCounts(resp_on_time=26, resp_late=8, fb_cases=6, fb_solved=5, answers=6, satisfied=5)
    one_more = CaseCounts(resp_on_time=26, resp_late=8, fb_cases=7, fb_solved=5, answers=7, satisfied=5)
    a, b = case_rates(enough, weights).composite, case_rates(one_more, weights).composite
    assert a is not None and b is not None
    assert a - b < 12  # one more "not solved" moves a score of real samples, it does not swing it
    # With the old rule (rates left out with their weights) the same answer moved it 53.5 points.
    settings.JXT_RATE_MIN_SAMPLE = 1
    old_style = 100 * 26 / 34
    assert round(old_style, 1) == 76.5 and case_rates(after, weights).composite == pytest.approx(22.9)


def test_the_overview_says_which_rate_lacks_the_sample(client: Client, world: World, settings: Any) -> None:
    settings.JXT_RATE_MIN_SAMPLE = 5
    now = timezone.now()
    cases = _recent_cases(world, now, 8)
    FeedbackFactory(case=cases[0], solved=FeedbackSolved.NOT_SOLVED, satisfaction=Satisfaction.DISSATISFIED)
    refresh_rollups(now=now, full=True)
    response = page(client, world.district_officer, "overview", area=world.district.code)
    assert response.context["score"]["value"] is None
    text = response.content.decode()
    assert "解决率（n=1）" in text and "满意率（n=1）" in text and "三率样本均须不少于 5" in text


# --- who is late --------------------------------------------------------------------------------------------


@pytest.fixture
def late_world(world: World) -> World:
    """At MONDAY 10:00: overdue work of four units in 开元街道 and one in 东湖街道."""
    now = MONDAY
    # The alley team of alley_x: two cases waiting for acceptance.
    for created, due in (
        (at("2026-02-25 09:00"), at("2026-02-27 10:00")),
        (at("2026-02-27 09:00"), at("2026-02-27 17:00")),
    ):
        case_at(world, created=created, alley=world.alley_x, accept_due=due)
    # 新华社区 must verify a resolved case.
    case_at(
        world,
        created=at("2026-02-20 09:00"),
        alley=world.alley_x,
        state=CaseState.AWAITING_VERIFICATION,
        accepted_at=at("2026-02-20 10:00"),
        resolved_at=at("2026-02-25 10:00"),
        verify_due=at("2026-02-27 10:00"),
    )
    # Dispatched: the lead department answers for the resolve deadline, and its order is late too.
    dispatched = case_at(
        world,
        created=at("2026-01-05 09:00"),
        alley=world.alley_y,
        state=CaseState.ACCEPTED,
        tier=AreaLevel.DISTRICT,
        accepted_at=at("2026-01-05 10:00"),
        resolve_due=at("2026-02-26 10:00"),
        lead_department=world.dept_lead,
    )
    DispatchOrderFactory(
        case=dispatched,
        department=world.dept_lead,
        dispatcher_area=world.district,
        dispatched_at=at("2026-01-06 09:00"),
        report_due=at("2026-01-13 17:00"),
        attended_at=at("2026-01-12 10:00"),
        complete_due=at("2026-02-27 10:00"),
        state=OrderState.REPORTED,
    )
    # A cooperating department that never came: its report is late.
    DispatchOrderFactory(
        case=dispatched,
        department=world.dept_coop,
        dispatcher_area=world.district,
        dispatched_at=at("2026-02-16 09:00"),
        report_due=at("2026-02-24 10:00"),
        complete_due=at("2026-05-20 10:00"),
    )
    # Elsewhere: not in 开元街道.
    case_at(world, created=at("2026-02-25 09:00"), alley=world.other_alley, accept_due=at("2026-02-26 10:00"))
    # On time, not late.
    case_at(world, created=at("2026-03-02 09:00"), alley=world.alley_y, accept_due=at("2026-03-02 17:00"))
    Case.objects.filter(lead_department__isnull=False).update(holder_area=world.district)
    assert Case.objects.filter(overdue_q(now)).count() == 5
    return world


def test_who_is_late_names_the_answerable_units_worst_first(late_world: World) -> None:
    w = late_world
    table = who_is_late(w.street, now=MONDAY)
    rows = {r["name"]: r for r in table.rows}
    team = f"{w.alley_x.name}街巷服务团队"
    # The lead department and the alley team have two items each: the lead's are later.
    assert [r["name"] for r in table.rows] == [w.dept_lead.name, team, w.dept_coop.name, w.community_x.name]
    assert (rows[team]["cases"], rows[team]["orders"], rows[team]["kind"]) == (2, 0, "街巷服务团队")
    # Working days on the calendar: Saturday 28 February 2026 is a make-up working day (调休).
    assert (rows[team]["days_sum"], rows[team]["days_max"]) == (pytest.approx(3.1), pytest.approx(2.0))
    lead = rows[w.dept_lead.name]
    assert (lead["cases"], lead["orders"], lead["items"]) == (1, 1, 2)
    assert (lead["days_sum"], lead["days_max"]) == (pytest.approx(5.0), pytest.approx(3.0))
    assert "办结 1" in lead["stages"] and "派单办结 1" in lead["stages"]
    coop = rows[w.dept_coop.name]
    assert (coop["orders"], coop["days_max"], coop["stages"]) == (1, pytest.approx(5.0), "报到 1")
    verify = rows[w.community_x.name]
    assert (verify["kind"], verify["cases"], verify["stages"]) == ("社区（核实）", 1, "核实 1")
    # The counts add up to the overdue cases and orders of the area, nothing else.
    assert (
        sum(r["cases"] for r in table.rows)
        == Case.objects.filter(overdue_q(MONDAY), alley__code__startswith=w.street.code).count()
    )


def test_who_is_late_is_scoped_and_costs_two_queries(
    late_world: World, client: Client, django_assert_num_queries: Any
) -> None:
    w = late_world
    far = who_is_late(w.other_street, now=MONDAY)
    assert [r["name"] for r in far.rows] == [f"{w.other_alley.name}街巷服务团队"]
    community = who_is_late(w.community_y, now=MONDAY)
    assert {r["name"] for r in community.rows} == {w.dept_lead.name, w.dept_coop.name}
    who_is_late(w.district, now=MONDAY)  # warm the working-day clock
    with django_assert_num_queries(2):
        who_is_late(w.district, now=MONDAY)
    # A street's staff may not open another street's table.
    client.force_login(w.street_worker)
    assert client.get(reverse("dashboard:held") + f"?area={w.other_street.code}&kind=late").status_code == 403
    mine = client.get(reverse("dashboard:held") + f"?area={w.street.code}&kind=late")
    assert w.dept_coop.name in mine.content.decode() and w.other_alley.name not in mine.content.decode()


def test_who_is_late_is_on_the_overview_the_wall_and_exported(late_world: World, client: Client) -> None:
    w = late_world
    refresh_rollups(now=MONDAY, full=True)
    client.force_login(w.district_officer)
    for name in ("overview", "wall"):
        text = client.get(reverse(f"dashboard:{name}") + f"?area={w.street.code}").content.decode()
        assert "谁在超期" in text and w.dept_coop.name in text, name
    body = client.get(
        reverse("dashboard:export", args=["late"]) + f"?area={w.street.code}&fmt=csv"
    ).content.decode("utf-8-sig")
    assert "谁在超期" in body and "最长超期（工作日）" in body and w.dept_lead.name in body


# --- the wall's colours ------------------------------------------------------------------------------------


def test_wall_colours_are_thresholds(settings: Any) -> None:
    settings.JXT_RATE_GOOD_MIN, settings.JXT_RATE_FAIR_MIN = 90.0, 75.0
    assert rate_band(0.0, 40) == "poor"  # never green for 0 %
    assert rate_band(0.749, 40) == "poor"
    assert rate_band(0.75, 40) == "fair"
    assert rate_band(0.9, 40) == "good"
    assert rate_band(None, 2) == "thin"
    assert rate_band(None, 0) == "none"
    settings.JXT_RATE_GOOD_MIN = 95.0
    assert rate_band(0.9, 40) == "fair"


def test_the_wall_paints_by_band(client: Client, world: World, settings: Any) -> None:
    settings.JXT_RATE_MIN_SAMPLE = 5
    now = timezone.now()
    cases = _recent_cases(world, now, 6)
    for case in cases[:2]:  # two answers: resolution and satisfaction too few to show
        FeedbackFactory(case=case, solved=FeedbackSolved.NOT_SOLVED, satisfaction=Satisfaction.DISSATISFIED)
    late = case_at(world, created=now - dt.timedelta(days=2), alley=world.alley_y)
    Case.objects.filter(pk=late.pk).update(accept_due=now - dt.timedelta(days=1))
    refresh_rollups(now=now, full=True)
    text = page(client, world.district_officer, "wall", area=world.district.code).content.decode()
    assert 'data-rate="response_rate" data-band="fair"' in text  # 6 of 7 on time: 85.7 %, amber
    assert 'data-rate="resolution_rate" data-band="thin"' in text
    assert "样本不足" in text
    assert "band-good" not in text.split('data-rate="resolution_rate"')[1].split("</div>")[0]


# --- the agreement -------------------------------------------------------------------------------------------


def test_the_cards_equal_the_querysets_of_the_same_moment(client: Client, late_world: World) -> None:
    """The overview's cards read the snapshot refresh_rollups wrote; at the same ``now`` they equal
    the case list's querysets for the same territory (issues.deadline_state)."""
    w = late_world
    # Near (due within JXT_NEAR_HOURS) and due today, besides the overdue ones.
    case_at(w, created=at("2026-03-02 08:00"), alley=w.alley_x, accept_due=at("2026-03-02 16:00"))
    case_at(w, created=at("2026-03-02 08:00"), alley=w.alley_y, accept_due=at("2026-03-03 09:00"))
    refresh_rollups(now=MONDAY, full=True)
    for user, area in (
        (w.district_officer, w.district),
        (w.street_worker, w.street),
        (w.community_worker_y, w.community_y),
    ):
        cards = page(client, user, "overview", area=area.code).context["data"].cards
        visible = Case.objects.visible_to(user).filter(alley__code__startswith=area.code)
        expected = {
            "open": visible.open().count(),
            "overdue": visible.filter(overdue_q(MONDAY)).count(),
            "near": visible.filter(near_q(MONDAY)).count(),
            "due_today": visible.alias(governing_due=governing_due()).filter(due_today_q(MONDAY)).count(),
        }
        assert {k: cards[k] for k in expected} == expected, user
        assert expected["overdue"] > 0 and expected["near"] > 0
    # And the who-is-late table counts the same overdue cases at the same moment.
    late = who_is_late(w.district, now=MONDAY)
    assert sum(r["cases"] for r in late.rows) == sel.open_cards([w.district.code])["overdue"]
