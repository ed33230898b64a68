"""dispatch/calendar_watch.py: provisional deadlines recomputed by themselves, and people told once a year.

Years after 2026 are predicted here (chinesecalendar knows 2004–2026). Cases are made in
2027 with ``now=``; the after-commit recompute runs inside
``django_capture_on_commit_callbacks(execute=True)``, as it would after the admin's save.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings

from alleys.choices import AreaLevel
from dispatch.calendar import calendar_year_replace, unofficial_years
from dispatch.choices import CalendarDayKind
from dispatch.models import CalendarDay, CalendarYear
from issues import calendar_watch
from issues.calendar_watch import announce_predicted_year, calendar_housekeeping
from issues.models import Case, Notification, SystemAlert
from issues.workflow import case_accept, case_dispatch, case_submit
from tests.factories import UserFactory, World, at, make_case

pytestmark = pytest.mark.django_db
D = dt.date.fromisoformat
T = AreaLevel
MARCH_2027 = at("2027-03-01 10:00")  # a Monday, predicted


@pytest.fixture(autouse=True)
def _fresh_watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What housekeeping remembers lives per process: each test is a fresh process."""
    monkeypatch.setattr(calendar_watch, "_watch", calendar_watch._Watch())
    yield


def lamp(world: World, now: dt.datetime = MARCH_2027) -> Case:
    return case_submit(category=world.cat_a, alley=world.alley_x, description="路灯不亮", now=now)


# --- recomputed after an administrator's change ---------------------------------------------------


