"""The residents' pages: landing, report (via the alley's QR code), tracking and feedback, the public board.

No login, no JavaScript needed, Simplified Chinese. Writes go through the state machine
(``issues.workflow``). Every refusal — a bad field, a too-large request, a rate limit, an
expired page — redisplays the form with what the resident typed and a message saying
what to do; nothing here answers with a bare 400/403/500 page.

The two views that accept POSTs are ``csrf_exempt`` and check CSRF themselves, after the
request body has been read: that is the only way to (a) put the photo-limit upload
handler in front of Django's parser and (b) answer an oversized request or an expired
token with the form instead of Django's error page. Neither writes anything before the
check passes.

Each rendering of the report form carries a one-time token (``forms.SUBMISSION_FIELD``),
kept through every redisplay of that form. A post whose token already filed a case — a
double tap, a reload, a back-and-resubmit — is answered with that case's receipt and a
notice, before its photos are decoded or the limits counted: it files nothing, so it costs
the resident nothing. ``case_submit_once`` writes the token's key with the case, so a twin
that slips past that first look (two taps reaching two processes at once) is still one case.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe
from PIL import Image

from alleys.choices import AreaLevel
from alleys.models import Area
from core.middleware import clean_request_body, reads_own_body
from core.phones import mask_number
from core.photos import thumbnail
from core.site import site_url
from core.text import NUL_MESSAGE
from core.transient import DATABASE_UNAVAILABLE, drop_connection, retry_once
from dispatch.models import CategoryType
from issues import duplicates
from issues.choices import CaseSource
from issues.models import Case, CasePhoto
from issues.workflow import (
    Submitted,
    TransitionError,
    case_feedback,
    case_submit,
    case_submit_once,
    submitted_case,
)
from participation.deliberation import open_topic_count
from participation.notices import notices_for
from participation.phones import verified_phone
from participation.supervision import alley_supervision
from participation.views import verify_url

from . import limits, selectors
from .forms import (
    HONEYPOT,
    OTHER,
    SUBMISSION_FIELD,
    FeedbackForm,
    ReportForm,
    new_submission_token,
    submission_key,
    submission_token,
)
from .uploads import PhotoLimitHandler

# The SVG symbols in static/public/icons.svg; a category with another icon name gets "other".
ICONS = frozenset(
    {
        "lamp",
        "drain",
        "trash",
        "dispute",
        "shop",
        "parking",
        "noise",
        "fire",
        "water",
        "road",
        "tree",
        "other",
    }
)
THUMB_SIDE = selectors.THUMB_SIDE
# Wrong phone digits per case before the feedback form locks for the window (4 digits are guessable).
FEEDBACK_GUESS_RATE = "5/h"
FEEDBACK_IP_RATE = "30/h"
# Wrong tracking codes per address: a resident mistypes a few; a script guessing codes (to
# read progress or to rate other people's cases) makes thousands. Over it, the address is
# refused every tracking page, right codes too, until its window ends.


def _rate(name: str, default: str) -> str:
    return str(getattr(settings, name, default))


def _csrf_failed(request: HttpRequest) -> bool:
    """Django's own CSRF check, run after the body was read (see the module docstring)."""

    def probe(_request: HttpRequest) -> HttpResponse:  # never called; only "not exempt" matters
        raise AssertionError

    return CsrfViewMiddleware(probe).process_view(request, probe, (), {}) is not None


def _not_found(request: HttpRequest, *, what: str) -> HttpResponse:
    return render(request, "public/not_found.html", {"what": what}, status=404)


def _too_many_lookups(request: HttpRequest) -> HttpResponse:
    return render(request, "public/not_found.html", {"what": "too_many"}, status=429)


def _icon(name: str) -> str:
    return name if name in ICONS else "other"


