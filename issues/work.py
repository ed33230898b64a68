"""The staff's work on cases beside the state machine's transitions: forms and the case page's work panel.

Take/assign (由我处理, 指定承办人), internal notes and progress updates the resident reads are rows of
the transition table (``take``, ``assign``, ``note``, ``progress``: face ``WORK``); their services are
in ``issues.workflow.assignment``, their POST views in ``issues.work_views``, their markup in
``templates/issues/staff/_case_work.html``. The bulk actions of the case list run the services of
``issues.workflow`` row by row (``issues.work_views.case_bulk``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alleys.choices import CODE_LENGTH, HOLDER_ROLES, LEVEL_ORDER, Role
from alleys.models import RoleAssignment
from alleys.people import Actor
from alleys.scoping import scope_for

from .models import Case, CaseNote
from .workflow import WORK, allowed_transitions
from .workflow.assignment import MAX_TEXT, person_name


class AssigneeChoiceField(forms.ModelChoiceField):
    """A colleague, by the name the staff pages show."""

    def label_from_instance(self, obj: Any) -> str:
        return person_name(obj)


def colleagues_q(case: Case | None, user: Actor) -> Q:
    """The people who may work on ``case`` (its holding unit), or, without a case, on any case the
    user's units hold (the bulk "assign" of the case list); the service checks each row again."""
    if case is not None:
        units = [(case.tier, case.holder_area.code)]
    else:
        scope = scope_for(user)
        units = [
            (level, code)
            for role, code, _dept in scope.assignments
            if code
            for level in LEVEL_ORDER
            if role in HOLDER_ROLES[level] and len(code) == CODE_LENGTH[level]
        ]
    q = Q(pk__in=[])
    for tier, code in units:
        q |= Q(role__in=sorted(HOLDER_ROLES[tier]), area__code=code)
        if tier == LEVEL_ORDER[-1]:  # community staff act for their alleys' teams (rules.is_holder)
            q |= Q(role=Role.COMMUNITY_STAFF, area__code=code[: CODE_LENGTH[LEVEL_ORDER[-2]]])
    return q


def colleagues(case: Case | None, user: Actor) -> Any:
    """Active users with a holder role on the unit(s), by name (one query)."""
    ids = RoleAssignment.objects.active().filter(colleagues_q(case, user)).values("user_id")
    return (
        get_user_model()
        .objects.filter(pk__in=ids, is_active=True)
        .select_related("staff_profile")
        .order_by("username")
    )


class AssignForm(forms.Form):
    """指定承办人: a colleague of the holding unit (empty: nobody)."""

    assignee = AssigneeChoiceField(
        label=_("承办人"), queryset=get_user_model().objects.none(), required=False, empty_label=_("（无）")
    )

    def __init__(self, *args: Any, case: Case | None, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = colleagues(case, user)  # type: ignore[attr-defined]


class InternalNoteForm(forms.Form):
    """内部备注: staff only."""

    text = forms.CharField(
        label=_("内部备注（仅工作人员可见）"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ProgressForm(forms.Form):
    """通报办理进展: what the resident reads on the tracking page."""

    note = forms.CharField(
        label=_("办理进展（群众可见）"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("将显示在群众的查询页面上；请勿填写个人信息，其中的手机号码会被隐去。"),
    )


WORK_FORMS: dict[str, type[forms.Form] | None] = {
    "take": None,
    "assign": AssignForm,
    "note": InternalNoteForm,
    "progress": ProgressForm,
}


def work_form(name: str, *, case: Case, user: Actor, data: Any = None) -> forms.Form | None:
    """The form of work action ``name`` (prefixed, so several live on one page); ``take`` has none."""
    form_class = WORK_FORMS[name]
    if form_class is None:
        return None
    kwargs: dict[str, Any] = {"prefix": f"w-{name}"}
    if data is not None:
        kwargs["data"] = data
    if form_class is AssignForm:
        return AssignForm(case=case, user=user, initial={"assignee": case.assignee_id}, **kwargs)
    return form_class(**kwargs)


def work_context(user: Actor, case: Case, *, bound: tuple[str, forms.Form] | None = None) -> dict[str, Any]:
    """What ``_case_work.html`` needs: the assignee, the notes, and the work actions the user may make now."""
    offered = {t.name: t for t in allowed_transitions(case, user) if WORK in t.via}
    actions: dict[str, dict[str, Any]] = {}
    for name, transition in offered.items():
        form = bound[1] if bound is not None and bound[0] == name else work_form(name, case=case, user=user)
        actions[name] = {"t": transition, "form": form}
    notes = (
        [
            {"at": n.created_at, "author": person_name(n.author), "text": n.text}
            for n in CaseNote.objects.filter(case=case).select_related("author", "author__staff_profile")
        ]
        if "note" in offered
        else []
    )
    return {
        "work_actions": actions,
        "work_notes": notes,
        "work_assignee": person_name(case.assignee) if case.assignee_id and case.assignee else "",
    }