def test_entering_the_year_makes_a_provisional_case_official(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = lamp(world)
    assert (case.deadline_provisional, case.accept_due) == (True, at("2027-03-01 14:00"))
    with django_capture_on_commit_callbacks(execute=True):
        CalendarYear.objects.create(year=2027, note="国务院办公厅关于2027年部分节假日安排的通知")
    case.refresh_from_db()
    assert case.deadline_provisional is False
    assert (case.accept_due, case.escalation_due) == (at("2027-03-01 14:00"), at("2027-03-01 14:00"))


def test_an_override_moves_a_provisional_deadline_and_its_warning(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = lamp(world)
    assert case.warn_at == at("2027-03-01 13:12")
    with django_capture_on_commit_callbacks(execute=True):
        CalendarYear.objects.create(year=2027, note="通知")
        CalendarDay.objects.create(date=D("2027-03-01"), kind=CalendarDayKind.HOLIDAY, name="停工")
    case.refresh_from_db()
    # March 1st is a day off after all: the 4 hours run on Tuesday, and so does the warning.
    assert case.deadline_provisional is False
    assert (case.accept_due, case.escalation_due) == (at("2027-03-02 13:00"), at("2027-03-02 13:00"))
    assert case.warn_at == at("2027-03-02 12:12")


def test_an_override_alone_recomputes_but_the_year_stays_provisional(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = lamp(world)
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(date=D("2027-03-01"), kind=CalendarDayKind.HOLIDAY, name="停工")
    case.refresh_from_db()
    assert case.accept_due == at("2027-03-02 13:00")
    assert case.deadline_provisional is True  # the rest of 2027 is still predicted


def test_an_accepted_case_gets_a_new_resolve_warning_when_its_deadline_moves(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = lamp(world)
    case_accept(case=case, actor=world.chief_x, now=at("2027-03-01 11:00"))
    case.refresh_from_db()
    assert case.escalation_due == case.resolve_due == at("2027-03-04 17:00")
    with django_capture_on_commit_callbacks(execute=True):
        calendar_year_replace(
            year=2027,
            note="通知",
            holidays={D("2027-03-03"): "停工", D("2027-03-04"): "停工", D("2027-03-05"): "停工"},
            workdays={D("2027-03-06"): "调休上班"},
        )
    case.refresh_from_db()
    # Three working days from Monday: Tuesday, the make-up Saturday and Monday (Wednesday–Friday off).
    assert (case.deadline_provisional, case.resolve_due) == (False, at("2027-03-08 17:00"))
    assert case.escalation_due == case.resolve_due
    assert case.warn_at is not None and at("2027-03-01 11:00") < case.warn_at < case.resolve_due


def test_a_dispatched_cases_order_is_recomputed_with_the_case(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case(world, state="accepted", tier=T.DISTRICT, now=MARCH_2027)
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=at("2027-03-02 10:00"))
    order = case.orders.get()
    assert order.deadline_provisional is True
    with django_capture_on_commit_callbacks(execute=True):
        calendar_year_replace(year=2027, note="通知", holidays={D("2027-03-03"): "停工"}, workdays={})
    order.refresh_from_db()
    case.refresh_from_db()
    assert order.deadline_provisional is False
    assert order.report_due == at("2027-03-10 17:00")  # five working days, Wednesday off
    assert case.resolve_due == order.complete_due


def test_a_case_entirely_in_2026_is_never_touched(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = lamp(world, now=at("2026-03-02 10:00"))
    before = Case.objects.values("accept_due", "resolve_due", "warn_at").get(pk=case.pk)
    with django_capture_on_commit_callbacks(execute=True):
        CalendarYear.objects.create(year=2027, note="通知")
    assert Case.objects.values("accept_due", "resolve_due", "warn_at").get(pk=case.pk) == before


# --- the sweep's minute -------------------------------------------------------------------------------


def test_housekeeping_recomputes_when_another_process_entered_the_year(world: World) -> None:
    case = lamp(world)
    june = at("2026-06-01 10:00")
    calendar_housekeeping(june)
    # Entered in another process: no after-commit callback here, only a changed calendar.
    CalendarYear.objects.create(year=2027, note="通知")
    calendar_housekeeping(june)
    case.refresh_from_db()
    assert case.deadline_provisional is False


def test_housekeeping_costs_no_query_when_nothing_changed(
    world: World, django_assert_num_queries: Any
) -> None:
    lamp(world)
    june = at("2026-06-01 10:00")
    calendar_housekeeping(june)
    with django_assert_num_queries(0):
        calendar_housekeeping(june)
        calendar_housekeeping(june + dt.timedelta(minutes=1))


# --- telling people ---------------------------------------------------------------------------------------


@pytest.fixture
def admin_user(db: None) -> Any:
    return UserFactory(superuser=True, username="root", email="root@example.org")


def test_from_1_november_next_years_prediction_is_announced_once(
    world: World, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world.district_officer.email = "org@example.org"
    world.district_officer.save()
    retired = UserFactory(superuser=True, username="retired", email="old@example.org", is_active=False)
    plain = UserFactory(username="plain", email="plain@example.org", is_staff=False)

    calendar_housekeeping(at("2026-10-31 23:59"))
    assert not Notification.objects.exists() and not SystemAlert.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):  # the e-mails leave after commit
        calendar_housekeeping(at("2026-11-01 00:01"))
    told = Notification.objects.filter(kind="calendar")
    # Superusers and organisation departments (the world has a superuser "admin" of its own).
    assert set(told.values_list("recipient__username", flat=True)) == {
        "admin",
        admin_user.username,
        world.district_officer.username,
        world.district_officer_far.username,
        world.city_officer.username,
    }
    message = told.first()
    assert message is not None and message.case_id is None and message.order_id is None
    assert "2027" in message.title
    assert "期限待定" in message.body and "调休上班日无法推算" in message.body
    assert "/admin/dispatch/calendaryear/arrangement/" in message.body
    assert sorted(m.to[0] for m in mail.outbox) == ["org@example.org", "root@example.org"]
    assert SystemAlert.objects.get().key == "calendar-year-2027"
    assert retired.pk not in told.values_list("recipient_id", flat=True)
    assert plain.pk not in told.values_list("recipient_id", flat=True)

    # Every minute after, and in any other process: nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        calendar_housekeeping(at("2026-11-01 00:02"))
        calendar_watch._watch = calendar_watch._Watch()
        calendar_housekeeping(at("2026-12-15 10:00"))
    assert announce_predicted_year(2027, now=at("2026-12-15 10:00")) is False
    assert told.count() == 5 and len(mail.outbox) == 2


def test_a_current_year_without_data_is_announced_too(world: World, admin_user: Any) -> None:
    assert unofficial_years(at("2027-03-01 10:00")) == [2027]
    calendar_housekeeping(at("2027-03-01 10:00"))
    assert SystemAlert.objects.get().key == "calendar-year-2027"
    assert Notification.objects.filter(recipient=admin_user, kind="calendar").count() == 1


def test_nothing_is_announced_for_an_official_year(world: World, admin_user: Any) -> None:
    CalendarYear.objects.create(year=2027, note="通知")
    assert unofficial_years(at("2026-11-15 10:00")) == []
    calendar_housekeeping(at("2026-11-15 10:00"))
    assert not Notification.objects.exists()


def test_entering_the_year_resolves_its_alert(world: World, admin_user: Any) -> None:
    calendar_housekeeping(at("2026-11-15 10:00"))
    CalendarYear.objects.create(year=2027, note="通知")
    calendar_housekeeping(at("2026-11-15 10:01"))
    assert SystemAlert.objects.get(key="calendar-year-2027").resolved_at == at("2026-11-15 10:01")


@override_settings(EMAIL_BACKEND="no.such.Backend")
def test_a_broken_mail_setup_never_stops_the_sweep(
    world: World, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        calendar_housekeeping(at("2026-11-15 10:00"))  # does not raise
    assert Notification.objects.filter(recipient=admin_user).count() == 1
