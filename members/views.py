"""Staff pages of 双报到, mounted at /staff/members/ (namespace ``members``) by ``config/urls.py``.

The pages ask ``members/rules.py`` what the user may do and call ``members/services.py``; they hold no rule.
Members with a login use the same pages (their own registration, their community's needs, their claims);
members without one are entered and helped by their community.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alleys.people import SignedInRequest
from alleys.scoping import scope_for
from core.errors import ActionRefused

from .choices import ClaimState, RegistrationState
from .forms import (
    ClaimFilterForm,
    ClaimForForm,
    ConfirmForm,
    NeedFilterForm,
    NeedForm,
    ReasonForm,
    RecordForm,
    RegistrationFilterForm,
    RegistrationForm,
    TeamForm,
    communities_for,
)
from .models import Claim, PartyOrganization, Registration, ServiceNeed, TeamMembership
from .rules import (
    CLAIM_TRANSITIONS,
    NEED_TRANSITIONS,
    REGISTRATION_TRANSITIONS,
    TEAM_TRANSITIONS,
    allowed_transitions,
    is_community_of,
    is_reader,
    phone_for,
    posts_needs,
)
from .services import (
    claim_confirm,
    claim_record,
    claim_take,
    claim_withdraw,
    need_cancel,
    need_post,
    registration_confirm,
    registration_create,
    registration_decline,
    registration_withdraw,
    team_approve,
    team_decline,
    team_request,
)

PAGE_SIZE = 50
NAV = "members"


def _forbidden(request: SignedInRequest, message: str) -> HttpResponse:
    return render(request, "issues/staff/forbidden.html", {"nav": NAV, "message": message}, status=403)


def _own(request: SignedInRequest) -> Registration | None:
    return (
        Registration.objects.filter(
            user=request.user, state__in=(RegistrationState.PENDING, RegistrationState.CONFIRMED)
        )
        .select_related("community")
        .first()
    )


def _refused(request: SignedInRequest, exc: ActionRefused) -> None:
    messages.error(request, exc.message)


# --- registrations -------------------------------------------------------------------------------------


@login_required
def member_list(request: SignedInRequest) -> HttpResponse:
    """The registrations the user may see (phones masked unless the user handles them)."""
    qs = Registration.objects.visible_to(request.user).select_related("community", "alley", "organization")
    filters = RegistrationFilterForm(request.GET or None)
    if filters.is_valid():
        data = filters.cleaned_data
        if data.get("state"):
            qs = qs.filter(state=data["state"])
        if data.get("organization"):
            qs = qs.filter(organization=data["organization"])
        if data.get("q"):
            qs = qs.filter(full_name__contains=data["q"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(r, phone_for(request.user, r)) for r in page.object_list]
    context = {
        "nav": NAV,
        "filters": filters,
        "page": page,
        "rows": rows,
        "can_enter": posts_needs(request.user),
        "own": _own(request),
    }
    return render(request, "members/member_list.html", context)


@login_required
def registration_new(request: SignedInRequest) -> HttpResponse:
    """The community enters a member (no login), or a signed-in member registers themselves."""
    by_community = posts_needs(request.user)
    if not by_community and _own(request) is not None:
        return _forbidden(request, _("您已有报到记录，请先退出原来的报到。"))
    communities = communities_for(request.user, own_only=by_community)
    status = 200
    if request.method == "POST":
        form = RegistrationForm(request.POST, communities=communities)
        if form.is_valid():
            data = form.cleaned_data
            try:
                registration = registration_create(
                    user=request.user,
                    full_name=data["full_name"],
                    phone=data["phone"],
                    organization=data["organization"],
                    community=data["community"],
                    alley=data["alley"],
                    skills=data["skills"],
                    consent=data["consent"],
                    now=timezone.now(),
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("已提交报到，等待社区确认。"))
                return redirect("members:registration-detail", pk=registration.pk)
        status = 400
    else:
        form = RegistrationForm(communities=communities)
    context = {"nav": NAV, "form": form, "by_community": by_community}
    return render(request, "members/registration_form.html", context, status=status)


def _registration(request: SignedInRequest, pk: int) -> Registration:
    return get_object_or_404(
        Registration.objects.visible_to(request.user).select_related(
            "community", "alley", "organization", "decided_by", "user"
        ),
        pk=pk,
    )


@login_required
def registration_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One member: the registration, what this user may do, their claims and service teams."""
    registration = _registration(request, pk)
    allowed = allowed_transitions(registration, request.user)
    claims = list(registration.claims.select_related("need").order_by("-claimed_at"))
    teams = [(t, allowed_transitions(t, request.user)) for t in registration.teams.select_related("alley")]
    may_request_team = (
        registration.state == RegistrationState.CONFIRMED
        and registration.user_id is not None
        and (registration.user_id == request.user.pk or _community_of(request, registration.community.code))
    )
    context = {
        "nav": NAV,
        "registration": registration,
        "phone": phone_for(request.user, registration),
        "allowed": allowed,
        "claims": claims,
        "hours": sum((c.hours or 0 for c in claims if c.state == ClaimState.CONFIRMED), 0),
        "teams": teams,
        "decline_form": ReasonForm(auto_id="decline-%s") if "decline" in allowed else None,
        "withdraw_form": ConfirmForm(auto_id="withdraw-%s") if "withdraw" in allowed else None,
        "team_form": TeamForm(community=registration.community, auto_id="team-%s")
        if may_request_team
        else None,
    }
    return render(request, "members/registration_detail.html", context)


