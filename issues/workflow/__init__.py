"""The case state machine: every transition, who may make it, what it needs and what it writes.

This package is the only place that changes a case's state or tier. Admin actions,
staff pages, the API, Celery tasks, management commands and the residents' pages all
call these functions; none re-implements a check. Each function

- locks the case row (a second click or a concurrent sweep sees the new state),
- checks the source state and the actor's role and territory,
- validates what the transition requires (a reason, a photo of the fix, …),
- writes the case, appends an immutable timeline event, and
- schedules notifications to run after the transaction commits.

An illegal call raises ``TransitionError`` (or its subclass ``TransitionForbidden``)
with a message for the user, and changes nothing.

Its modules: ``rules`` (the transition table for cases, orders and extensions: states, who,
what each needs, the next state; and the one ``check`` every service calls), ``events`` (the timeline
and notifications), ``cases`` (the transitions), ``return_visits`` (the feedback window, the return
visit before closing, and closing unrated) and ``bulk`` (transitions over claimed rows: the one
escalation writer, which ``case_escalate`` and the sweep both call).
"""

from __future__ import annotations

from .bulk import cases_escalate_claimed
from .cases import (
    IntakeNote,
    Submitted,
    case_accept,
    case_chase,
    case_dispatch,
    case_dispatched_with_common_issue,
    case_escalate,
    case_feedback,
    case_mark_in_progress,
    case_merge,
    case_reject,
    case_resolve,
    case_start,
    case_submit,
    case_submit_once,
    case_supervise,
    case_verify,
    case_whistle,
    submissions_prune,
    submitted_case,
)
from .events import actor_label, lock_for_transition, record_event, stored
from .return_visits import (
    case_return_visit,
    case_return_visit_due,
    cases_return_visit_due_claimed,
    due_for_return_visit,
    feedback_cutoff,
)
from .rules import (
    API,
    CASE,
    EXTENSION,
    OPEN,
    ORDER,
    ORDER_TRANSITIONS,
    RESIDENT,
    SAME,
    STAFF,
    SYSTEM,
    TRANSITIONS,
    Need,
    S,
    Transition,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    allowed_transitions,
    check,
    is_above_holder,
    is_case_department,
    is_community_of,
    is_extension_community,
    is_extension_dispatcher,
    is_holder,
    is_order_department,
    is_order_dispatcher,
    is_supervisor,
    may_receive_orders_from,
    offered_order_transitions,
    order_cases,
)

__all__ = [
    "API",
    "CASE",
    "EXTENSION",
    "OPEN",
    "ORDER",
    "ORDER_TRANSITIONS",
    "RESIDENT",
    "SAME",
    "STAFF",
    "SYSTEM",
    "TRANSITIONS",
    "IntakeNote",
    "Need",
    "S",
    "Submitted",
    "Transition",
    "TransitionError",
    "TransitionForbidden",
    "TransitionInvalid",
    "actor_label",
    "allowed_transitions",
    "case_accept",
    "case_chase",
    "case_dispatch",
    "case_dispatched_with_common_issue",
    "case_escalate",
    "case_feedback",
    "case_mark_in_progress",
    "case_merge",
    "case_reject",
    "case_resolve",
    "case_return_visit",
    "case_return_visit_due",
    "case_start",
    "case_submit",
    "case_submit_once",
    "case_supervise",
    "case_verify",
    "case_whistle",
    "cases_escalate_claimed",
    "cases_return_visit_due_claimed",
    "check",
    "due_for_return_visit",
    "feedback_cutoff",
    "is_above_holder",
    "is_case_department",
    "is_community_of",
    "is_extension_community",
    "is_extension_dispatcher",
    "is_holder",
    "is_order_department",
    "is_order_dispatcher",
    "is_supervisor",
    "lock_for_transition",
    "may_receive_orders_from",
    "offered_order_transitions",
    "order_cases",
    "record_event",
    "stored",
    "submissions_prune",
    "submitted_case",
]
