"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2/.

Reads need no key, as the spec says, and show no personal data; a GET with an
``api_key`` is narrowed to the client's area. ``POST requests`` needs a valid
``api_key`` of a client allowed to write, and the location must resolve to an alley
inside the client's area: by ``address_id`` or ``attribute[alley]`` (the alley's unified
code), else by the one active alley of the area that ``address_string`` names
(``alleys.locate``). Alleys have no stored coordinates, so ``lat``/``long`` alone cannot
place a request: a 400 asks for the code, as one for an address naming no alley or
several does. The new case enters the state machine through ``case_submit`` like every
other source, with source ``open311``. The same request from the same client within
``JXT_OPEN311_REPEAT_SECONDS`` (a retry after a timeout) files nothing new: it gets the
first request's answer, 201 and the same body, with ``Idempotent-Replayed: true``.
Errors are the spec's array of ``code`` + ``description`` with status 400, 403, 404, 429
(too many wrong tracking codes) or 503 (the database is down), the last two with ``Retry-After``.

One id: every resource names a request by the case's public number (``serializers``).
The POST's answer adds the tracking code as ``token`` for the client that filed it;
``tokens/{token}`` turns that code into the number, and ``requests/{id}`` takes either,
always answering with the number.

Tracking codes are secrets, so every lookup by code (``requests/{code}``, ``tokens/{code}``)
spends the per-address budget of wrong codes that the residents' tracking and receipt pages
spend (``issues.public.limits.code_budget``); once an address has spent it, every code is
refused with a 429 (and ``Retry-After``), right codes too. Numbers are public: a lookup by
number is neither counted nor refused. ``requests.json?service_request_id=`` takes at most
``MAX_IDS`` numbers and no codes, so codes cannot be tested in bulk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, TextField
from django.db.models.fields.json import KT
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt

from alleys import reference
from alleys.choices import AreaLevel
from alleys.locate import alley_in_address
from alleys.models import Area
from core.site import site_url
from core.transient import DATABASE_UNAVAILABLE, drop_connection, retry_once
from dispatch.models import CategoryType
from issues.api.authentication import touch_client
from issues.choices import OPEN_STATES, CaseSource, CaseState, EventKind, Urgency
from issues.workflow import IntakeNote, TransitionError, TransitionForbidden, case_submit_once, stored

from ..models import ApiClient, Case, CaseEvent, CasePhoto, Submission
from ..public import limits
from ..public.selectors import normalize_code
from . import serializers as o311
from .renderers import FORMATS, render, render_errors

