"""issues/workflow/mechanisms.py: review dates, the daily reminder to the owner department, recorded reviews."""

from __future__ import annotations

import datetime as dt

import pytest
from django_celery_beat.models import PeriodicTask

from alleys.choices import Role
from issues.models import MechanismReview, Notification
from issues.tasks import remind_mechanism_reviews
from issues.workflow import TransitionForbidden, TransitionInvalid
from issues.workflow.mechanisms import REVIEW_REMINDER, mechanism_review_record, mechanism_reviews_remind
from tests.factories import MONDAY, MechanismReviewFactory, StandingMechanismFactory, World, grant, make_actor

pytestmark = pytest.mark.django_db
TODAY = MONDAY.date()


def test_the_owner_department_is_reminded_once_when_a_review_date_comes(world: World) -> None:
    leader = make_actor(Role.DEPT_LEADER, department=world.dept_lead)
    retired = make_actor(Role.DEPT_CONTACT, department=world.dept_lead, is_active=False)
    mechanism = StandingMechanismFactory(
        area=world.community_x, owner_department=world.dept_lead, title="菜市场机制"
    )
    due = MechanismReviewFactory(mechanism=mechanism, due_on=TODAY)
    later = MechanismReviewFactory(mechanism=mechanism, due_on=TODAY + dt.timedelta(days=1))
    done = MechanismReviewFactory(mechanism=mechanism, due_on=TODAY - dt.timedelta(days=9), done_at=MONDAY)
    repealed = StandingMechanismFactory(
        area=world.community_x, owner_department=world.dept_lead, is_active=False
    )
    MechanismReviewFactory(mechanism=repealed, due_on=TODAY)

    assert mechanism_reviews_remind(now=MONDAY) == 1
    told = Notification.objects.filter(kind=REVIEW_REMINDER)
    assert sorted(told.values_list("recipient__username", flat=True)) == sorted(
        ["lead_contact", leader.username]
    )
    assert retired.pk not in told.values_list("recipient", flat=True)
    assert {n.title for n in told} == {f"[长效机制复核] 菜市场机制（复核日期 {TODAY.isoformat()}）"}
    assert f"/staff/mechanisms/{mechanism.pk}/" in told.first().body
    due.refresh_from_db()
    assert due.reminded_at == MONDAY
    # Once: a second run (or a second worker) tells nobody again; the next date comes in its day.
    assert mechanism_reviews_remind(now=MONDAY + dt.timedelta(hours=2)) == 0
    assert told.count() == 2
    assert mechanism_reviews_remind(now=MONDAY + dt.timedelta(days=1)) == 1
    later.refresh_from_db()
    done.refresh_from_db()
    assert later.reminded_at is not None and done.reminded_at is None


def test_a_missed_day_is_caught_up(world: World) -> None:
    mechanism = StandingMechanismFactory(area=world.community_x, owner_department=world.dept_lead)
    MechanismReviewFactory(mechanism=mechanism, due_on=TODAY - dt.timedelta(days=3))
    assert mechanism_reviews_remind(now=MONDAY) == 1


def test_the_daily_task_is_installed_and_runs(world: World) -> None:
    task = PeriodicTask.objects.get(task="issues.remind_mechanism_reviews")
    assert task.enabled and task.crontab is not None
    mechanism = StandingMechanismFactory(area=world.community_x, owner_department=world.dept_lead)
    MechanismReviewFactory(mechanism=mechanism, due_on=dt.date(2000, 1, 3))
    assert remind_mechanism_reviews.delay().get() == 1


def test_who_records_a_review(world: World) -> None:
    mechanism = StandingMechanismFactory(area=world.community_x, owner_department=world.dept_lead)
    MechanismReviewFactory(mechanism=mechanism, due_on=TODAY)
    for outsider in ("coop_contact", "chief_x", "street_worker", "community_worker_y"):
        with pytest.raises(TransitionForbidden):
            mechanism_review_record(mechanism=mechanism, actor=world.actor(outsider), note="好", now=MONDAY)
    with pytest.raises(TransitionInvalid, match="复核情况"):
        mechanism_review_record(mechanism=mechanism, actor=world.lead_contact, note=" ", now=MONDAY)
    with pytest.raises(TransitionInvalid, match="今天之后"):
        mechanism_review_record(
            mechanism=mechanism, actor=world.lead_contact, note="好", next_review_on=TODAY, now=MONDAY
        )
    review = mechanism_review_record(
        mechanism=mechanism,
        actor=world.lead_contact,
        note="执行良好",
        next_review_on=TODAY + dt.timedelta(days=180),
        now=MONDAY,
    )
    assert (review.due_on, review.note, review.done_by) == (TODAY, "执行良好", world.lead_contact)
    # The unit whose meeting made it keeps it too.
    grant(world.nobody, Role.COMMUNITY_STAFF, area=world.community_x)
    second = mechanism_review_record(mechanism=mechanism, actor=world.nobody, note="再次复核", now=MONDAY)
    assert second.due_on == TODAY + dt.timedelta(days=180)
    assert not MechanismReview.objects.filter(mechanism=mechanism, done_at__isnull=True).exists()