# --- landing and finding an alley ----------------------------------------------------------


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: report, track, the board, find your alley."""
    return render(request, "public/home.html", {"nav": "home"})


def _area_link(area: Area, purpose: str) -> str:
    """Where choosing ``area`` leads: the next step of the finder, or the page the resident came for."""
    if purpose == "board" and area.level != AreaLevel.DISTRICT:
        return f"{reverse('public-board')}?area={area.code}"
    if area.level == AreaLevel.STREET:
        return f"?street={area.code}"
    if area.level == AreaLevel.COMMUNITY:
        return f"?community={area.code}"
    if purpose == "report":
        return reverse("alley-short", kwargs={"code": area.code})
    return reverse("public-alley", kwargs={"code": area.code})


def _finder(request: HttpRequest, *, purpose: str) -> dict[str, Any]:
    step = selectors.finder_step(
        street=request.GET.get("street", ""),
        community=request.GET.get("community", ""),
        query=request.GET.get("q", ""),
    )
    groups = [
        (heading.name if heading else "", [(a.name, _area_link(a, purpose)) for a in items])
        for heading, items in step.groups
    ]
    crumbs = [(a.name, _area_link(a, "finder")) for a in step.chain if a.level == AreaLevel.STREET]
    return {
        "step": step,
        "groups": groups,
        "crumbs": crumbs,
        "purpose": purpose,
        "searched": bool(step.query),
    }


@require_safe
def report_start(request: HttpRequest) -> HttpResponse:
    """Choose the alley (street → community → alley, or by name), then the form."""
    return render(request, "public/finder.html", {**_finder(request, purpose="report"), "nav": "report"})


@require_safe
def alley_find(request: HttpRequest) -> HttpResponse:
    """Find an alley's public page."""
    return render(request, "public/finder.html", {**_finder(request, purpose="alley"), "nav": "alley"})


# --- the report form -----------------------------------------------------------------------