MAX_RESULTS = 1000
# service_request_id=1,2,… names at most this many requests (a client's refresh of its own).
MAX_IDS = 20
DEFAULT_SPAN = dt.timedelta(days=90)
# When the service list or its attribute definitions last changed, as the spec's W3C datetime.
# Category types keep no modification time, so this is bumped by hand with the definitions
# (``serializers.service_definition``) or a change of the services' shape.
CHANGESET = dt.datetime(2026, 11, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
CLOSED_STATES = sorted(set(CaseState.values) - set(OPEN_STATES))
# The key of the posted media_url in the intake note's data (read back by _public_cases).
POSTED_MEDIA_URL = "media_url"


class Open311Error(Exception):
    """A request that the spec answers with an error array."""

    def __init__(self, status: int, *descriptions: str, retry_after: int | None = None) -> None:
        super().__init__(*descriptions)
        self.status = status
        self.descriptions = descriptions
        self.retry_after = retry_after


def _fmt_or_error(fmt: str) -> HttpResponse | None:
    if fmt not in FORMATS:
        return render_errors("xml", 404, _("不支持的格式“%(fmt)s”，请使用 .xml 或 .json。") % {"fmt": fmt})
    return None


def _method_not_allowed(fmt: str, allowed: str) -> HttpResponse:
    response = render_errors(fmt, 405, _("不支持该请求方法。"))
    response["Allow"] = allowed
    return response


def _client(request: HttpRequest, *, required: bool) -> ApiClient | None:
    """The client of the ``api_key`` parameter; a missing key is fine for reads, an invalid one never."""
    params = request.POST if request.method == "POST" else request.GET
    raw = (params.get("api_key") or "").strip()
    if not raw:
        if required:
            raise Open311Error(403, _("缺少 api_key，无法提交诉求。"))
        return None
    client = ApiClient.authenticate(raw)
    if client is None:
        raise Open311Error(403, _("api_key 无效或已停用。"))
    touch_client(client)
    return client


def _handle(view: Any) -> Any:
    """Turns Open311Error into the spec's error response in the requested format."""

    def wrapped(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
        if (error := _fmt_or_error(fmt)) is not None:
            return error
        try:
            response: HttpResponse = view(request, fmt, **kwargs)
        except Open311Error as exc:
            response = render_errors(fmt, exc.status, *exc.descriptions)
            if exc.retry_after is not None:
                response["Retry-After"] = str(exc.retry_after)
        except DATABASE_UNAVAILABLE:
            # The database is down or restarting (a submission was already tried twice):
            # nothing was saved; the spec's error array tells the client to send it again.
            drop_connection()
            response = render_errors(fmt, 503, _("系统暂时繁忙，诉求尚未提交，请稍后重新提交。"))
            response["Retry-After"] = "30"
        return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    # The text boundary (core.middleware) refuses a NUL in the spec's error array.
    wrapped.text_refusal = _text_refusal  # type: ignore[attr-defined]
    return csrf_exempt(wrapped)


def _text_refusal(request: HttpRequest, view_kwargs: dict[str, Any], message: str) -> HttpResponse:
    return render_errors(str(view_kwargs.get("fmt", "xml")), 400, message)


# --- discovery and services ----------------------------------------------------------------------


@_handle
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """The service discovery document."""
    if request.method != "GET":
        return _method_not_allowed(fmt, "GET")
    data = {
        "changeset": o311.w3c(CHANGESET),
        "contact": _("街巷通平台管理员（请联系所在区委组织部）"),
        "key_service": _("API 密钥由平台管理员在后台“对接客户端”中为每个对接系统创建。"),
        "endpoints": [
            {
                "specification": o311.SPECIFICATION,
                "url": f"{site_url(request)}/open311/v2",
                "changeset": o311.w3c(CHANGESET),
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(data, fmt, root="discovery")


@_handle
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET services: the active category types."""
    if request.method != "GET":
        return _method_not_allowed(fmt, "GET")
    categories = CategoryType.objects.filter(is_active=True).select_related("category_class")
    return render([o311.service(c) for c in categories.order_by("sort_order", "code")], fmt, root="services")


@_handle
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    """GET services/{service_code}: its attributes."""
    if request.method != "GET":
        return _method_not_allowed(fmt, "GET")
    category = CategoryType.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise Open311Error(404, _("service_code“%(code)s”不存在。") % {"code": code})
    return render(o311.service_definition(category), fmt, root="service_definition")


# --- requests ---------------------------------------------------------------------------------------


@_handle
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET requests (query) and POST requests (create)."""
    if request.method == "POST":
        return _create(request, fmt)
    if request.method == "GET":
        return _query(request, fmt)
    return _method_not_allowed(fmt, "GET, POST")


def _public_cases(*, trusted: bool) -> QuerySet[Case]:
    """The cases as Open311 shows them: public photos prefetched; for keyed clients, the posted link.

    The ``media_url`` a client posted is kept in the staff-only intake note (``_create``); it
    is read in the cases' own query (a subquery per row, on the ``event_case_at`` index), so
    GET many runs the same number of queries whatever the number of cases.
    """
    public_photos = CasePhoto.objects.public().order_by("created_at", "id")
    cases = Case.objects.select_related(
        "category", "alley", "holder_area", "lead_department"
    ).prefetch_related(Prefetch("photos", queryset=public_photos, to_attr="public_photos"))
    if trusted:
        posted = (
            CaseEvent.objects.filter(
                case=OuterRef("pk"), kind=EventKind.NOTE, public=False, data__has_key=POSTED_MEDIA_URL
            )
            .order_by("at", "id")
            .values_list(KT(f"data__{POSTED_MEDIA_URL}"))[:1]
        )
        cases = cases.annotate(posted_media_url=Subquery(posted, output_field=TextField()))
    return cases


def _render_requests(cases: list[Case], fmt: str, *, trusted: bool) -> HttpResponse:
    addresses = o311.full_names({c.alley.code: c.alley for c in cases}.values())
    data = [o311.service_request(c, addresses=addresses, trusted=trusted) for c in cases]
    return render(data, fmt, root="service_requests")


def _number(text: str) -> int | None:
    """A request's number (digits), else None (then it is a tracking code, or nothing)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def _by_code(request: HttpRequest, cases: QuerySet[Case], code: str) -> Case | None:
    """The case of a tracking code, counted as the tracking page counts it (``limits.code_budget``):
    a miss spends the address's budget, and a spent budget refuses every code, right ones too."""
    if limits.code_budget.refused(request):
        raise _too_many_codes()
    case = cases.filter(tracking_code=normalize_code(code)).first()
    if case is None and limits.code_budget.miss(request):
        raise _too_many_codes()
    return case


def _too_many_codes() -> Open311Error:
    # Retry-After is the budget's window: no web process blocks an address longer.
    retry_after = limits.parse_rate(limits.code_budget.rate())[1]
    message = _("查询码输错次数太多，请 %(minutes)d 分钟后再试。") % {"minutes": -(-retry_after // 60)}
    return Open311Error(429, message, retry_after=retry_after)


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _moment(name: str, value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = parse_datetime(value.strip().replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None:
        raise Open311Error(
            400, _("%(name)s 须为 W3C 日期时间格式，例如 2026-03-01T00:00:00+08:00。") % {"name": name}
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _query(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.GET
    client = _client(request, required=False)
    cases = _public_cases(trusted=client is not None)
    if client is not None:
        cases = cases.filter(alley__code__startswith=client.area.code)
    ids = _csv(params.get("service_request_id"))
    if ids:
        # The spec: service_request_id overrides every other argument. Numbers only, and a few:
        # tracking codes are looked up one at a time, each counted (requests/{code}, tokens/{code}).
        if len(ids) > MAX_IDS:
            raise Open311Error(400, _("service_request_id 一次最多查询 %(n)d 个。") % {"n": MAX_IDS})
        numbers = [n for n in map(_number, ids) if n is not None]
        if len(numbers) < len(ids):
            raise Open311Error(
                400,
                _(
                    "service_request_id 只接受诉求编号（数字，逗号分隔）；查询码请用 tokens/{查询码} 换成编号。"
                ),
            )
        cases = cases.filter(pk__in=numbers)
        return _render_requests(
            list(cases.order_by("-created_at", "-id")[:MAX_RESULTS]), fmt, trusted=client is not None
        )
    codes = _csv(params.get("service_code"))
    if codes:
        cases = cases.filter(category__code__in=codes)
    start = _moment("start_date", params.get("start_date"))
    end = _moment("end_date", params.get("end_date"))
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        assert end is not None
        start = end - DEFAULT_SPAN
    elif end is None:
        end = start + DEFAULT_SPAN
    if end < start:
        raise Open311Error(400, _("end_date 不能早于 start_date。"))
    if end - start > DEFAULT_SPAN:
        raise Open311Error(400, _("查询时间跨度不能超过 90 天。"))
    cases = cases.filter(created_at__gte=start, created_at__lte=end)
    statuses = _csv(params.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, _("status 只能是 open 或 closed（可用逗号分隔）。"))
    if statuses and set(statuses) != {"open", "closed"}:
        cases = cases.filter(state__in=sorted(OPEN_STATES) if statuses[0] == "open" else CLOSED_STATES)
    return _render_requests(
        list(cases.order_by("-created_at", "-id")[:MAX_RESULTS]), fmt, trusted=client is not None
    )


def _attributes(params: Any) -> dict[str, str]:
    """``attribute[code]=value`` (and ``attribute[code][]=v`` for lists: the first value) as a dict."""
    out: dict[str, str] = {}
    for key in params:
        if key.startswith("attribute[") and key.endswith("]"):
            code = key[len("attribute[") : -1].removesuffix("][").removesuffix("]")
            out[code] = (params.get(key) or "").strip()
    return out


def _coordinate(name: str, value: str, limit: int) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise Open311Error(400, _("%(name)s 不是有效的数字。") % {"name": name}) from exc
    if not number.is_finite() or abs(number) > limit:
        raise Open311Error(400, _("%(name)s 超出范围。") % {"name": name})
    return number.quantize(Decimal("0.000001"))


def _active_category(code: str) -> CategoryType | None:
    """The active category type ``code`` with its class: the process's copy, else the database.

    The copy (``issues.public.selectors``, the residents' form's) is whole rows, as ``case_submit``
    needs; a code it does not know yet (a type added a moment ago elsewhere) is asked of the database.
    """
    from issues.public.selectors import report_categories

    category = report_categories().by_code.get(code)
    if category is not None:
        return category
    try:
        return CategoryType.objects.select_related("category_class").get(code=code, is_active=True)
    except CategoryType.DoesNotExist:
        return None


def _alley(address_id: str, address_string: str, *, within: str) -> Area:
    """The alley of a new request: its code (``address_id`` or ``attribute[alley]``), else the one
    alley its address names (``alleys.locate``); coordinates alone cannot place it (alleys have none).
    """
    if not address_id:
        located = alley_in_address(address_string, within=within)
        if located.alley is not None:
            return located.alley
        # The spec's wording first, so a client can recognise it, then ours.
        if not address_string:
            reason = _(
                "address_id required in this jurisdiction: 街巷没有登记坐标，无法按经纬度确定街巷。"
                "请用 address_id（或 attribute[alley]）提交 15 位街巷编码，或在 address_string 中写明街巷名称。"
            )
        elif located.named == 0:
            reason = _(
                "address_id required in this jurisdiction: address_string 中没有找到本客户端服务区域内的街巷名称。"
                "请用 address_id（或 attribute[alley]）提交 15 位街巷编码。"
            )
        else:
            reason = _(
                "address_id required in this jurisdiction: address_string 可能指 %(n)d 条街巷，"
                "请在地址中写明社区名称，或用 address_id（或 attribute[alley]）提交 15 位街巷编码。"
            ) % {"n": located.named}
        raise Open311Error(400, reason)
    # Areas are reference data (no query once read; an unknown code is always asked of the database).
    alley = reference.area_by_code(address_id)
    if alley is not None and not (alley.level == AreaLevel.ALLEY and alley.is_active):
        alley = None
    if alley is None or not alley.code.startswith(within):
        raise Open311Error(
            400, _("address_id“%(code)s”不是本客户端服务区域内的街巷编码。") % {"code": address_id}
        )
    return alley


def _reporter_name(first: str, last: str) -> str:
    if first.isascii() and last.isascii():
        return f"{first} {last}".strip()
    return f"{last}{first}"  # Chinese order: family name first


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.POST
    client = _client(request, required=True)
    assert client is not None
    if not client.can_write:
        raise Open311Error(403, _("该客户端没有提交诉求的权限。"))
    code = (params.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, _("缺少 service_code。"))
    category = _active_category(code)
    if category is None:
        raise Open311Error(404, _("service_code“%(code)s”不存在。") % {"code": code})
    attributes = _attributes(params)
    urgency = attributes.get("urgency") or Urgency.NORMAL
    if urgency not in Urgency.values:
        raise Open311Error(400, _("attribute[urgency] 只能是 normal 或 urgent。"))

    lat_text, long_text = (params.get("lat") or "").strip(), (params.get("long") or "").strip()
    if bool(lat_text) != bool(long_text):
        raise Open311Error(400, _("lat 和 long 必须同时提供。"))
    latitude = _coordinate("lat", lat_text, 90) if lat_text else None
    longitude = _coordinate("long", long_text, 180) if long_text else None
    address_string = (params.get("address_string") or "").strip()
    address_id = (params.get("address_id") or "").strip() or attributes.get("alley", "")
    if not (lat_text or address_string or address_id):
        raise Open311Error(400, _("必须提供位置：lat 与 long、address_string 或 address_id 之一。"))
    alley = _alley(address_id, address_string, within=client.area.code)

    description = (params.get("description") or "").strip()
    if len(description) > settings.JXT_MAX_DESCRIPTION:
        raise Open311Error(400, _("description 不能超过 %(n)d 个字。") % {"n": settings.JXT_MAX_DESCRIPTION})
    media_url = (params.get("media_url") or "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError as exc:
            raise Open311Error(400, _("media_url 不是有效的网址。")) from exc
        if len(media_url) > 500:
            raise Open311Error(400, _("media_url 太长。"))
    name = _reporter_name((params.get("first_name") or "").strip(), (params.get("last_name") or "").strip())
    phone = (params.get("phone") or "").strip()
    if len(name) > 50 or len(phone) > 20:
        raise Open311Error(400, _("姓名或电话太长。"))
    # ``email``, ``device_id`` and ``account_id`` are not kept: no workflow uses them (data minimisation).
    data: dict[str, Any] = {"api_client_id": client.pk, "api_client": client.name}
    if media_url:
        data[POSTED_MEDIA_URL] = media_url
    note = IntakeNote(
        # The staff's timeline, in the site's language whatever the client's Accept-Language.
        note=stored(gettext_noop("经对接客户端“%(name)s”（Open311）提交。"), name=client.name)
        + (stored(gettext_noop("附件链接：%(url)s"), url=media_url) if media_url else ""),
        label=client.name,
        data=data,
    )
    key = _repeat_key(request, client)
    within = dt.timedelta(seconds=settings.JXT_OPEN311_REPEAT_SECONDS)
    try:
        # The client's note and the repeat key are written in the case's transaction.
        submitted = retry_once(
            lambda: case_submit_once(
                key=key,
                within=within,
                category=category,
                alley=alley,
                description=description,
                source=CaseSource.OPEN311,
                reporter_name=name,
                reporter_phone=phone,
                address_detail=address_string[:200],
                latitude=latitude,
                longitude=longitude,
                urgency=urgency,
                intake_note=note,
            ),
            what=f"Open311 request of client {client.pk}",
        )
    except TransitionError as exc:
        raise Open311Error(403 if isinstance(exc, TransitionForbidden) else 400, exc.message) from exc
    case = submitted.case
    # The request's public number, the id every GET names it by; the tracking code only here,
    # for the client that filed it (the spec's token, and the notice that names it).
    body = [
        {
            "service_request_id": str(case.pk),
            "token": case.tracking_code,
            "service_notice": o311.service_notice(case),
            "account_id": None,
        }
    ]
    response = render(body, fmt, root="service_requests", status=201)
    if submitted.repeat:
        # The first answer again, status included (a client that retried after a timeout sees
        # its request filed), marked as Stripe's API marks a replayed idempotent request.
        response["Idempotent-Replayed"] = "true"
    return response


def _repeat_key(request: HttpRequest, client: ApiClient) -> str:
    """``open311:<client>:<sha256 of the request>``: what makes two POSTs "the same request".

    The request is its parameters but ``api_key`` (sorted, every value of each) and any files
    (names and contents); the client's key is the client, named by its number instead.
    """
    digest = hashlib.sha256()
    params = sorted((name, request.POST.getlist(name)) for name in request.POST if name != "api_key")
    digest.update(json.dumps(params, ensure_ascii=False).encode())
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            digest.update(json.dumps(["file", name, upload.name, upload.size]).encode())
            for chunk in upload.chunks():
                digest.update(chunk)
    key = f"open311:{client.pk}:{digest.hexdigest()}"
    return key[: Submission._meta.get_field("key").max_length]


@_handle
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    """GET requests/{service_request_id}: by number, or by tracking code (counted in the budget)."""
    if request.method != "GET":
        return _method_not_allowed(fmt, "GET")
    client = _client(request, required=False)
    cases = _public_cases(trusted=client is not None)
    if client is not None:
        cases = cases.filter(alley__code__startswith=client.area.code)
    number = _number(request_id)
    # A number is public: a miss on one tells nothing and is not counted. Anything else is a
    # tracking code (one made only of digits, about one in 50,000, is read through tokens/).
    case = cases.filter(pk=number).first() if number is not None else _by_code(request, cases, request_id)
    if case is None:
        raise Open311Error(404, _("service_request_id“%(id)s”不存在。") % {"id": request_id})
    return _render_requests([case], fmt, trusted=client is not None)


@_handle
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    """GET tokens/{token}: our requests are realtime, so a token is the request's own tracking code.

    The answer names the request by its number, the id every other resource uses.
    """
    if request.method != "GET":
        return _method_not_allowed(fmt, "GET")
    case = _by_code(request, Case.objects.only("pk"), token)
    if case is None:
        raise Open311Error(404, _("token“%(token)s”不存在。") % {"token": token})
    return render([{"service_request_id": str(case.pk), "token": token}], fmt, root="service_requests")