def _community_of(request: SignedInRequest, code: str) -> bool:
    return is_community_of(scope_for(request.user), code)


def _act(request: SignedInRequest, do: Callable[[], Any], done: str) -> None:
    try:
        do()
    except ActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, done)


@login_required
@require_POST
def registration_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Confirm, decline or withdraw a registration; ask to join a service team."""
    registration = _registration(request, pk)
    now = timezone.now()
    back = redirect("members:registration-detail", pk=pk)
    if action == "team":
        form = TeamForm(request.POST, community=registration.community, auto_id="team-%s")
        if not form.is_valid():
            messages.error(request, _("请选择街巷和服务专长。"))
            return back
        data = form.cleaned_data
        _act(
            request,
            lambda: team_request(
                registration=registration,
                user=request.user,
                alley=data["alley"],
                service_kind=data["service_kind"],
                now=now,
            ),
            _("已申请加入服务队，等待社区确认。"),
        )
        return back
    if action not in REGISTRATION_TRANSITIONS:
        raise Http404
    if action == "confirm":
        _act(
            request,
            lambda: registration_confirm(registration=registration, user=request.user, now=now),
            _("已确认报到。"),
        )
    elif action == "decline":
        reason = ReasonForm(request.POST, auto_id="decline-%s")
        if not reason.is_valid():
            messages.error(request, _("请写明理由并勾选确认。"))
            return back
        _act(
            request,
            lambda: registration_decline(
                registration=registration, user=request.user, reason=reason.cleaned_data["reason"], now=now
            ),
            _("已标记为未通过。"),
        )
    else:
        if not ConfirmForm(request.POST).is_valid():
            messages.error(request, _("请勾选确认。"))
            return back
        _act(
            request,
            lambda: registration_withdraw(registration=registration, user=request.user, now=now),
            _("已退出报到。"),
        )
    return back


@login_required
@require_POST
def team_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """The alley's community approves or declines a request to join its service team."""
    team = get_object_or_404(
        TeamMembership.objects.visible_to(request.user).select_related("alley", "registration"), pk=pk
    )
    if action not in TEAM_TRANSITIONS:
        raise Http404
    now = timezone.now()
    if action == "approve":
        _act(request, lambda: team_approve(team=team, user=request.user, now=now), _("已加入街巷服务队。"))
    else:
        _act(request, lambda: team_decline(team=team, user=request.user, now=now), _("已标记为未通过。"))
    return redirect("members:registration-detail", pk=team.registration_id)


# --- needs ---------------------------------------------------------------------------------------------


