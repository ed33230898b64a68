"""Plumbing every transition shares: locking, checks, the timeline, notifications, photos."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import IO, Any, TypeVar

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from alleys import reference
from alleys.choices import ROLE_LEVEL
from alleys.people import Member
from alleys.scoping import scope_for

from ..models import Case, CaseEvent
from .rules import (
    TransitionError,
    TransitionInvalid,
)


def moment(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


M = TypeVar("M", bound=Model)


def lock_for_transition(queryset: QuerySet[M], pk: int, *, changed: str) -> M:
    """Lock one row of ``queryset`` (with what it joins, in one statement) for a transition.

    A click that waited for the lock while another transaction changed the row (the sweep
    escalating a case, another click) meets the row as that transaction committed it. But
    under READ COMMITTED PostgreSQL re-checks the updated row against the whole statement,
    joins included: when the change moved a joined key (an escalation's holder area), the
    row no longer matches and the statement returns nothing. The row still exists; it has
    just changed under the user's feet, so say ``changed`` (409), never "not found" (a 500).
    """
    try:
        return queryset.select_for_update(of=("self",)).get(pk=pk)
    except ObjectDoesNotExist:
        # Only on that race (or a wrong id), so the common path stays one statement.
        if queryset.model._default_manager.filter(pk=pk).exists():
            raise TransitionError(changed) from None
        raise


def lock_case(case: Case | int) -> Case:
    """Lock the case row for a transition and load what the checks read."""
    return lock_for_transition(
        Case.objects.select_related(
            "category", "category__category_class", "alley", "building", "holder_area"
        ),
        case if isinstance(case, int) else case.pk,
        changed=_("案件刚刚发生了变化（例如已超时上报或被他人处理），本次操作未执行。请刷新后查看最新进展。"),
    )


def require_text(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise TransitionInvalid(message, field=field)
    return text


def stored(message: str, **params: Any) -> str:
    """Text written into the timeline: in the site's language, whoever's session wrote it.

    (Messages shown to the user, such as TransitionError's, stay in the user's language.)
    """
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext(message)
    return text % params if params else text


def actor_label(actor: Member | None, case: Case) -> str:
    """The unit an actor acts for on ``case``, as the public timeline names it (never a person).

    The holder's unit when the actor holds the case's tier; otherwise the nearest unit above
    the case's alley in which the actor has a role (a community worker acting for its alley's
    team is the community, a street worker supervising is the street); otherwise the
    department of the case the actor works for. A superuser counts as the holder. The person
    is the event's ``actor``, which only the staff pages show.
    """
    from dispatch.chain import unit_label

    with translation.override(settings.LANGUAGE_CODE):
        if actor is None:
            return gettext("系统")
        scope = scope_for(actor)
        if scope.holds_tier(case.tier, case.holder_area.code):
            return unit_label(case.tier, case.holder_area)
        # The case's building too: a building head acts as their building (楼栋长), not as the alley.
        place = case.building.code if case.building_id and case.building else case.alley.code
        codes = {c for role, c, _d in scope.assignments if c and role in ROLE_LEVEL and place.startswith(c)}
        for code in sorted(codes, key=len, reverse=True):
            area = reference.area_by_code(code)
            if area is not None:
                return unit_label(area.level, area)
        if case.lead_department_id and case.lead_department_id in scope.department_ids:
            return case.lead_department.name if case.lead_department else ""
        return unit_label(case.tier, case.holder_area)


def record_event(case: Case, kind: str, **fields: Any) -> CaseEvent:
    """Append one immutable timeline event (``fields`` as ``new_event`` takes them)."""
    event = new_event(case, kind, **fields)
    event.save(force_insert=True)
    return event


def new_event(
    case: Case,
    kind: str,
    *,
    actor: Member | None = None,
    now: dt.datetime,
    from_state: str = "",
    from_tier: str = "",
    note: str = "",
    public: bool = True,
    label: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """The timeline event ``record_event`` appends, not yet written (for writing several in one statement)."""
    return CaseEvent(
        case=case,
        kind=kind,
        at=now,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=label if label is not None else actor_label(actor, case),
        from_state=from_state,
        to_state=case.state if from_state else "",
        from_tier=from_tier,
        to_tier=case.tier if from_tier else "",
        note=note,
        public=public,
        data=data or {},
    )


def notify_after_commit(*events: CaseEvent) -> None:
    from ..notify import schedule_event_notifications

    schedule_event_notifications(events)


def attach_photos(
    case: Case, event: CaseEvent, photos: Sequence[IO[bytes]], kind: str, *, public: bool
) -> None:
    """Store the photos pending; the ``issues.process_photo`` task re-encodes them after commit (issues.photos)."""
    from ..photos import attach_photos as attach_pending

    attach_pending(case, event, photos, kind, public=public)


def clean_photos_first(photos: Sequence[IO[bytes]]) -> list[IO[bytes]]:
    """Check every photo before anything is written (a bad one must not leave half a change).

    Only the request's checks (``core.photos.check_photo``); ``attach_photos`` then stores them as they are.
    """
    from ..photos import check_case_photos

    return list(check_case_photos(photos))


def notify_event_ids(ids: list[int]) -> None:
    from ..notify import schedule_notifications

    schedule_notifications(ids)
