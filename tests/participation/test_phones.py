"""The one-time code by SMS: its life, tries and limits, the pages, and the number kept out of logs."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from core.errors import ActionInvalid, ActionRefused
from core.sms import Sms, SmsError
from participation import phones
from participation.models import PhoneChallenge

pytestmark = pytest.mark.django_db

NUMBER = "13812345678"
T0 = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)


def code_of(sms: Sms) -> str:
    return sms.params["code"]


def send(number: str = NUMBER, *, at: dt.datetime = T0, address: str = "10.0.0.1") -> None:
    phones.phone_code_send(phone=number, address=address, now=at)


def test_a_code_is_six_digits_sent_to_the_number_and_stored_only_as_digests(sms_outbox: list[Sms]) -> None:
    send("+86 138-1234-5678")
    [sms] = sms_outbox
    assert sms.phone == NUMBER and sms.template == "phone_code"
    assert re.fullmatch(r"\d{6}", code_of(sms)) and code_of(sms) in sms.text
    row = PhoneChallenge.objects.get()
    assert NUMBER not in row.phone_digest and code_of(sms) not in row.code_hash
    assert row.expires_at == T0 + dt.timedelta(minutes=10)


def test_the_right_code_verifies_once(sms_outbox: list[Sms]) -> None:
    send()
    code = code_of(sms_outbox[0])
    assert phones.phone_code_verify(phone=NUMBER, code=code, now=T0 + dt.timedelta(minutes=1)) == NUMBER
    with pytest.raises(ActionRefused, match="请先获取验证码"):
        phones.phone_code_verify(phone=NUMBER, code=code, now=T0 + dt.timedelta(minutes=2))


def test_a_code_expires_after_ten_minutes(sms_outbox: list[Sms]) -> None:
    send()
    with pytest.raises(ActionRefused, match="已过期"):
        phones.phone_code_verify(phone=NUMBER, code=code_of(sms_outbox[0]), now=T0 + dt.timedelta(minutes=10))


def test_five_wrong_tries_spend_the_code_and_each_is_counted(sms_outbox: list[Sms]) -> None:
    send()
    right = code_of(sms_outbox[0])
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(ActionRefused, match=f"还可以再试 {left} 次"):
            phones.phone_code_verify(phone=NUMBER, code=wrong, now=T0)
    with pytest.raises(ActionRefused, match="请重新获取"):
        phones.phone_code_verify(phone=NUMBER, code=wrong, now=T0)
    assert PhoneChallenge.objects.get().attempts == 5
    with pytest.raises(ActionRefused, match="输错次数太多"):
        phones.phone_code_verify(phone=NUMBER, code=right, now=T0)


def test_a_malformed_code_is_refused_without_spending_a_try(sms_outbox: list[Sms]) -> None:
    send()
    with pytest.raises(ActionInvalid, match="6 位数字"):
        phones.phone_code_verify(phone=NUMBER, code="12ab", now=T0)
    assert PhoneChallenge.objects.get().attempts == 0


def test_a_new_code_replaces_the_old_one_but_not_within_a_minute(sms_outbox: list[Sms]) -> None:
    send()
    with pytest.raises(ActionRefused, match="秒后再获取"):
        send(at=T0 + dt.timedelta(seconds=30))
    send(at=T0 + dt.timedelta(seconds=61))
    old, new = (code_of(s) for s in sms_outbox)
    if old != new:
        with pytest.raises(ActionRefused, match="验证码不对"):
            phones.phone_code_verify(phone=NUMBER, code=old, now=T0 + dt.timedelta(minutes=2))
    assert phones.phone_code_verify(phone=NUMBER, code=new, now=T0 + dt.timedelta(minutes=2)) == NUMBER


def test_five_codes_a_day_per_number(sms_outbox: list[Sms]) -> None:
    for i in range(5):
        send(at=T0 + dt.timedelta(minutes=2 * i), address=f"10.0.0.{i}")
    with pytest.raises(ActionRefused, match="24 小时内"):
        send(at=T0 + dt.timedelta(minutes=30), address="10.0.9.9")
    assert len(sms_outbox) == 5
    send(at=T0 + dt.timedelta(days=1, minutes=1))
    assert len(sms_outbox) == 6


def test_ten_codes_an_hour_per_address(sms_outbox: list[Sms]) -> None:
    for i in range(10):
        send(f"1391234{i:04d}", at=T0 + dt.timedelta(seconds=i))
    with pytest.raises(ActionRefused, match="一小时后"):
        send("13900000000", at=T0 + dt.timedelta(minutes=1))
    send("13900000000", at=T0 + dt.timedelta(minutes=1), address="10.9.9.9")
    send("13900000001", at=T0 + dt.timedelta(hours=1, seconds=1))
    assert len(sms_outbox) == 12


def test_only_mobile_numbers(sms_outbox: list[Sms]) -> None:
    with pytest.raises(ActionInvalid, match="11 位手机号码"):
        send("0595-22181234")
    assert sms_outbox == [] and not PhoneChallenge.objects.exists()


class Refusing:
    def send(self, sms: Sms) -> str:
        raise SmsError("provider down")


def test_an_sms_that_was_not_sent_does_not_count(settings: Settings) -> None:
    settings.JXT_SMS_BACKEND = f"{__name__}.Refusing"
    with pytest.raises(ActionRefused, match="短信没有发出去"):
        send()
    assert not PhoneChallenge.objects.exists()


def test_the_number_never_reaches_the_log_in_clear(
    sms_outbox: list[Sms], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    send()
    phones.phone_code_verify(phone=NUMBER, code=code_of(sms_outbox[0]), now=T0)
    assert "138****5678" in caplog.text
    assert NUMBER not in caplog.text and code_of(sms_outbox[0]) not in caplog.text


def test_old_challenges_are_deleted_when_a_new_code_is_asked(sms_outbox: list[Sms]) -> None:
    send()
    send("13900000000", at=T0 + dt.timedelta(days=3))
    assert PhoneChallenge.objects.count() == 1


# --- the pages ---------------------------------------------------------------------------------


def test_the_pages_verify_a_number_and_return_to_next(client: Client, sms_outbox: list[Sms]) -> None:
    start = reverse("phone-start")
    page = client.get(start, {"next": "/track/"})
    assert page.status_code == 200 and "获取验证码" in page.content.decode()
    sent = client.post(start, {"phone": NUMBER, "next": "/track/"})
    assert sent.status_code == 302 and sent["Location"].startswith(reverse("phone-code"))
    code_page = client.get(sent["Location"])
    assert "138****5678" in code_page.content.decode() and NUMBER not in code_page.content.decode()
    wrong = client.post(
        reverse("phone-code"),
        {"code": "000000" if code_of(sms_outbox[0]) != "000000" else "111111", "next": "/track/"},
    )
    assert wrong.status_code == 409 and "还可以再试 4 次" in wrong.content.decode()
    done = client.post(reverse("phone-code"), {"code": code_of(sms_outbox[0]), "next": "/track/"})
    assert done.status_code == 302 and done["Location"] == "/track/"
    assert client.session[phones.SESSION_KEY]["phone"] == NUMBER


def test_next_elsewhere_goes_home(client: Client, sms_outbox: list[Sms]) -> None:
    client.post(reverse("phone-start"), {"phone": NUMBER})
    done = client.post(
        reverse("phone-code"), {"code": code_of(sms_outbox[0]), "next": "https://evil.example/"}
    )
    assert done["Location"] == reverse("public-home")


def test_bad_input_is_explained_and_nothing_is_sent(client: Client, sms_outbox: list[Sms]) -> None:
    page = client.post(reverse("phone-start"), {"phone": "12345"})
    assert page.status_code == 400 and "11 位手机号码" in page.content.decode()
    assert sms_outbox == []
    # The code page without a number waiting goes back to the first step.
    assert client.get(reverse("phone-code"))["Location"].startswith(reverse("phone-start"))


def test_resend_within_a_minute_is_refused_with_the_wait(client: Client, sms_outbox: list[Sms]) -> None:
    client.post(reverse("phone-start"), {"phone": NUMBER})
    again = client.post(reverse("phone-code"), {"action": "resend"})
    assert again.status_code == 409 and "秒后再获取" in again.content.decode()
    assert len(sms_outbox) == 1


def test_verification_lasts_thirty_minutes_and_can_be_ended(client: Client, sms_outbox: list[Sms]) -> None:
    client.post(reverse("phone-start"), {"phone": NUMBER})
    client.post(reverse("phone-code"), {"code": code_of(sms_outbox[0])})
    request = client.get("/").wsgi_request
    now = timezone.now()
    assert phones.verified_phone(request, now=now) == NUMBER
    assert phones.verified_phone(request, now=now + dt.timedelta(minutes=31)) is None
    client.post(reverse("phone-forget"))
    assert phones.verified_phone(client.get("/").wsgi_request) is None