@login_required
def need_list(request: SignedInRequest) -> HttpResponse:
    """The needs the user may see: open ones first, newest first."""
    qs = (
        ServiceNeed.objects.visible_to(request.user)
        .select_related("community", "alley")
        .annotate(
            taken=Count(
                "claims",
                filter=Q(claims__state__in=(ClaimState.CLAIMED, ClaimState.RECORDED, ClaimState.CONFIRMED)),
            )
        )
        # Meta.ordering is not applied to a grouped query: the pages need a stable order.
        .order_by("-posted_at", "-pk")
    )
    filters = NeedFilterForm(request.GET or None)
    if filters.is_valid():
        if state := filters.cleaned_data.get("state"):
            qs = qs.filter(state=state)
        if kind := filters.cleaned_data.get("kind"):
            qs = qs.filter(kind=kind)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": NAV,
        "filters": filters,
        "page": page,
        "needs": list(page.object_list),
        "can_post": posts_needs(request.user),
    }
    return render(request, "members/need_list.html", context)


@login_required
def need_new(request: SignedInRequest) -> HttpResponse:
    """The community posts a service project or a small wish."""
    if not posts_needs(request.user):
        return _forbidden(request, _("只有社区工作人员可以发布服务需求。"))
    communities = communities_for(request.user, own_only=True)
    status = 200
    if request.method == "POST":
        form = NeedForm(request.POST, communities=communities)
        if form.is_valid():
            data = form.cleaned_data
            try:
                need = need_post(
                    user=request.user,
                    community=data["community"],
                    kind=data["kind"],
                    title=data["title"],
                    description=data["description"],
                    places=data["places"],
                    alley=data["alley"],
                    due_on=data["due_on"],
                    now=timezone.now(),
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("需求已发布，本社区已报到的党员可以认领。"))
                return redirect("members:need-detail", pk=need.pk)
        status = 400
    else:
        form = NeedForm(communities=communities)
    return render(request, "members/need_form.html", {"nav": NAV, "form": form}, status=status)


def _need(request: SignedInRequest, pk: int) -> ServiceNeed:
    return get_object_or_404(
        ServiceNeed.objects.visible_to(request.user).select_related("community", "alley"), pk=pk
    )


@login_required
def need_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One need: its claims, claiming (for oneself, or for a member by the community), cancelling."""
    need = _need(request, pk)
    allowed = allowed_transitions(need, request.user)
    own = _own(request)
    claims = list(
        Claim.objects.visible_to(request.user)
        .filter(need=need)
        .select_related("registration__organization")
        .order_by("claimed_at")
    )
    community = "claim" in allowed and _community_of(request, need.community.code)
    context = {
        "nav": NAV,
        "need": need,
        "allowed": allowed,
        "claims": claims,
        "own": own if own is not None and own.community_id == need.community_id else None,
        "claim_for_form": ClaimForForm(community=need.community, auto_id="for-%s") if community else None,
        "cancel_form": ReasonForm(auto_id="cancel-%s") if "cancel" in allowed else None,
    }
    return render(request, "members/need_detail.html", context)


@login_required
@require_POST
def need_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Claim (for oneself, or the community for a member) or cancel."""
    need = _need(request, pk)
    if action not in NEED_TRANSITIONS:
        raise Http404
    now = timezone.now()
    back = redirect("members:need-detail", pk=pk)
    if action == "cancel":
        reason = ReasonForm(request.POST, auto_id="cancel-%s")
        if not reason.is_valid():
            messages.error(request, _("请写明理由并勾选确认。"))
            return back
        _act(
            request,
            lambda: need_cancel(need=need, user=request.user, reason=reason.cleaned_data["reason"], now=now),
            _("需求已取消。"),
        )
        return back
    if "registration" in request.POST:
        form = ClaimForForm(request.POST, community=need.community)
        if not form.is_valid():
            messages.error(request, _("请选择本社区已报到的党员。"))
            return back
        registration = form.cleaned_data["registration"]
    else:
        own = _own(request)
        if own is None:
            messages.error(request, _("报到经社区确认后才能认领。"))
            return back
        registration = own
    try:
        claim = claim_take(need=need, registration=registration, user=request.user, now=now)
    except ActionRefused as exc:
        _refused(request, exc)
        return back
    messages.success(request, _("已认领。完成服务后请记录时长和内容。"))
    return redirect("members:claim-detail", pk=claim.pk)


# --- claims --------------------------------------------------------------------------------------------


