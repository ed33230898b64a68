"""Standing mechanisms (长效机制): made by a joint meeting's decision, fixed in a document, reviewed on dates.

Ma'anshan: "对需要长期坚持或常态化开展的事项，明确牵头责任部门及配合部门，经相关程序后，形成长效机制
文件制度予以固化坚持". A mechanism is not an order: it has no quarter's completion deadline,
only review dates. On each, the daily reminder (``mechanism_reviews_remind``, Celery beat
``issues.remind_mechanism_reviews``) tells the owner department's people in their inbox, once;
they record the review (``mechanism_review_record``) and set the next date. The reminder finds
its work in the database (reviews due, not yet reminded), so a day the task did not run is
caught up the next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alleys.choices import DEPARTMENT_ROLES
from alleys.models import Department, RoleAssignment
from alleys.people import Member
from alleys.scoping import scope_for
from core.bulk_sql import claim
from core.site import site_url
from dispatch.models import CategoryClass, CategoryType

from ..models import AgendaItem, MechanismReview, Notification, StandingMechanism
from .events import lock_for_transition, moment, require_text
from .rules import TransitionForbidden, TransitionInvalid, is_mechanism_keeper

# The inbox message's kind (Notification.kind) of a review reminder.
REVIEW_REMINDER = "mechanism_review"


@dataclass(frozen=True)
class MechanismDraft:
    """What a meeting decides when it makes a standing mechanism."""

    title: str
    owner_department: Department | None
    review_on: dt.date | None
    category_type: CategoryType | None = None
    category_class: CategoryClass | None = None
    cooperating: Sequence[Department] = field(default_factory=tuple)
    description: str = ""
    document_title: str = ""
    document_number: str = ""


def mechanism_create(
    *, item: AgendaItem, draft: MechanismDraft, actor: Member, now: dt.datetime
) -> StandingMechanism:
    """The mechanism a meeting's decision makes, linked to the decision and to what it came from.

    Called by ``meetings.agenda_item_decide`` inside its transaction, which has checked the actor.
    """
    title = require_text(draft.title, "mechanism", _("请填写长效机制的名称。"))
    owner = draft.owner_department
    if owner is None:
        raise TransitionInvalid(_("请指定长效机制的牵头责任部门。"), field="mechanism")
    if (draft.category_type is None) == (draft.category_class is None):
        raise TransitionInvalid(
            _("请选择长效机制针对的一类问题：一个事项类型，或一个事项分类。"), field="mechanism"
        )
    if draft.review_on is None or draft.review_on <= timezone.localdate(now):
        raise TransitionInvalid(_("请填写今后的复核日期。"), field="mechanism")
    cooperating = [d for d in dict.fromkeys(draft.cooperating) if d.pk != owner.pk]
    for department in [owner, *cooperating]:
        if not department.is_active:
            raise TransitionInvalid(
                _("部门“%(name)s”已停用。") % {"name": department.name}, field="mechanism"
            )
    mechanism = StandingMechanism.objects.create(
        title=title[:200],
        description=draft.description.strip(),
        area=item.meeting.area,
        category_type=draft.category_type,
        category_class=draft.category_class,
        owner_department=owner,
        document_title=draft.document_title.strip()[:200],
        document_number=draft.document_number.strip()[:100],
        common_issue=item.common_issue,
        decision=item,
        created_by=actor,
        created_at=now,
    )
    mechanism.cooperating_departments.set(cooperating)
    if item.case_id:
        mechanism.cases.set([item.case_id])
    elif item.common_issue is not None:
        mechanism.cases.set(item.common_issue.cases.all())
    MechanismReview.objects.create(mechanism=mechanism, due_on=draft.review_on)
    return mechanism


def lock_mechanism(mechanism: StandingMechanism | int) -> StandingMechanism:
    return lock_for_transition(
        StandingMechanism.objects.select_related("area", "owner_department"),
        mechanism if isinstance(mechanism, int) else mechanism.pk,
        changed=_("长效机制刚刚发生了变化，本次操作未执行。请刷新后查看。"),
    )


def _keeper(mechanism: StandingMechanism, actor: Member | None, what: str) -> None:
    if actor is None or not is_mechanism_keeper(scope_for(actor), mechanism):
        raise TransitionForbidden(
            _("只有牵头责任部门“%(name)s”或建立机制的单位可以%(what)s。")
            % {"name": mechanism.owner_department.name, "what": what}
        )


def mechanism_document_attach(
    *,
    mechanism: StandingMechanism | int,
    actor: Member,
    upload: IO[bytes] | None = None,
    document_title: str = "",
    document_number: str = "",
    now: dt.datetime | None = None,
) -> StandingMechanism:
    """The document that fixes the mechanism (文件制度): its title, number and file (checked by content)."""
    from ..documents import clean_document

    document = None
    if upload is not None:
        try:
            document = clean_document(upload)
        except ValidationError as exc:
            raise TransitionInvalid(" ".join(exc.messages), field="file") from exc
    with transaction.atomic():
        mechanism = lock_mechanism(mechanism)
        _keeper(mechanism, actor, _("登记文件"))
        title = (document_title or "").strip() or mechanism.document_title
        if not title:
            raise TransitionInvalid(_("请填写文件名称。"), field="document_title")
        mechanism.document_title = title[:200]
        mechanism.document_number = ((document_number or "").strip() or mechanism.document_number)[:100]
        if document is not None:
            mechanism.document_name = document.name
            mechanism.document_content_type = document.content_type
            mechanism.document_size = document.size
            mechanism.document.save(document.content.name or "upload", document.content, save=False)
        mechanism.save()
    return mechanism


def mechanism_review_record(
    *,
    mechanism: StandingMechanism | int,
    actor: Member,
    note: str,
    next_review_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> MechanismReview:
    """A review done: the earliest open review date is closed with the note; the next date is set."""
    now = moment(now)
    note = require_text(note, "note", _("请填写复核情况：机制执行得怎样，是否需要修订。"))
    today = timezone.localdate(now)
    if next_review_on is not None and next_review_on <= today:
        raise TransitionInvalid(_("下次复核日期应在今天之后。"), field="next_review_on")
    with transaction.atomic():
        mechanism = lock_mechanism(mechanism)
        _keeper(mechanism, actor, _("记录复核"))
        review = mechanism.reviews.filter(done_at__isnull=True).order_by("due_on", "pk").first()
        if review is None:
            review, _created = MechanismReview.objects.get_or_create(mechanism=mechanism, due_on=today)
        review.done_at = now
        review.done_by = actor
        review.note = note
        review.save()
        if next_review_on is not None:
            MechanismReview.objects.get_or_create(mechanism=mechanism, due_on=next_review_on)
    return review


def mechanism_reviews_remind(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Tell each due review's owner department (its contacts and leaders, in their inbox), once.

    Claimed in batches (``SKIP LOCKED`` on PostgreSQL) and marked reminded in the transaction that
    writes the messages: two runs at once tell nobody twice, a failed run tells nobody and leaves
    the reviews for the next. Returns the number of reviews reminded.
    """
    now = moment(now)
    today = timezone.localdate(now)
    due = MechanismReview.objects.filter(
        due_on__lte=today, reminded_at__isnull=True, done_at__isnull=True, mechanism__is_active=True
    ).order_by("due_on", "pk")
    total = 0
    while True:
        with transaction.atomic():
            reviews = claim(due.select_related("mechanism"), batch)
            if not reviews:
                return total
            departments = {r.mechanism.owner_department_id for r in reviews}
            people: dict[int, set[int]] = {}
            for department_id, user_id in RoleAssignment.objects.filter(
                department_id__in=departments,
                role__in=sorted(DEPARTMENT_ROLES),
                is_active=True,
                user__is_active=True,
            ).values_list("department_id", "user_id"):
                people.setdefault(department_id, set()).add(user_id)
            messages: list[Notification] = []
            for review in reviews:
                title, body = _reminder(review)
                messages.extend(
                    Notification(
                        recipient_id=uid, kind=REVIEW_REMINDER, title=title, body=body, created_at=now
                    )
                    for uid in sorted(people.get(review.mechanism.owner_department_id, ()))
                )
            Notification.objects.bulk_create(messages)
            MechanismReview.objects.filter(pk__in=[r.pk for r in reviews]).update(reminded_at=now)
            total += len(reviews)


def _reminder(review: MechanismReview) -> tuple[str, str]:
    mechanism: Any = review.mechanism
    with translation.override(settings.LANGUAGE_CODE):
        title = _("[长效机制复核] %(title)s（复核日期 %(due)s）") % {
            "title": mechanism.title,
            "due": review.due_on.isoformat(),
        }
        body = _("请对照机制文件检查执行情况，在“长效机制”页面记录复核结果并确定下次复核日期：%(url)s") % {
            "url": site_url() + reverse("staff:mechanism-detail", kwargs={"pk": mechanism.pk})
        }
    return title[:200], body
