"""SMS through a provider: Tencent Cloud SMS (API 2021-01-11) with its official Python SDK.

Set ``JXT_SMS_BACKEND=core.sms_providers.TencentSmsBackend`` and, from the environment
(config/settings.py reads them):

- ``JXT_SMS_TENCENT_SECRET_ID`` / ``JXT_SMS_TENCENT_SECRET_KEY``: a CAM key allowed ``sms:SendSms``;
- ``JXT_SMS_TENCENT_APP_ID``: the SMS application's SdkAppId;
- ``JXT_SMS_SIGN_NAME``: the approved signature (e.g. 街巷通);
- ``JXT_SMS_REGION`` (``ap-guangzhou``) and ``JXT_SMS_ENDPOINT`` (``https://sms.tencentcloudapi.com``;
  the tests point it at a local ``http://`` fake);
- ``JXT_SMS_TEMPLATES``: our template names to the provider's approved template ids, and which of
  the message's parameters fill the template's ``{1}``, ``{2}``… in order, separated by ``;``:
  ``phone_code=1234567:code;case_accepted=1234568:what,link;…``. Without a ``:`` list the
  parameters go in the order the product gives them (``core.sms.Sms.params``).

The product's names: ``phone_code`` (code), ``case_accepted``, ``case_escalated``,
``case_resolved``, ``case_closed`` (what, link). A name with no template id is refused
permanently (a configuration error, not a reason to try again).

Errors become ``core.sms.SmsError``: ``permanent`` for what sending again cannot cure (a number
the provider calls wrong or blocked, a template or signature it does not know); anything else
(its rate limits, its outages, the network) may be tried again later. Nothing here logs the
number or the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from .sms import Sms, SmsError

# Codes (whole, or the part before the first dot) after which the same message will never go.
PERMANENT_CODES = frozenset(
    {
        "InvalidParameter",
        "InvalidParameterValue",
        "MissingParameter",
        "UnsupportedOperation",
        "UnauthorizedOperation",
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.SignatureIncorrectOrUnapproved",
        "FailedOperation.MissingTemplateToModify",
    }
)


@dataclass(frozen=True)
class Template:
    """A provider template: its id and which of our parameters fill it, in order (empty: all, as given)."""

    template_id: str
    params: tuple[str, ...] = ()


def parse_templates(raw: str) -> dict[str, Template]:
    """``name=id[:param,param];…`` (``JXT_SMS_TEMPLATES``) as {name: Template}; blanks ignored."""
    templates: dict[str, Template] = {}
    for item in (raw or "").split(";"):
        name, _sep, rest = item.strip().partition("=")
        if not name or not rest:
            continue
        template_id, _colon, names = rest.partition(":")
        params = tuple(p.strip() for p in names.split(",") if p.strip())
        templates[name.strip()] = Template(template_id.strip(), params)
    return templates


def is_permanent(code: str) -> bool:
    """Whether a provider error code means sending again cannot help."""
    return code in PERMANENT_CODES or code.split(".", 1)[0] in PERMANENT_CODES


def template_params(template: Template, params: Mapping[str, str]) -> list[str]:
    """The values for the template's ``{1}``, ``{2}``…; a missing one is a permanent error."""
    names = template.params or tuple(params)
    missing = [name for name in names if name not in params]
    if missing:
        raise SmsError(f"template parameters missing: {', '.join(missing)}", permanent=True)
    return [str(params[name]) for name in names]


class TencentSmsBackend:
    """Sends each message with Tencent Cloud's ``SendSms`` (one number per call)."""

    def __init__(self) -> None:
        endpoint = urlsplit(settings.JXT_SMS_ENDPOINT)
        http = HttpProfile(
            protocol=endpoint.scheme or "https",
            endpoint=endpoint.netloc or endpoint.path,
            reqTimeout=settings.JXT_SMS_TIMEOUT_SECONDS,
        )
        self.client = sms_client.SmsClient(
            credential.Credential(settings.JXT_SMS_TENCENT_SECRET_ID, settings.JXT_SMS_TENCENT_SECRET_KEY),
            settings.JXT_SMS_REGION,
            ClientProfile(httpProfile=http),
        )
        self.templates = parse_templates(settings.JXT_SMS_TEMPLATES)

    def send(self, sms: Sms) -> str:
        template = self.templates.get(sms.template)
        if template is None or not template.template_id:
            raise SmsError(f"no provider template for {sms.template!r} (JXT_SMS_TEMPLATES)", permanent=True)
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{sms.phone}"]
        request.SmsSdkAppId = settings.JXT_SMS_TENCENT_APP_ID
        request.SignName = settings.JXT_SMS_SIGN_NAME
        request.TemplateId = template.template_id
        request.TemplateParamSet = template_params(template, sms.params)
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            code = str(exc.get_code() or "")
            # The SDK's message can quote the request; only the code and the request id are kept.
            raise SmsError(
                f"tencent {code} (request {exc.get_request_id() or '-'})", permanent=is_permanent(code)
            ) from None
        statuses = response.SendStatusSet or []
        if not statuses:
            raise SmsError("tencent answered without a send status")
        status = statuses[0]
        if status.Code != "Ok":
            code = str(status.Code or "")
            raise SmsError(f"tencent {code}", permanent=is_permanent(code))
        return str(status.SerialNo or response.RequestId or "")
