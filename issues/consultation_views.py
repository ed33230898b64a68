"""Staff pages of consultations before dispatch (派单前征求意见): the departments' list and answer.

The organisation department asks from the case's dispatch page (``order_views.dispatch_consult``);
here a department reads what it was asked and answers through
``issues.workflow.consultations.consultation_answer``, which decides who may.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alleys.people import SignedInRequest
from alleys.scoping import scope_for

from .choices import ConsultationState
from .models import Consultation
from .order_forms import ConsultationAnswerForm
from .views import PAGE_SIZE
from .workflow import (
    CONSULTATION_TRANSITIONS,
    STAFF,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
)
from .workflow.consultations import consultation_answer


@dataclass(frozen=True)
class ConsultationAction:
    """One thing a user can do to a consultation: the table's transition, its form and its runner."""

    name: str
    form_class: type[ConsultationAnswerForm]
    run: Callable[[Consultation, Any, Form], None]

    @property
    def label(self) -> Any:
        return CONSULTATION_TRANSITIONS[self.name].label


def _answer(consultation: Consultation, user: Any, form: Form) -> None:
    data = form.cleaned_data
    consultation_answer(
        consultation=consultation.pk,
        actor=user,
        opinion=data["opinion"],
        suggested_department=data["suggested_department"],
        text=data["text"],
    )


# Keyed by the table's names (issues.workflow.CONSULTATION_TRANSITIONS).
CONSULTATION_ACTIONS: dict[str, ConsultationAction] = {
    a.name: a for a in (ConsultationAction("consult-answer", ConsultationAnswerForm, _answer),)
}


def _visible(request: HttpRequest) -> Any:
    return Consultation.objects.visible_to(request.user).select_related(
        "case", "case__category", "case__alley", "department", "asker_area", "suggested_department", "order"
    )


@login_required
def consultation_list(request: SignedInRequest) -> HttpResponse:
    """What the user's departments were asked (pending first); organisation departments see what they asked."""
    scope = scope_for(request.user)
    rows = _visible(request)
    if request.GET.get("mine") == "1" and not scope.is_global:
        rows = rows.filter(department_id__in=sorted(scope.department_ids))
    state = request.GET.get("state", "")
    if state in ConsultationState.values:
        rows = rows.filter(state=state)
    page = Paginator(rows.order_by("-asked_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "orders",
        "page": page,
        "consultations": list(page.object_list),
        "states": ConsultationState.choices,
        "state": state,
        "now": timezone.now(),
    }
    return render(request, "dispatch/staff/consultation_list.html", context)


@login_required
def consultation_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One consultation: the case, the question, and (for the department asked) the answer form."""
    return _render(request, get_object_or_404(_visible(request), pk=pk))


def _render(
    request: HttpRequest, consultation: Consultation, *, form: Form | None = None, status: int = 200
) -> HttpResponse:
    transition = CONSULTATION_TRANSITIONS["consult-answer"]
    may_answer = (
        STAFF in transition.via
        and consultation.state in transition.sources
        and transition.who(scope_for(request.user), consultation)
    )
    if form is None and may_answer:
        form = ConsultationAnswerForm(consultation=consultation, prefix="consult-answer")
    context = {
        "nav": "orders",
        "consultation": consultation,
        "form": form,
        "action": CONSULTATION_ACTIONS["consult-answer"],
        "now": timezone.now(),
    }
    return render(request, "dispatch/staff/consultation_detail.html", context, status=status)


@login_required
@require_POST
def consultation_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Run one consultation action through its service and come back to the consultation."""
    if action not in CONSULTATION_ACTIONS:
        raise Http404
    consultation = get_object_or_404(_visible(request), pk=pk)
    spec = CONSULTATION_ACTIONS[action]
    form = spec.form_class(request.POST, consultation=consultation, prefix=action)
    if not form.is_valid():
        return _render(request, consultation, form=form, status=400)
    try:
        spec.run(consultation, request.user, form)
    except (TransitionInvalid, TransitionForbidden) as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _render(
            request, consultation, form=form, status=403 if isinstance(exc, TransitionForbidden) else 400
        )
    except TransitionError as exc:
        messages.warning(request, exc.message)
        return redirect("staff:consultation-detail", pk=pk)
    messages.success(request, _("已%(action)s。") % {"action": spec.label})
    return redirect("staff:consultation-detail", pk=pk)
