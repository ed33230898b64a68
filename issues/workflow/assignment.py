"""The staff's work on a case beside its state: who in the holding unit works on it, internal notes,
and progress updates the resident reads.

Each service locks the case, checks its row of the transition table (``take``, ``assign``,
``note``, ``progress`` in ``issues.workflow.rules``), writes, and appends its timeline event:
taking and assigning are staff-only events, a progress update is public (the tracking page masks
phone numbers in it), an internal note is a ``CaseNote`` and never an event at all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from alleys.people import Member
from alleys.scoping import scope_for

from ..choices import EventKind
from ..models import Case, CaseNote
from .events import lock_case, moment, notify_after_commit, record_event, require_text, stored
from .rules import TRANSITIONS, TransitionError, TransitionInvalid, check, is_holder

# The longest internal note or progress update (a page of text).
MAX_TEXT = 2000


def person_name(user: Any) -> str:
    """A staff member's name as the staff pages show it (profile name, else the login)."""
    profile = getattr(user, "staff_profile", None)
    name = getattr(profile, "full_name", "") or user.get_full_name() or user.get_username()
    return str(name).strip()


def may_be_assigned(user: Any, case: Case) -> bool:
    """A colleague may work on the case: an active person with a holder role on the holding unit."""
    return bool(user is not None and user.is_active and is_holder(scope_for(user), case))


def case_take(*, case: Case | int, actor: Member, now: dt.datetime | None = None) -> Case:
    """由我处理: a member of the holding unit becomes the case's assignee."""
    now = moment(now)
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["take"], case, actor)
        if case.assignee_id == actor.pk:
            raise TransitionError(_("该案件已由您处理。"))
        case.assignee = actor
        case.save(update_fields=["assignee", "updated_at"])
        record_event(
            case,
            EventKind.ASSIGNED,
            actor=actor,
            now=now,
            note=stored("%(name)s 认领处理。", name=person_name(actor)),
            public=False,
            data={"assignee_id": actor.pk},
        )
    return case


def case_assign(*, case: Case | int, actor: Member, assignee: Any, now: dt.datetime | None = None) -> Case:
    """Assign the case to a colleague of the holding unit (``None``: nobody); the colleague is told."""
    now = moment(now)
    user_model = get_user_model()
    if assignee is not None and not isinstance(assignee, user_model):
        found = user_model.objects.filter(pk=assignee).select_related("staff_profile").first()
        if found is None:  # said like a stranger's id: no way to probe which ids exist
            raise TransitionInvalid(_("该人员不是当前责任单位的人员，不能承办该案件。"), field="assignee")
        assignee = found
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["assign"], case, actor)
        if assignee is not None and not may_be_assigned(assignee, case):
            raise TransitionInvalid(
                _("%(name)s 不是当前责任单位的人员，不能承办该案件。") % {"name": person_name(assignee)},
                field="assignee",
            )
        new_id = assignee.pk if assignee is not None else None
        if case.assignee_id == new_id:
            raise TransitionError(
                _("该案件已由 %(name)s 承办。") % {"name": person_name(assignee)}
                if assignee is not None
                else _("该案件当前没有承办人。")
            )
        case.assignee = assignee
        case.save(update_fields=["assignee", "updated_at"])
        note = (
            stored("指定 %(name)s 承办。", name=person_name(assignee))
            if assignee is not None
            else stored("取消承办人。")
        )
        event = record_event(
            case,
            EventKind.ASSIGNED,
            actor=actor,
            now=now,
            note=note,
            public=False,
            data={"assignee_id": new_id, "user_ids": [new_id] if new_id else []},
        )
        if new_id and new_id != actor.pk:
            notify_after_commit(event)
    return case


def case_note(*, case: Case | int, actor: Member, text: str, now: dt.datetime | None = None) -> CaseNote:
    """An internal note (staff only) by anyone who sees the case."""
    now = moment(now)
    text = require_text(text, "text", _("请填写备注内容。"))
    if len(text) > MAX_TEXT:
        raise TransitionInvalid(_("备注最多 %(n)d 字。") % {"n": MAX_TEXT}, field="text")
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["note"], case, actor)
        return CaseNote.objects.create(case=case, author=actor, text=text, created_at=now)


def case_progress_update(
    *, case: Case | int, actor: Member, note: str, now: dt.datetime | None = None
) -> Case:
    """A progress update the resident reads on the tracking page (holder or lead department)."""
    now = moment(now)
    note = require_text(note, "note", _("请填写向群众通报的办理进展。"))
    if len(note) > MAX_TEXT:
        raise TransitionInvalid(_("进展通报最多 %(n)d 字。") % {"n": MAX_TEXT}, field="note")
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["progress"], case, actor)
        case.save(update_fields=["updated_at"])
        event = record_event(case, EventKind.PROGRESS, actor=actor, now=now, note=note, public=True)
        notify_after_commit(event)
    return case
