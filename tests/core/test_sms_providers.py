"""core/sms_providers.py: the Tencent Cloud adapter, through the real SDK, against a local fake endpoint."""

from __future__ import annotations

import logging

import pytest
from pytest_django import Settings

from core.sms import Sms, SmsError, send_sms
from core.sms_providers import Template, is_permanent, parse_templates, template_params
from tests.fake_sms import APP_ID, TEMPLATES, FakeTencent, error, fake_tencent, status

__all__ = ["fake_tencent"]  # the fixture, imported

PHONE = "13912345678"


def test_the_endpoint_receives_exactly_the_message(fake_tencent: FakeTencent) -> None:
    message_id = send_sms(Sms(phone=PHONE, template="phone_code", params={"code": "042917"}, text="x"))
    assert message_id == "2645:1"
    assert len(fake_tencent.requests) == 1
    assert fake_tencent.requests[0] == {
        "PhoneNumberSet": [f"+86{PHONE}"],
        "SmsSdkAppId": APP_ID,
        "SignName": "街巷通",
        "TemplateId": TEMPLATES["phone_code"],
        "TemplateParamSet": ["042917"],
    }
    headers = fake_tencent.headers[0]
    assert headers["X-TC-Action"] == "SendSms"
    assert headers["X-TC-Version"] == "2021-01-11"
    assert headers["X-TC-Region"] == "ap-guangzhou"
    # Signed by the SDK with the configured key (TC3), the secret itself never sent.
    assert headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKIDfake/")
    assert "fake-key" not in str(headers)


def test_parameters_follow_the_templates_order(fake_tencent: FakeTencent) -> None:
    send_sms(Sms(phone=PHONE, template="case_closed", params={"link": "http://x/track/AB/", "what": "路灯"}))
    assert fake_tencent.sent() == [(f"+86{PHONE}", TEMPLATES["case_closed"], ["路灯", "http://x/track/AB/"])]


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [
        (error("InvalidParameterValue.IncorrectPhoneNumber"), True),
        (error("FailedOperation.PhoneNumberInBlacklist"), True),
        (error("InternalError.Timeout"), False),
        (error("RequestLimitExceeded"), False),
        (status(f"+86{PHONE}", "LimitExceeded.PhoneNumberDailyLimit"), False),
        (status(f"+86{PHONE}", "InvalidParameterValue.IncorrectPhoneNumber"), True),
    ],
)
def test_provider_errors_become_sms_errors(
    fake_tencent: FakeTencent, answer: dict[str, object], permanent: bool, caplog: pytest.LogCaptureFixture
) -> None:
    fake_tencent.answers.append(answer)
    with caplog.at_level(logging.INFO), pytest.raises(SmsError) as exc:
        send_sms(Sms(phone=PHONE, template="phone_code", params={"code": "123456"}, text="验证码 123456"))
    assert exc.value.permanent is permanent
    assert PHONE not in caplog.text and "123456" not in caplog.text
    assert "139****5678" in caplog.text


def test_a_template_without_an_id_is_refused_without_a_request(fake_tencent: FakeTencent) -> None:
    with pytest.raises(SmsError) as exc:
        send_sms(Sms(phone=PHONE, template="vote_reminder", params={}))
    assert exc.value.permanent
    assert fake_tencent.requests == []


def test_an_unreachable_endpoint_may_be_tried_again(fake_tencent: FakeTencent, settings: Settings) -> None:
    settings.JXT_SMS_ENDPOINT = "http://127.0.0.1:9"  # discard: nothing listens
    with pytest.raises(SmsError) as exc:
        send_sms(Sms(phone=PHONE, template="phone_code", params={"code": "123456"}))
    assert not exc.value.permanent


def test_the_template_setting() -> None:
    assert parse_templates(" phone_code=11:code ; case_closed=12:what,link;bad;;x=") == {
        "phone_code": Template("11", ("code",)),
        "case_closed": Template("12", ("what", "link")),
    }
    assert template_params(Template("1"), {"b": "2", "a": "1"}) == ["2", "1"]
    with pytest.raises(SmsError):
        template_params(Template("1", ("code",)), {})
    assert is_permanent("InvalidParameterValue.TemplateParameterFormatError")
    assert not is_permanent("LimitExceeded.PhoneNumberOneHourLimit")
