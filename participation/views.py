"""The residents' phone verification: enter the number, then the code from the SMS (no JavaScript needed).

``/phone/?next=/mine/`` sends a code and goes on to ``/phone/code/``; a correct code remembers the
number in the session (``participation.phones.remember``) and returns to ``next`` (a path on this
site only). The number waiting for its code is kept in the session, never in the URL.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.client import client_address
from core.errors import ActionRefused
from core.phones import mask_number

from . import phones
from .forms import CodeForm, PhoneForm


def safe_next(request: HttpRequest) -> str:
    """Where to go after verifying: the ``next`` parameter when it is a path of this site, else the home page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("public-home")


def verify_url(next_path: str) -> str:
    """The verification page, returning to ``next_path`` afterwards."""
    return f"{reverse('phone-start')}?{urlencode({'next': next_path})}"


def _errors(form: PhoneForm | CodeForm) -> list[tuple[str, str]]:
    return [(f"field-{name}", str(e)) for name, errors in form.errors.items() for e in errors]


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def phone_start(request: HttpRequest) -> HttpResponse:
    """Step 1: the number; a code is sent to it."""
    next_path = safe_next(request)
    form = PhoneForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            number = form.cleaned_data["phone"]
            try:
                phones.phone_code_send(phone=number, address=client_address(request))
            except ActionRefused as exc:
                form.add_error("phone", exc.message)
                status = exc.status_code
            else:
                request.session[phones.PENDING_KEY] = number
                messages.success(request, _("验证码已发到 %(phone)s。") % {"phone": mask_number(number)})
                return HttpResponseRedirect(f"{reverse('phone-code')}?{urlencode({'next': next_path})}")
        else:
            status = 400
    context = {
        "form": form,
        "next": next_path,
        "errors": _errors(form),
        "verified": phones.verified_phone(request),
    }
    return render(request, "participation/phone_start.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def phone_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the code from the SMS (or send it again)."""
    next_path = safe_next(request)
    number = request.session.get(phones.PENDING_KEY)
    if not isinstance(number, str):
        return HttpResponseRedirect(verify_url(next_path))
    resend = request.method == "POST" and request.POST.get("action") == "resend"
    form = CodeForm(None if resend else request.POST or None)
    status = 200
    notice = ""
    if resend:
        try:
            phones.phone_code_send(phone=number, address=client_address(request))
        except ActionRefused as exc:
            notice = exc.message
            status = exc.status_code
        else:
            messages.success(request, _("新的验证码已发到 %(phone)s。") % {"phone": mask_number(number)})
            return HttpResponseRedirect(f"{reverse('phone-code')}?{urlencode({'next': next_path})}")
    elif request.method == "POST":
        if form.is_valid():
            try:
                verified = phones.phone_code_verify(phone=number, code=form.cleaned_data["code"])
            except ActionRefused as exc:
                form.add_error("code", exc.message)
                status = exc.status_code
            else:
                phones.remember(request, verified)
                return HttpResponseRedirect(next_path)
        else:
            status = 400
    context = {
        "form": form,
        "next": next_path,
        "masked": mask_number(number),
        "errors": _errors(form),
        "notice": notice,
    }
    return render(request, "participation/phone_code.html", context, status=status)


@require_POST
def phone_forget(request: HttpRequest) -> HttpResponse:
    """End the verification on this device (a shared phone, a family tablet)."""
    phones.forget(request)
    messages.success(request, _("已退出手机号验证。"))
    return HttpResponseRedirect(safe_next(request))
