"""Idempotent submissions (issue 14): a repeated key gives the first case, never a second one."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from PIL import Image

from issues.models import Case, Submission
from issues.workflow import Submitted, case_submit_once, submissions_prune, submitted_case
from tests.factories import MONDAY, World, build_world
from tests.faults import race

pytestmark = pytest.mark.django_db


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 30)).save(out, format="JPEG")
    return out.getvalue()


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


def test_a_tracking_code_clash_draws_another_code(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A random code that meets an existing case's is drawn again; the filing is kept whole."""
    first = submit(world, "key-1").case
    codes = iter([first.tracking_code, first.tracking_code, "ZZZZ2345"])
    monkeypatch.setattr("issues.workflow.cases.new_tracking_code", lambda: next(codes))
    second = submit(world, "key-2")
    assert not second.repeat
    assert second.case.tracking_code == "ZZZZ2345"
    second.case.refresh_from_db()
    assert second.case.events.count() == 1  # its SUBMITTED event, written once
    assert Case.objects.count() == 2
    assert Submission.objects.filter(key="key-2", case=second.case).exists()
    # The earlier case is untouched.
    first.refresh_from_db()
    assert first.events.count() == 1


def test_a_clash_leaves_no_stray_upload(world: World, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """The clash fails at the case's own INSERT, before a photo is written: one filing, one file."""
    first = submit(world, "key-1").case
    codes = iter([first.tracking_code, "ZZZZ2345"])
    monkeypatch.setattr("issues.workflow.cases.new_tracking_code", lambda: next(codes))
    photo = SimpleUploadedFile("IMG_0001.jpg", jpeg(), content_type="image/jpeg")
    case = case_submit_once(
        key="key-2",
        now=MONDAY,
        category=world.cat_a,
        alley=world.alley_x,
        description="路灯不亮",
        reporter_phone="13800000000",
        photos=[photo],
    ).case
    assert case.tracking_code == "ZZZZ2345"
    stored = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [Path(case.photos.get().upload.name).name]


def test_tracking_code_clashes_stop_after_a_few_tries(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    first = submit(world, "key-1").case
    monkeypatch.setattr("issues.workflow.cases.new_tracking_code", lambda: first.tracking_code)
    with pytest.raises(IntegrityError):
        submit(world, "key-2")
    assert Case.objects.count() == 1
    assert not Submission.objects.filter(key="key-2").exists()
