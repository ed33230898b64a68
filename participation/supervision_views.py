"""Pages of the supervision list (群众监督清单): the residents' vote and the staff's list and results.

Residents: ``/alley/<code>/supervise/`` (a verified phone first, one form, no JavaScript) and its
confirmation. Staff: ``/staff/supervision/`` (mounted by ``issues/urls.py`` in the staff namespace),
the alleys whose lists the user keeps, each with its commitments and quarterly results. The rules
live in ``participation/supervision.py``; these views only ask it and call its services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from alleys.choices import AreaLevel
from alleys.models import Area
from alleys.people import SignedInRequest
from core.errors import ActionInvalid, ActionRefused
from core.phones import mask_number

from . import supervision as sv
from .models import Commitment, SupervisionBallot, Verdict
from .phones import verified_phone
from .supervision_forms import CommitmentForm
from .views import verify_url

NAV = "supervision"


def _alley(code: str) -> Area:
    alley = Area.objects.filter(level=AreaLevel.ALLEY, code=code).first()
    if alley is None:
        raise Http404
    return alley


# --- residents ---------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def supervise(request: HttpRequest, code: str) -> HttpResponse:
    """Rate this quarter's commitments of the alley: one radio group per commitment, then a confirmation."""
    alley = _alley(code)
    phone = verified_phone(request)
    if phone is None:
        return redirect(verify_url(request.path))
    commitments = sv.active_commitments(alley)
    quarter = sv.Quarter.at()
    chosen: dict[int, str] = {}
    comment = ""
    errors: list[tuple[str, str]] = []
    status = 200
    voted = sv.has_voted(phone=phone, alley=alley)
    if request.method == "POST" and not voted and commitments:
        for c in commitments:
            value = request.POST.get(f"c{c.pk}", "")
            if value in Verdict.values:
                chosen[c.pk] = value
        comment = request.POST.get("comment", "")
        try:
            sv.ballot_cast(phone=phone, alley=alley, scores=chosen, comment=comment)
        except ActionInvalid as exc:
            errors = [(f"field-{exc.field}" if exc.field else "", exc.message)]
            status = 400
        except ActionRefused:
            voted = True  # a second submit (another tab, a double click): the first ballot stands
        else:
            return redirect("supervise-done", code=alley.code)
    context = {
        "alley": alley,
        "quarter": quarter,
        "commitments": [
            {"c": c, "chosen": chosen.get(c.pk, ""), "missing": bool(errors) and c.pk not in chosen}
            for c in commitments
        ],
        "verdicts": Verdict.choices,
        "comment": comment,
        "comment_max": sv.COMMENT_MAX,
        "errors": errors,
        "voted": voted,
        "masked": mask_number(phone),
        "nav": "alley",
    }
    return render(request, "participation/supervision/vote.html", context, status=status)


@never_cache
def supervise_done(request: HttpRequest, code: str) -> HttpResponse:
    """The confirmation after a ballot (only to the phone that cast it this quarter)."""
    alley = _alley(code)
    phone = verified_phone(request)
    if phone is None or not sv.has_voted(phone=phone, alley=alley):
        return redirect("supervise", code=alley.code)
    context = {"alley": alley, "quarter": sv.Quarter.at(), "nav": "alley"}
    return render(request, "participation/supervision/done.html", context)


# --- staff -------------------------------------------------------------------------------------------


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "issues/staff/forbidden.html", {"nav": NAV, "message": message}, status=403)


@login_required
def staff_list(request: SignedInRequest) -> HttpResponse:
    """The alleys whose lists the user keeps, with their active commitments and the quarters' ballots."""
    if not sv.keeps_any_list(request.user):
        return _forbidden(request, _("只有巷长和社区工作人员可以维护群众监督清单。"))
    current = sv.Quarter.at()
    last = current.previous
    alleys = (
        sv.alleys_kept_by(request.user)
        .annotate(
            active=Count("commitments", filter=Q(commitments__is_active=True), distinct=True),
            last_n=Count(
                "supervision_ballots", filter=Q(supervision_ballots__quarter=last.start), distinct=True
            ),
            current_n=Count(
                "supervision_ballots", filter=Q(supervision_ballots__quarter=current.start), distinct=True
            ),
        )
        .order_by("code")[:500]
    )
    context = {"nav": NAV, "alleys": list(alleys), "current": current, "last": last}
    return render(request, "participation/supervision/staff_list.html", context)


def _kept(request: SignedInRequest, code: str) -> Area:
    alley = _alley(code)
    if not sv.keeps_list(request.user, alley):
        raise Http404  # like an alley outside the user's territory
    return alley


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def staff_alley(request: SignedInRequest, code: str) -> HttpResponse:
    """One alley's commitments (add, edit, retire) and a quarter's results with the residents' comments."""
    alley = _kept(request, code)
    form = CommitmentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                sv.commitment_create(
                    alley=alley,
                    text=data["text"],
                    source=data["source"],
                    position=data["position"],
                    actor=request.user,
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("承诺事项已加入清单。"))
                return redirect("staff:supervision-alley", code=alley.code)
        status = 400
    current = sv.Quarter.at()
    quarter = sv.Quarter.parse(request.GET.get("q", "")) or current.previous
    results = sv.quarter_results(alley, quarter)
    comments = list(
        SupervisionBallot.objects.filter(alley=alley, quarter=quarter.start)
        .exclude(comment="")
        .order_by("-cast_at")
        .values_list("comment", flat=True)[:100]
    )
    commitments = list(Commitment.objects.filter(alley=alley).order_by("-is_active", "position", "id"))
    quarters = [current]
    while len(quarters) < 8:
        quarters.append(quarters[-1].previous)
    context: dict[str, Any] = {
        "nav": NAV,
        "alley": alley,
        "form": form,
        "commitments": commitments,
        "results": results,
        "verdicts": Verdict.choices,
        "comments": comments,
        "quarters": quarters,
        "quarter": quarter,
    }
    return render(request, "participation/supervision/staff_alley.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def staff_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    commitment = get_object_or_404(Commitment.objects.select_related("alley"), pk=pk)
    alley = _kept(request, commitment.alley.code)
    initial = {"text": commitment.text, "source": commitment.source, "position": commitment.position}
    form = CommitmentForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                sv.commitment_update(
                    commitment=commitment,
                    actor=request.user,
                    text=data["text"],
                    source=data["source"],
                    position=data["position"],
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("承诺事项已修改。"))
                return redirect("staff:supervision-alley", code=alley.code)
        status = 400
    context = {"nav": NAV, "alley": alley, "commitment": commitment, "form": form}
    return render(request, "participation/supervision/staff_edit.html", context, status=status)


@login_required
@require_POST
def staff_retire(request: SignedInRequest, pk: int) -> HttpResponse:
    commitment = get_object_or_404(Commitment.objects.select_related("alley"), pk=pk)
    alley = _kept(request, commitment.alley.code)
    try:
        sv.commitment_retire(commitment=commitment, actor=request.user)
    except ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("承诺事项已停用，以往的评议结果仍然保留。"))
    return redirect("staff:supervision-alley", code=alley.code)
