"""issues/resident_sms.py: residents who agreed are told by SMS when their case is accepted, escalated,
resolved and closed, with the tracking link; nobody else; reliably (the sweep), never twice, capped."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from pytest_django import Settings

from core.sms import Sms, SmsError
from issues.choices import EventKind, FeedbackSolved, ResidentSmsState, Satisfaction
from issues.models import Case, CaseEvent, ResidentSms
from issues.notify import fan_out, relay_due
from issues.resident_sms import deliver
from issues.workflow import (
    case_accept,
    case_feedback,
    case_resolve,
    case_submit,
    case_verify,
    case_whistle,
)
from tests.factories import World
from tests.fake_sms import TEMPLATES, FakeTencent, error, fake_tencent

__all__ = ["fake_tencent"]  # the fixture, imported

pytestmark = pytest.mark.django_db

MOBILE = "13800138000"
SITE = "https://jxt.example.cn"


@pytest.fixture(autouse=True)
def _site(settings: Settings) -> None:
    settings.SITE_URL = SITE


def committed(capture: Any, call: Callable[[], Any]) -> Any:
    """Run a service and what it queued after commit (the fan-out, then the sends), as in production."""
    with capture(execute=True):
        return call()


def whole_life(world: World, capture: Any, *, phone: str, opt_in: bool) -> Case:
    """Submitted, accepted, whistled up, accepted again by the community, resolved, verified, closed."""
    now = timezone.now()
    case = committed(
        capture,
        lambda: case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description="路灯不亮",
            reporter_phone=phone,
            consent=True,
            sms_opt_in=opt_in,
            now=now,
        ),
    )
    committed(capture, lambda: case_accept(case=case, actor=world.chief_x, now=now))
    committed(capture, lambda: case_whistle(case=case, actor=world.chief_x, reason="需要社区协调", now=now))
    committed(capture, lambda: case_accept(case=case, actor=world.community_worker_x, now=now))
    committed(
        capture, lambda: case_resolve(case=case, actor=world.community_worker_x, note="已修好", now=now)
    )
    committed(capture, lambda: case_verify(case=case, actor=world.community_worker_x, passed=True, now=now))
    committed(
        capture,
        lambda: case_feedback(
            case=case, solved=FeedbackSolved.SOLVED, satisfaction=Satisfaction.SATISFIED, now=now
        ),
    )
    case.refresh_from_db()
    assert case.events.filter(kind=EventKind.CLOSED).exists()
    return case


def test_the_provider_receives_exactly_the_four_steps_with_the_link(
    world: World, django_capture_on_commit_callbacks: Any, fake_tencent: FakeTencent
) -> None:
    agreed = whole_life(world, django_capture_on_commit_callbacks, phone=MOBILE, opt_in=True)
    # A neighbour who left a mobile number but did not tick the box: nothing.
    whole_life(world, django_capture_on_commit_callbacks, phone="13900009999", opt_in=False)
    link = f"{SITE}/track/{agreed.tracking_code}/"
    what = world.cat_a.name
    assert fake_tencent.sent() == [
        (f"+86{MOBILE}", TEMPLATES["case_accepted"], [what, link]),
        (f"+86{MOBILE}", TEMPLATES["case_escalated"], [what, link]),
        (f"+86{MOBILE}", TEMPLATES["case_resolved"], [what, link]),
        (f"+86{MOBILE}", TEMPLATES["case_closed"], [what, link]),
    ]
    states = dict(ResidentSms.objects.filter(case=agreed).values_list("template", "state").order_by("pk"))
    assert ResidentSms.objects.filter(case=agreed, state=ResidentSmsState.SENT).count() == 4
    assert states["case_accepted"] in {ResidentSmsState.SENT, ResidentSmsState.SKIPPED}


def test_the_texts_carry_the_link(
    world: World,
    django_capture_on_commit_callbacks: Any,
    sms_outbox: list[Sms],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        case = whole_life(world, django_capture_on_commit_callbacks, phone=MOBILE, opt_in=True)
    assert [m.template for m in sms_outbox] == [
        "case_accepted",
        "case_escalated",
        "case_resolved",
        "case_closed",
    ]
    link = f"{SITE}/track/{case.tracking_code}/"
    assert all(m.phone == MOBILE and link in m.text and m.params["link"] == link for m in sms_outbox)
    assert "已受理" in sms_outbox[0].text and "已办结" in sms_outbox[-1].text
    # Logged: the template and the masked number; never the number, the link or the tracking code.
    assert "138****8000" in caplog.text
    assert MOBILE not in caplog.text and case.tracking_code not in caplog.text


@pytest.mark.parametrize(("phone", "opt_in"), [(MOBILE, False), ("059522181234", True), ("", True)])
def test_no_consent_or_no_mobile_no_sms(
    world: World, django_capture_on_commit_callbacks: Any, sms_outbox: list[Sms], phone: str, opt_in: bool
) -> None:
    case = whole_life(world, django_capture_on_commit_callbacks, phone=phone, opt_in=opt_in)
    assert sms_outbox == []
    assert not ResidentSms.objects.filter(case=case).exists()
    assert case.sms_opt_in is False


class Flaky:
    """A backend that fails until told otherwise."""

    failing = True
    sent: list[Sms] = []

    def send(self, sms: Sms) -> str:
        if Flaky.failing:
            raise SmsError("provider down")
        Flaky.sent.append(sms)
        return "ok"


def test_a_failing_provider_is_retried_by_the_sweep_and_not_doubled(
    world: World, django_capture_on_commit_callbacks: Any, settings: Settings
) -> None:
    settings.JXT_SMS_BACKEND = f"{__name__}.Flaky"
    Flaky.failing, Flaky.sent = True, []
    now = timezone.now()
    case = committed(
        django_capture_on_commit_callbacks,
        lambda: case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description="x",
            reporter_phone=MOBILE,
            consent=True,
            sms_opt_in=True,
            now=now,
        ),
    )
    committed(
        django_capture_on_commit_callbacks, lambda: case_accept(case=case, actor=world.chief_x, now=now)
    )
    row = ResidentSms.objects.get(case=case)
    assert (row.state, row.attempts, row.next_attempt_at is not None) == (ResidentSmsState.FAILED, 1, True)
    assert "provider down" in row.last_error
    Flaky.failing = False
    later = timezone.now() + dt.timedelta(hours=2)
    # The fan-out redelivered (a worker killed after writing) adds no second row and sends nothing.
    event = CaseEvent.objects.get(case=case, kind=EventKind.ACCEPTED)
    committed(django_capture_on_commit_callbacks, lambda: fan_out([event.pk]))
    assert Flaky.sent == []
    with django_capture_on_commit_callbacks(execute=True):
        relay_due(now=later, batch=10)
    row.refresh_from_db()
    assert (row.state, row.attempts, row.next_attempt_at) == (ResidentSmsState.SENT, 2, None)
    assert [m.template for m in Flaky.sent] == ["case_accepted"]
    # Sent is sent: neither the sweep, nor the task run again, sends it twice.
    relay_due(now=later + dt.timedelta(hours=2), batch=10)
    assert deliver(row.pk) == ResidentSmsState.SENT
    committed(django_capture_on_commit_callbacks, lambda: fan_out([event.pk]))
    assert len(Flaky.sent) == 1
    assert ResidentSms.objects.filter(case=case).count() == 1


def test_a_permanent_refusal_is_not_tried_again(
    world: World, django_capture_on_commit_callbacks: Any, fake_tencent: FakeTencent
) -> None:
    fake_tencent.answers.append(error("InvalidParameterValue.IncorrectPhoneNumber"))
    now = timezone.now()
    case = committed(
        django_capture_on_commit_callbacks,
        lambda: case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description="x",
            reporter_phone=MOBILE,
            consent=True,
            sms_opt_in=True,
            now=now,
        ),
    )
    committed(
        django_capture_on_commit_callbacks, lambda: case_accept(case=case, actor=world.chief_x, now=now)
    )
    row = ResidentSms.objects.get(case=case)
    assert (row.state, row.next_attempt_at) == (ResidentSmsState.FAILED, None)
    relay_due(now=now + dt.timedelta(days=1), batch=10)
    assert len(fake_tencent.requests) == 1


def test_the_daily_cap_per_number(
    world: World, django_capture_on_commit_callbacks: Any, sms_outbox: list[Sms], settings: Settings
) -> None:
    settings.JXT_SMS_PER_NUMBER_DAY = 3
    now = timezone.now()
    cases = [
        committed(
            django_capture_on_commit_callbacks,
            lambda: case_submit(
                category=world.cat_a,
                alley=world.alley_x,
                description="x",
                reporter_phone=MOBILE,
                consent=True,
                sms_opt_in=True,
                now=now,
            ),
        )
        for _ in range(5)
    ]
    for case in cases:
        with django_capture_on_commit_callbacks(execute=True):
            case_accept(case=case, actor=world.chief_x, now=now)
    assert len(sms_outbox) == 3
    assert ResidentSms.objects.filter(state=ResidentSmsState.SKIPPED, last_error__contains="cap").count() == 2
    # Another number is not held back by this one's cap.
    other = committed(
        django_capture_on_commit_callbacks,
        lambda: case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description="x",
            reporter_phone="13700137000",
            consent=True,
            sms_opt_in=True,
            now=now,
        ),
    )
    committed(
        django_capture_on_commit_callbacks, lambda: case_accept(case=other, actor=world.chief_x, now=now)
    )
    assert [m.phone for m in sms_outbox][-1] == "13700137000"
