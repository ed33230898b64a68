"""Notice pages: the residents' list, detail and SMS subscription; the staff's list, form and actions.

The public pages are at ``/notices/`` (``participation/urls.py``); the staff's at ``/staff/notices/``
(``participation/staff_urls.py``, included by ``issues/urls.py``). They hold no rule: they ask
``participation/notices.py``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alleys.models import Area
from alleys.people import SignedInRequest
from core.errors import ActionRefused
from core.phones import mask_number

from . import notices
from .deliberation_forms import NoticeForm
from .models import Notice, NoticeSmsState, NoticeState
from .phones import verified_phone
from .views import verify_url

PAGE_SIZE = 20
NAV = "notices"


def area_of(code: str, levels: frozenset[str]) -> Area | None:
    """An active area of one of ``levels`` by its code, or None."""
    if not code or not code.isdigit():
        return None
    return Area.objects.filter(code=code, level__in=levels, is_active=True).first()


def _chain(area: Area) -> list[Area]:
    return list(Area.objects.chain_above(area).filter(level__in=notices.NOTICE_LEVELS))


# --- residents ----------------------------------------------------------------------------------------


@require_safe
def notice_list(request: HttpRequest) -> HttpResponse:
    """Published notices, newest first; ``?area=`` an alley's (its own, its community's, its street's)."""
    area = area_of(request.GET.get("area", ""), notices.NOTICE_LEVELS)
    qs = Notice.objects.public(timezone.now()).select_related("area")
    if area is not None:
        qs = qs.reaching(area)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"area": area, "page": page, "items": list(page.object_list), "nav": NAV}
    return render(request, "participation/notices/list.html", context)


@require_safe
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One published notice."""
    notice = get_object_or_404(Notice.objects.public(timezone.now()).select_related("area"), pk=pk)
    return render(request, "participation/notices/detail.html", {"notice": notice, "nav": NAV})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """Subscribe the verified number to an area's notices by SMS (consent first)."""
    area = area_of(request.GET.get("area", "") or request.POST.get("area", ""), notices.NOTICE_LEVELS)
    if area is None:
        raise Http404
    here = f"{reverse('notice-subscribe')}?{urlencode({'area': area.code})}"
    phone = verified_phone(request)
    if request.method == "POST":
        if phone is None:
            return HttpResponseRedirect(verify_url(here))
        if request.POST.get("consent") != "yes":
            messages.error(request, _("请勾选同意后再订阅。"))
            return HttpResponseRedirect(here)
        notices.subscription_create(phone=phone, area=area)
        messages.success(
            request,
            _("已订阅%(area)s的通知，短信将发到 %(phone)s。")
            % {"area": area.name, "phone": mask_number(phone)},
        )
        return HttpResponseRedirect(reverse("notice-subscriptions"))
    context = {
        "area": area,
        "chain": _chain(area),
        "masked": mask_number(phone) if phone else "",
        "verify": verify_url(here),
        "nav": NAV,
    }
    return render(request, "participation/notices/subscribe.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscriptions(request: HttpRequest) -> HttpResponse:
    """The verified number's subscriptions, each with an unsubscribe button."""
    phone = verified_phone(request)
    if phone is None:
        return HttpResponseRedirect(verify_url(reverse("notice-subscriptions")))
    if request.method == "POST":
        area = area_of(request.POST.get("area", ""), notices.NOTICE_LEVELS)
        if area is not None and notices.subscription_delete(phone=phone, area=area):
            messages.success(request, _("已退订%(area)s的通知短信。") % {"area": area.name})
        return HttpResponseRedirect(reverse("notice-subscriptions"))
    context = {"rows": notices.subscriptions_of(phone), "masked": mask_number(phone), "nav": NAV}
    return render(request, "participation/notices/subscriptions.html", context)


# --- staff -------------------------------------------------------------------------------------------


def _forbidden(request: SignedInRequest, message: str) -> HttpResponse:
    return render(request, "issues/staff/forbidden.html", {"nav": NAV, "message": message}, status=403)


@login_required
def staff_notice_list(request: SignedInRequest) -> HttpResponse:
    """The notices of areas in the user's territory, newest first."""
    qs = Notice.objects.visible_to(request.user).select_related("area").order_by("-created_at", "-pk")
    state = request.GET.get("state", "")
    if state in NoticeState.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {
        "nav": NAV,
        "page": page,
        "items": list(page.object_list),
        "states": NoticeState.choices,
        "state": state,
        "can_write": notices.publishes_notices(request.user),
    }
    return render(request, "participation/notices/staff_list.html", context)


@login_required
def staff_notice_new(request: SignedInRequest) -> HttpResponse:
    """Write a draft notice."""
    if not notices.publishes_notices(request.user):
        return _forbidden(request, _("只有巷长、社区和街道工作人员可以发布通知。"))
    status = 200
    form = NoticeForm(request.POST or None, user=request.user, initial={"send_sms": True})
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                notice = notices.notice_create(
                    user=request.user,
                    area=data["area"],
                    title=data["title"],
                    body=data["body"],
                    expires_at=data["expires_at"],
                    send_sms=data["send_sms"],
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("草稿已保存，确认后请发布。"))
                return redirect("staff:notice-detail", pk=notice.pk)
        status = 400
    return render(request, "participation/notices/staff_form.html", {"nav": NAV, "form": form}, status=status)


def _visible(request: SignedInRequest, pk: int) -> Notice:
    return get_object_or_404(Notice.objects.visible_to(request.user).select_related("area"), pk=pk)


@login_required
def staff_notice_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One notice, its SMS so far, and what the user may do now."""
    notice = _visible(request, pk)
    sms = {
        NoticeSmsState(state).label: n
        for state, n in notice.sms.values("state").annotate(n=Count("pk")).values_list("state", "n")
    }
    context = {
        "nav": NAV,
        "notice": notice,
        "allowed": notices.allowed_transitions(notice, request.user),
        "sms": sms,
    }
    return render(request, "participation/notices/staff_detail.html", context)


@login_required
def staff_notice_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    """Correct a draft or published notice."""
    notice = _visible(request, pk)
    try:
        notices.check(notice, request.user, "edit")
    except ActionRefused as exc:
        return _forbidden(request, exc.message)
    status = 200
    initial = {"title": notice.title, "body": notice.body, "expires_at": notice.expires_at}
    form = NoticeForm(request.POST or None, user=request.user, editing=True, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                notices.notice_edit(
                    notice=notice,
                    user=request.user,
                    title=data["title"],
                    body=data["body"],
                    expires_at=data["expires_at"],
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("已保存。"))
                return redirect("staff:notice-detail", pk=pk)
        status = 400
    context = {"nav": NAV, "form": form, "notice": notice}
    return render(request, "participation/notices/staff_form.html", context, status=status)


@login_required
@require_POST
def staff_notice_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Publish or withdraw; a refusal is shown on the page."""
    notice = _visible(request, pk)
    try:
        if action == "publish":
            notices.notice_publish(notice=notice, user=request.user)
            messages.success(request, _("已发布。"))
        elif action == "withdraw":
            notices.notice_withdraw(notice=notice, user=request.user)
            messages.success(request, _("已撤回。"))
        else:
            raise Http404
    except ActionRefused as exc:
        messages.error(request, exc.message)
    return redirect("staff:notice-detail", pk=pk)
