"""The public 双报到 page: an in-service Party member registers where they live, with their verified phone.

Reached from the alley's public page (``/members/register/<alley code>/``), so the member names no
community from a long list: the alley is where they live. The number is the one this session
verified by SMS code (``participation.phones``), which is the member's identity here as a login is
on the staff pages; the registration waits for the community's confirmation like every other. A
number with an active registration sees its status instead of the form. No JavaScript needed.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from alleys.choices import AreaLevel
from alleys.models import Area
from core.errors import ActionRefused
from core.phones import mask_number
from participation.phones import verified_phone
from participation.views import verify_url

from .choices import RegistrationState
from .forms import PublicRegistrationForm
from .models import Registration
from .services import registration_by_phone

ACTIVE = (RegistrationState.PENDING, RegistrationState.CONFIRMED)


def _registrations(phone: str) -> list[Registration]:
    return list(
        Registration.objects.filter(phone=phone)
        .select_related("community", "alley", "organization")
        .order_by("-registered_at", "-id")[:10]
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def register(request: HttpRequest, code: str) -> HttpResponse:
    """The form (after the phone is verified), or the number's registration when it has an active one."""
    alley = (
        Area.objects.filter(level=AreaLevel.ALLEY, code=code, is_active=True).select_related("parent").first()
    )
    if alley is None:
        return render(request, "public/not_found.html", {"what": "alley"}, status=404)
    phone = verified_phone(request)
    if phone is None:
        return HttpResponseRedirect(verify_url(request.path))
    mine = _registrations(phone)
    if any(r.state in ACTIVE for r in mine):
        return HttpResponseRedirect(reverse("member-status"))
    form = PublicRegistrationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                registration_by_phone(
                    verified_phone=phone,
                    full_name=data["full_name"],
                    organization=data["organization"],
                    alley=alley,
                    skills=data["skills"],
                    consent=data["consent"],
                    now=timezone.now(),
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.status_code
            else:
                return HttpResponseRedirect(reverse("member-status"))
        else:
            status = 400
    errors = [
        (f"field-{name}" if name != "__all__" else "", str(e)) for name, es in form.errors.items() for e in es
    ]
    context = {"alley": alley, "form": form, "errors": errors, "masked": mask_number(phone)}
    return render(request, "members/public/register.html", context, status=status)


@never_cache
def status(request: HttpRequest) -> HttpResponse:
    """The verified number's registrations and where each stands."""
    phone = verified_phone(request)
    if phone is None:
        return HttpResponseRedirect(verify_url(request.path))
    context = {"registrations": _registrations(phone), "masked": mask_number(phone), "notice": ""}
    if not context["registrations"]:
        context["notice"] = _("这个号码还没有报到记录。请从居住街巷的公示页进入“在职党员报到”。")
    return render(request, "members/public/status.html", context)