def _error_summary(form: ReportForm | FeedbackForm) -> list[tuple[str, str]]:
    """(anchor, message) for every error, for the summary box at the top of the form."""
    items: list[tuple[str, str]] = [("", str(e)) for e in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        anchor = f"field-{name}"
        items.extend((anchor, str(e)) for e in errors)
    return items


def _form_context(form: ReportForm) -> dict[str, Any]:
    return {
        "form": form,
        "SUBMISSION_FIELD": SUBMISSION_FIELD,
        "common": [
            {"id": str(c.pk), "name": c.name, "icon": _icon(c.icon), "needs_contact": c.needs_contact}
            for c in form.common
        ],
        "other": [{"id": str(c.pk), "name": c.name, "needs_contact": c.needs_contact} for c in form.other],
        "contact_names": "、".join(c.name for c in (*form.common, *form.other) if c.needs_contact),
        "OTHER": OTHER,
        "max_photos": settings.JXT_MAX_PHOTOS,
        "max_photo_bytes": settings.JXT_MAX_PHOTO_BYTES,
        "max_photo_mb": settings.JXT_MAX_PHOTO_BYTES // 1024 // 1024,
        "max_description": settings.JXT_MAX_DESCRIPTION,
        "errors": _error_summary(form) if form.is_bound else [],
    }


def _render_report(
    request: HttpRequest,
    alley: Area,
    form: ReportForm,
    *,
    once: str,
    status: int = 200,
    notice: str = "",
    repick: bool = False,
    seen: tuple[CategoryType, list[Case]] | None = None,
    located: bool = False,
) -> HttpResponse:
    try:
        # The board (one query) only when the form is shown: a successful post just redirects.
        board = selectors.alley_board(alley)
    except DATABASE_UNAVAILABLE:
        if status != 503:
            raise
        # The database is what failed: the form and the resident's text matter, the team's names can wait.
        drop_connection()
        board = None
    context = {
        "board": board,
        "alley": alley,
        "notice": notice,
        "repick": repick or form.repick_photos,
        "once": once,
        "nav": "report",
        # "Already reported?": the category whose open cases were shown, and those cases.
        "seen_category": seen[0] if seen else None,
        "duplicates": seen[1] if seen else [],
        "duplicate_days": duplicates.window_days(),
        "duplicate_meters": duplicates.radius_m(),
        "duplicates_located": located,
        "DUPLICATES_SEEN": DUPLICATES_SEEN,
        **_form_context(form),
    }
    return render(request, "public/report_form.html", context, status=status)


# The category whose open cases the resident was shown ("already reported?"): posted by the
# form shown after the check, so that category's report files without asking again.
DUPLICATES_SEEN = "duplicates_seen"


def _category_initial(categories: selectors.ReportCategories, category: CategoryType) -> dict[str, str]:
    """The form's initial choice for ``category``: its tile, or "other" and the list."""
    if str(category.pk) in categories.common_ids:
        return {"category": str(category.pk)}
    return {"category": OTHER, "other_category": str(category.pk)}


def _over_ip_limit(
    request: HttpRequest, alley: Area, form: ReportForm, *, once: str, repick: bool
) -> HttpResponse:
    return _render_report(
        request,
        alley,
        form,
        once=once,
        status=429,
        notice=_("提交太频繁了，请过一段时间（约一小时）再提交。您填写的内容还在。"),
        repick=repick,
    )


def _kept_values(request: HttpRequest) -> dict[str, str]:
    """What the resident typed, for a form shown again without validating it."""
    return {k: str(v) for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", HONEYPOT)}


def _filed_earlier(key: str) -> Case | None:
    """The case this form's key already filed, if any; None when the database cannot say.

    The database being down is not the resident's fault: the submission goes on, and the
    write (which checks the key again) retries or keeps the form with the same token.
    """
    try:
        return submitted_case(key=key)
    except DATABASE_UNAVAILABLE:
        drop_connection()
        return None


def _receipt_again(request: HttpRequest, case: Case) -> HttpResponse:
    """The receipt of the case a repeated form already filed, with a word on why it is not new."""
    messages.info(request, _("您已提交过这条反映，以下是它的查询码。"))
    return redirect("public-report-done", code=case.tracking_code)


@reads_own_body
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def alley_report(request: HttpRequest, code: str) -> HttpResponse:
    """The form at the alley's short URL (what its QR code opens): the alley is pre-set and shown by name.

    A building's code (its own QR code, where the community has buildings) opens its alley's form
    with the building chosen; the building stays optional and changeable.
    """
    place = selectors.find_place(code)
    if place is None:
        return _not_found(request, what="alley")
    alley, from_building = place
    categories = selectors.report_categories()
    buildings = selectors.buildings_of(alley)

    def fresh_form(**kwargs: Any) -> ReportForm:
        if from_building is not None and "data" not in kwargs:
            kwargs["initial"] = {"building": from_building.code, **kwargs.get("initial", {})}
        return ReportForm(categories=categories, buildings=buildings, **kwargs)

    if request.method != "POST":
        # "Already reported?" before anything is typed or photographed: the check is a GET
        # (?category=), so it works without JavaScript and no photo has to be chosen twice.
        chosen = categories.by_id.get(request.GET.get("category", ""))
        if chosen is None:
            return _render_report(request, alley, fresh_form(), once=new_submission_token())
        return _render_report(
            request,
            alley,
            fresh_form(initial=_category_initial(categories, chosen)),
            once=new_submission_token(),
            seen=(chosen, duplicates.candidates(alley, chosen, timezone.now())),
        )

    handler = PhotoLimitHandler(
        request, max_files=settings.JXT_MAX_PHOTOS, max_bytes=settings.JXT_MAX_PHOTO_BYTES
    )
    request.upload_handlers.insert(0, handler)
    try:
        request.POST  # noqa: B018 -- reading the body here is what can fail
        request.FILES  # noqa: B018
    except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
        # The body was not read, nor its token: the form comes back with a new one.
        return _render_report(
            request,
            alley,
            fresh_form(),
            once=new_submission_token(),
            status=413,
            notice=_("提交的内容太多，没能收到。请把问题描述写短一些，照片少选几张，再提交一次。"),
            repick=True,
        )
    except MultiPartParserError:
        return _render_report(
            request,
            alley,
            fresh_form(),
            once=new_submission_token(),
            status=400,
            notice=_("提交没有完整收到，请检查网络后再提交一次。"),
        )
    # A NUL is refused beside its field, with everything else the resident typed kept.
    nul_field = clean_request_body(request, strip_nul=True)
    kept = _kept_values(request)
    had_photos = bool(request.FILES) or handler.skipped
    # Every redisplay keeps the token, so the corrected submission is still one case; a
    # malformed one is replaced (the form it came from had none of ours).
    token = submission_token(request.POST)
    once = token or new_submission_token()
    if _csrf_failed(request):
        return _render_report(
            request,
            alley,
            fresh_form(initial=kept),
            once=once,
            status=403,
            notice=_("这个页面打开太久已过期。您填写的内容还在，请再点一次“提交”。"),
            repick=had_photos,
        )
    key = submission_key(token) if token else None
    if key is not None and (earlier := _filed_earlier(key)) is not None:
        return _receipt_again(request, earlier)
    ip_check = ("public-report-ip", limits.client_ip(request), _rate("JXT_REPORT_RATE_IP", "10/h"))
    # With photos, an address over its limit is refused before they are decoded (the costly
    # part). Without, the (cheap) form is checked first, and the address and the phone are
    # then counted in one round trip to the cache; the answers keep the same precedence:
    # the address's limit, the honeypot, the fields, the phone's limit.
    ip_over = limits.hit(*ip_check) if had_photos else None
    if ip_over:
        return _over_ip_limit(request, alley, fresh_form(initial=kept), once=once, repick=had_photos)
    honeypot = bool(request.POST.get(HONEYPOT))
    form = fresh_form(
        data=request.POST,
        files=request.FILES,
        skipped_photos=handler.too_big,
        skipped_count=handler.too_many,
    )
    if nul_field is not None:
        form.add_error(nul_field if nul_field in form.fields else None, str(NUL_MESSAGE))
    valid = not honeypot and form.is_valid()
    phone: str = form.cleaned_data["reporter_phone"] if valid else ""
    phone_check = ("public-report-phone", phone, _rate("JXT_REPORT_RATE_PHONE", "5/h"))
    if ip_over is None:
        over = limits.hit_many([ip_check, phone_check] if phone else [ip_check])
        if over[0]:
            return _over_ip_limit(request, alley, fresh_form(initial=kept), once=once, repick=had_photos)
        phone_over = phone != "" and over[-1]
    else:
        phone_over = phone != "" and limits.hit(*phone_check)
    if honeypot:
        # A robot filled the field people never see; say little, keep the values for a human.
        return _render_report(
            request,
            alley,
            fresh_form(initial=kept),
            once=once,
            status=400,
            notice=_("提交没有成功，请检查后再提交一次。"),
            repick=had_photos,
        )
    if not valid:
        # A resident who checked for duplicates keeps that answer while correcting a field.
        seen = categories.by_id.get(request.POST.get(DUPLICATES_SEEN, ""))
        found = duplicates.candidates(alley, seen, timezone.now()) if seen is not None else []
        return _render_report(request, alley, form, once=once, seen=(seen, found) if seen else None)
    data = form.cleaned_data
    if phone_over:
        return _render_report(
            request,
            alley,
            form,
            once=once,
            status=429,
            notice=_("这个手机号码提交太频繁了，请过一段时间（约一小时）再提交。您填写的内容还在。"),
        )
    assert form.category_obj is not None  # a valid form has one
    if request.POST.get(DUPLICATES_SEEN) != str(form.category_obj.pk):
        # Not yet asked about this category: if the alley has open cases of it, ask first. The
        # form comes back as typed, with its token (photos must be chosen again: browsers never
        # refill a file input, hence the check by GET above the form).
        near = duplicates.location_of(data.get("latitude"), data.get("longitude"))
        found = duplicates.candidates(alley, form.category_obj, timezone.now(), near=near)
        if found:
            return _render_report(
                request,
                alley,
                form,
                once=once,
                notice=_("这条街巷最近已有人反映同类问题，请先看看下面是不是同一件事。您填写的内容还在。"),
                repick=had_photos,
                seen=(form.category_obj, found),
                located=near is not None,
            )
    fields: dict[str, Any] = {
        "category": form.category_obj,
        "alley": alley,
        "building": form.building_obj,
        "description": data["description"],
        "source": CaseSource.RESIDENT_FORM,
        "reporter_name": data["reporter_name"],
        "reporter_phone": phone,
        "address_detail": data["address_detail"],
        "latitude": data["latitude"],
        "longitude": data["longitude"],
        "photos": form.cleaned_photos,
        "consent": bool(data["consent"]),
        "sms_opt_in": bool(data["sms_opt_in"]),
    }

    def submit() -> Submitted:
        # With the key, a retry after a connection lost past the commit finds the case the first
        # attempt filed instead of filing it twice (the edge core/transient.py describes).
        if key is None:
            return Submitted(case=case_submit(**fields, now=timezone.now()), repeat=False)
        return case_submit_once(key=key, **fields, now=timezone.now())

    try:
        submitted = retry_once(submit, what=f"resident's report for alley {alley.code}")
    except TransitionError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return _render_report(request, alley, form, once=once)
    except DATABASE_UNAVAILABLE:
        # Nothing was saved (the service is one transaction), or the commit's answer was what
        # got lost: the form keeps its token, so the next tap files once or finds that case.
        # The bound form shows every field as typed; a browser never refills a file input,
        # hence the photo note.
        response = _render_report(
            request,
            alley,
            form,
            once=once,
            status=503,
            notice=_(
                "系统暂时繁忙，您的反映尚未提交。已填写的内容已保留，请稍后再点提交（照片需要重新选择）。"
            ),
            repick=had_photos,
        )
        response["Retry-After"] = "30"
        return response
    if submitted.repeat:
        return _receipt_again(request, submitted.case)
    return redirect("public-report-done", code=submitted.case.tracking_code)


@never_cache
@require_safe
def report_done(request: HttpRequest, code: str) -> HttpResponse:
    """The tracking code to keep: copy, print, follow."""
    if limits.code_budget.refused(request):
        return _too_many_lookups(request)
    case = selectors.find_case(code)
    if case is None:
        if limits.code_budget.miss(request):
            return _too_many_lookups(request)
        return _not_found(request, what="case")
    track_url = request.build_absolute_uri(reverse("public-track-case", kwargs={"code": case.tracking_code}))
    return render(
        request,
        "public/report_done.html",
        {"case": case, "track_url": track_url, "unit": selectors.handling_unit(case), "nav": "report"},
    )


# --- tracking and feedback -----------------------------------------------------------------


@require_safe
def track(request: HttpRequest) -> HttpResponse:
    """Enter a tracking code (the form submits by GET, so it works without JavaScript)."""
    raw = request.GET.get("code", "")
    if raw.strip():
        code = selectors.normalize_code(raw)
        if code and len(code) <= 12 and code.isalnum():
            return HttpResponseRedirect(reverse("public-track-case", kwargs={"code": code}))
        return _not_found(request, what="case")
    return render(request, "public/track.html", {"nav": "track"})


def _render_track(
    request: HttpRequest,
    case: Case,
    form: FeedbackForm | None = None,
    *,
    status: int = 200,
    notice: str = "",
) -> HttpResponse:
    progress = selectors.case_progress(case)
    needs_phone = bool(case.reporter_phone)
    if progress.feedback_open and form is None:
        form = FeedbackForm(needs_phone=needs_phone)
    context = {
        "case": case,
        "progress": progress,
        "form": form if progress.feedback_open else None,
        "needs_phone": needs_phone,
        "errors": _error_summary(form) if form is not None and form.is_bound else [],
        "notice": notice,
        "max_comment": settings.JXT_MAX_DESCRIPTION,
        "nav": "track",
    }
    return render(request, "public/track_case.html", context, status=status)


def _phone_matches(case: Case, digits: str) -> bool:
    if not case.reporter_phone:
        return True
    return secrets.compare_digest(case.reporter_phone[-4:], digits)


@reads_own_body
@csrf_exempt
@never_cache  # the lights change; the back button must not show yesterday's state
@require_http_methods(["GET", "HEAD", "POST"])
def track_case(request: HttpRequest, code: str) -> HttpResponse:
    """A case's lights, deadline, handling unit, public timeline and photos; feedback when it is done."""
    if limits.code_budget.refused(request):
        return _too_many_lookups(request)
    case = selectors.find_case(code)
    if case is None:
        if limits.code_budget.miss(request):
            return _too_many_lookups(request)
        return _not_found(request, what="case")
    if selectors.normalize_code(code) != code:
        return redirect("public-track-case", code=case.tracking_code)
    if request.method != "POST":
        return _render_track(request, case)

    try:
        request.POST  # noqa: B018
    except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, MultiPartParserError):
        return _render_track(request, case, status=413, notice=_("提交的内容太多，请把意见写短一些再提交。"))
    nul_field = clean_request_body(request, strip_nul=True)
    needs_phone = bool(case.reporter_phone)
    form = FeedbackForm(data=request.POST, needs_phone=needs_phone)
    if nul_field is not None:
        form.add_error(nul_field if nul_field in form.fields else None, str(NUL_MESSAGE))
    if _csrf_failed(request):
        kept = FeedbackForm(initial=_kept_values(request), needs_phone=needs_phone)
        return _render_track(
            request, case, kept, status=403, notice=_("这个页面打开太久已过期。请再点一次“提交评价”。")
        )
    if limits.hit(
        "public-feedback-ip", limits.client_ip(request), _rate("JXT_FEEDBACK_RATE_IP", FEEDBACK_IP_RATE)
    ):
        return _render_track(
            request, case, form, status=429, notice=_("提交太频繁了，请过一段时间（约一小时）再试。")
        )
    if not form.is_valid():
        return _render_track(request, case, form)

    def wrong_guesses(*, add_one: bool) -> limits.Usage | None:
        """Wrong phone digits for this case in the current window (a rate of "5/h" locks after five)."""
        return limits.usage(
            "public-feedback-guess",
            case.tracking_code,
            _rate("JXT_FEEDBACK_GUESS_RATE", FEEDBACK_GUESS_RATE),
            add_one=add_one,
        )

    usage = wrong_guesses(add_one=False) if needs_phone else None
    if usage is not None and usage.reached:
        return _render_track(
            request,
            case,
            form,
            status=429,
            notice=_("手机号码后 4 位输错次数太多，请一小时后再试，或联系社区工作人员。"),
        )
    if not _phone_matches(case, form.cleaned_data["phone_last4"]):
        wrong_guesses(add_one=True)
        form.add_error("phone_last4", _("手机号码后 4 位不对，请填写您反映问题时留下的号码。"))
        return _render_track(request, case, form)
    try:
        case_feedback(
            case=case,
            solved=form.cleaned_data["solved"],
            satisfaction=form.cleaned_data["satisfaction"],
            comment=form.cleaned_data["comment"],
            now=timezone.now(),
        )
    except TransitionError as exc:
        field = exc.field if exc.field in form.fields else None
        if field:
            form.add_error(field, exc.message)
            return _render_track(request, case, form)
        return _render_track(request, case, status=409, notice=exc.message)
    messages.success(request, _("感谢您的评价！"))
    return redirect("public-track-case", code=case.tracking_code)


# --- the public board ----------------------------------------------------------------------


@require_safe
def board(request: HttpRequest) -> HttpResponse:
    """Recent cases and counts of a street, community or alley, anonymised."""
    code = request.GET.get("area", "").strip()
    if code:
        area = selectors.find_board_area(code)
        if area is None:
            return render(
                request,
                "public/finder.html",
                {
                    **_finder(request, purpose="board"),
                    "notice": _("没有找到这个区域，请重新选择。"),
                    "nav": "board",
                },
                status=404,
            )
        data = selectors.public_board(area)
        return render(request, "public/board.html", {"board": data, "nav": "board", "icons": ICONS})
    return render(request, "public/finder.html", {**_finder(request, purpose="board"), "nav": "board"})


# --- 我的反映: the cases of a verified number --------------------------------------------------

MINE_PER_PAGE = 20


@never_cache
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    """Every case filed with the number this session verified (``participation.phones``), newest first.

    Without a verified number (or once it has lapsed) the page explains and links to the
    verification, which comes back here. Three queries for any number of cases: the session,
    the count and the page.
    """
    phone = verified_phone(request)
    context: dict[str, Any] = {"nav": "mine"}
    if phone is None:
        context["verify_url"] = verify_url(reverse("public-mine"))
        return render(request, "public/mine.html", context)
    page = Paginator(selectors.cases_of_phone(phone), MINE_PER_PAGE).get_page(request.GET.get("page"))
    context.update(page=page, masked=mask_number(phone))
    return render(request, "public/mine.html", context)


# --- the alley's public page and poster -------------------------------------------------------


@require_safe
def alley_page(request: HttpRequest, code: str) -> HttpResponse:
    """The alley's responsibility board (公示牌): team, office hours, convention, QR code."""
    alley = selectors.find_alley(code)
    if alley is None:
        return _not_found(request, what="alley")
    now = timezone.now()
    context = {
        "board": selectors.alley_board(alley),
        "supervision": alley_supervision(alley),  # the 群众监督清单 section: three queries
        "nav": "alley",
        "notices": notices_for(alley, now=now),
        "open_topics": open_topic_count(alley, now=now),
    }
    return render(request, "public/alley.html", context)


@require_safe
def alley_poster(request: HttpRequest, code: str) -> HttpResponse:
    """The A4 poster for the alley entrance: a big QR code and the board."""
    alley = selectors.find_alley(code)
    if alley is None:
        return _not_found(request, what="alley")
    board_data = selectors.alley_board(alley)
    report_url = f"{site_url(request)}{reverse('alley-short', kwargs={'code': alley.code})}"
    return render(request, "public/poster.html", {"board": board_data, "report_url": report_url})


# --- public photos ------------------------------------------------------------------------------


def _thumbnail(photo: CasePhoto) -> str:
    """The small copy for lists: written by the processing task (issues.photos); made here once for older photos."""
    if photo.thumbnail:
        return str(photo.thumbnail.name)
    name = f"thumbs/{photo.pk}-{THUMB_SIDE}.jpg"
    if default_storage.exists(name):
        return name
    with photo.image.open("rb") as source:
        small = thumbnail(source.read(), THUMB_SIDE)
    return default_storage.save(name, ContentFile(small))


@require_safe
@cache_control(public=True, max_age=600)
def public_photo(request: HttpRequest, pk: int, size: str = "full") -> FileResponse:
    """A processed photo staff marked public (every other photo answers 404, like a missing one)."""
    photo = CasePhoto.objects.public().filter(pk=pk).only("id", "image", "thumbnail").first()
    if photo is None or not photo.image:
        raise Http404
    try:
        name = _thumbnail(photo) if size == "thumb" else str(photo.image.name)
        handle = default_storage.open(name, "rb")
    except (OSError, Image.UnidentifiedImageError) as exc:
        raise Http404 from exc
    return FileResponse(handle, content_type="image/jpeg")
