"""Idempotent submissions (issue 14): a repeated key gives the first case, never a second one."""

from __future__ import annotations

import datetime as dt

import pytest

from issues.models import Case, Submission
from issues.workflow import Submitted, case_submit_once, submissions_prune, submitted_case
from tests.factories import MONDAY, World, build_world
from tests.faults import race

pytestmark = pytest.mark.django_db


def submit(
    world: World, key: str, *, now: dt.datetime = MONDAY, within: dt.timedelta | None = None
) -> Submitted:
    return case_submit_once(
        key=key,
        within=within,
        now=now,
        category=world.cat_a,
        alley=world.alley_x,
        description="路灯不亮",
        reporter_phone="13800000000",
    )


def test_a_repeated_key_gives_the_first_case(world: World) -> None:
    first = submit(world, "form:abc")
    again = submit(world, "form:abc", now=MONDAY + dt.timedelta(days=3))
    assert not first.repeat and again.repeat
    assert again.case == first.case
    assert Case.objects.count() == 1
    other = submit(world, "form:def")
    assert other.case != first.case and Case.objects.count() == 2


def test_a_window_lets_the_same_request_file_again_once_it_has_passed(world: World) -> None:
    minutes = dt.timedelta(minutes=10)
    first = submit(world, "open311:1:x", within=minutes)
    assert (
        submit(world, "open311:1:x", within=minutes, now=MONDAY + dt.timedelta(minutes=9)).case == first.case
    )
    later = submit(world, "open311:1:x", within=minutes, now=MONDAY + dt.timedelta(minutes=11))
    assert not later.repeat and later.case != first.case
    assert Submission.objects.get(key="open311:1:x").case == later.case


def test_the_earlier_case_is_read_as_case_submit_once_would_answer(world: World) -> None:
    assert submitted_case(key="form:abc") is None
    first = submit(world, "form:abc")
    assert submitted_case(key="form:abc", now=MONDAY + dt.timedelta(days=3)) == first.case
    minutes = dt.timedelta(minutes=10)
    submit(world, "open311:1:x", within=minutes)
    assert submitted_case(key="open311:1:x", within=minutes, now=MONDAY + dt.timedelta(minutes=9))
    assert submitted_case(key="open311:1:x", within=minutes, now=MONDAY + dt.timedelta(minutes=11)) is None


def test_a_refused_submission_keeps_no_key(world: World) -> None:
    from issues.workflow import TransitionError

    with pytest.raises(TransitionError):
        case_submit_once(key="form:bad", category=world.cat_a, alley=world.alley_x, description=" ")
    assert not Submission.objects.exists() and not Case.objects.exists()


def test_old_keys_are_pruned(world: World) -> None:
    submit(world, "form:old")
    submit(world, "form:new", now=MONDAY + dt.timedelta(days=6))
    assert submissions_prune(now=MONDAY + dt.timedelta(days=7, hours=1)) == 1
    assert list(Submission.objects.values_list("key", flat=True)) == ["form:new"]
    assert Case.objects.count() == 2  # the cases stay


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_repeats_file_one_case(transactional_db: None) -> None:
    """The second request waits on the key's unique index until the first commits, then answers its case."""
    world = build_world()
    result, error = race(lambda: submit(world, "form:tap"), lambda: submit(world, "form:tap"))
    assert error is None, repr(error)
    assert result.repeat
    assert Case.objects.count() == 1
    assert result.case == Case.objects.get()