@login_required
def claim_list(request: SignedInRequest) -> HttpResponse:
    """The claims the user may see: the member's own, the community's, the work unit's members'."""
    qs = Claim.objects.visible_to(request.user).select_related(
        "need__community", "registration__organization"
    )
    filters = ClaimFilterForm(request.GET or None)
    if filters.is_valid() and (state := filters.cleaned_data.get("state")):
        qs = qs.filter(state=state)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"nav": NAV, "filters": filters, "page": page, "claims": list(page.object_list)}
    return render(request, "members/claim_list.html", context)


def _claim(request: SignedInRequest, pk: int) -> Claim:
    return get_object_or_404(
        Claim.objects.visible_to(request.user).select_related(
            "need__community", "registration__organization", "registration__community", "confirmed_by"
        ),
        pk=pk,
    )


@login_required
def claim_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One claim: the service recorded, and what this user may do now."""
    claim = _claim(request, pk)
    allowed = allowed_transitions(claim, request.user)
    context = {
        "nav": NAV,
        "claim": claim,
        "allowed": allowed,
        "record_form": RecordForm(initial={"served_on": timezone.localdate()})
        if "record" in allowed
        else None,
        "withdraw_form": ConfirmForm(auto_id="withdraw-%s") if "withdraw" in allowed else None,
    }
    return render(request, "members/claim_detail.html", context)


@login_required
@require_POST
def claim_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Record the service (a refused input is shown again as typed), confirm it, or give up the claim."""
    claim = _claim(request, pk)
    if action not in CLAIM_TRANSITIONS:
        raise Http404
    now = timezone.now()
    back = redirect("members:claim-detail", pk=pk)
    if action == "record":
        form = RecordForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                claim_record(
                    claim=claim,
                    user=request.user,
                    hours=data["hours"],
                    note=data["note"],
                    served_on=data["served_on"],
                    photo=data["photo"],
                    now=now,
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("服务已记录，等待社区确认。"))
                return back
        context = {
            "nav": NAV,
            "claim": claim,
            "allowed": allowed_transitions(claim, request.user),
            "record_form": form,
            "withdraw_form": None,
        }
        return render(request, "members/claim_detail.html", context, status=400)
    if action == "confirm":
        _act(request, lambda: claim_confirm(claim=claim, user=request.user, now=now), _("已确认服务完成。"))
    else:
        if not ConfirmForm(request.POST).is_valid():
            messages.error(request, _("请勾选确认。"))
            return back
        _act(request, lambda: claim_withdraw(claim=claim, user=request.user, now=now), _("已放弃认领。"))
    return back


@login_required
def claim_photo(request: SignedInRequest, pk: int) -> FileResponse:
    """The service photo, for whoever sees the claim."""
    claim = _claim(request, pk)
    if not claim.photo:
        raise Http404
    try:
        handle = claim.photo.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the work units' view ------------------------------------------------------------------------------


@login_required
def organization_list(request: SignedInRequest) -> HttpResponse:
    """Each work unit's Party organisation: its members registered and their service (the contact's own only)."""
    registrations = Registration.objects.visible_to(request.user)
    claims = Claim.objects.visible_to(request.user)
    orgs = (
        PartyOrganization.objects.filter(pk__in=registrations.values("organization_id"))
        .annotate(
            registered=Count(
                "registrations",
                filter=Q(registrations__in=registrations.values("pk")),
                distinct=True,
            ),
            confirmed=Count(
                "registrations",
                filter=Q(
                    registrations__in=registrations.filter(state=RegistrationState.CONFIRMED).values("pk")
                ),
                distinct=True,
            ),
        )
        .order_by("name")
    )
    service = {
        row["registration__organization_id"]: row
        for row in claims.values("registration__organization_id").annotate(
            taken=Count("pk", filter=~Q(state=ClaimState.WITHDRAWN)),
            done=Count("pk", filter=Q(state=ClaimState.CONFIRMED)),
            hours=Sum("hours", filter=Q(state=ClaimState.CONFIRMED)),
        )
    }
    rows: list[tuple[Any, Any]] = [(org, service.get(org.pk, {})) for org in orgs]
    if not rows and not is_reader(request.user):
        return _forbidden(request, _("单位党组织的联系人、社区、街道和组织部可以查看。"))
    return render(request, "members/organization_list.html", {"nav": NAV, "rows": rows})
