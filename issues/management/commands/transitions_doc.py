"""Write docs/transitions.md from the transition table (issues.workflow.rules), or check it is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from issues.choices import CaseState
from issues.workflow import (
    AGENDA,
    API,
    ATTENDANCE,
    CASE,
    CONSULTATION,
    CONSULTATION_TRANSITIONS,
    EXTENSION,
    MEETING,
    MEETING_TRANSITIONS,
    ORDER_TRANSITIONS,
    RESIDENT,
    SAME,
    STAFF,
    SYSTEM,
    TRANSITIONS,
    WORK,
    Transition,
)

from ...choices import (
    AgendaState,
    AttendanceState,
    ConsultationState,
    ExtensionState,
    MeetingState,
    OrderState,
)

DOC = Path(settings.BASE_DIR) / "docs" / "transitions.md"

_STATE_LABELS: dict[str, dict[str, Any]] = {
    CASE: dict(CaseState.choices),
    "order": dict(OrderState.choices),
    EXTENSION: dict(ExtensionState.choices),
    ATTENDANCE: dict(AttendanceState.choices),
    CONSULTATION: dict(ConsultationState.choices),
    MEETING: dict(MeetingState.choices),
    AGENDA: dict(AgendaState.choices),
}
_FACES = (
    (STAFF, "staff page"),
    (WORK, "case page's work panel"),
    (API, "API"),
    (RESIDENT, "residents' page"),
    (SYSTEM, "system"),
)

_HEADER = """# Transitions

<!-- Generated from the transition table in issues/workflow/rules.py by
     `python manage.py transitions_doc`; do not edit by hand.
     tests/issues/test_transition_table.py fails when this page and the table disagree. -->

Every change of a case's, an order's, an extension request's, an announced visit's, a
consultation's or a joint meeting's state is one row of the table in `issues/workflow/rules.py`
(`TRANSITIONS` for cases, `ORDER_TRANSITIONS` for department orders, their extension requests and
the visits their reports announce, `CONSULTATION_TRANSITIONS` for the opinions asked before
dispatch, `MEETING_TRANSITIONS` for joint meetings and their agenda items). Its service checks the
row with `issues.workflow.check` (the source state, then who may act; for orders, extensions,
visits, consultations and meetings who first) and, where the row names one next state, sets that
state from the row. The staff pages (`CASE_ACTIONS` in `issues/views.py`, `ORDER_ACTIONS` in
`issues/order_views.py`, `CONSULTATION_ACTIONS` in `issues/consultation_views.py`,
`MEETING_ACTIONS` in `issues/meeting_views.py`) and the API (`CASE_API` in `issues/api/views.py`,
`ORDER_API`, `EXTENSION_API` and `CONSULTATION_API` in `issues/api/order_views.py`, `MEETING_API`
in `issues/api/meeting_views.py`) are keyed by the rows' names; "via" says which of them offer a
row ("case page's work panel": `WORK_ACTIONS` in `issues/work_views.py`, the take/assign, notes
and progress-update forms of `templates/issues/staff/_case_work.html`). Adding a transition means a row, its service and its test;
`tests/issues/test_transition_table.py` fails until the faces the row names have it too.

Labels are the site's (zh-Hans); "(unchanged)" means the state stays as it was.
"""


def _state(subject: str, value: str) -> str:
    if value == SAME:
        return "(unchanged)"
    return f"`{value}` {_STATE_LABELS[subject][value]}"


def _row(t: Transition) -> str:
    sources = sorted(t.sources, key=list(_STATE_LABELS[t.subject]).index)
    needs = ", ".join(f"`{n.field}`" + (f" ({n.when})" if n.when else "") for n in t.needs) or "—"
    cells = [
        f"`{t.name}`",
        str(t.label),
        "<br>".join(_state(t.subject, s) for s in sources),
        str(t.who_label),
        needs,
        "<br>".join(_state(t.subject, s) for s in t.to) or "(unchanged)",
        ", ".join(label for face, label in _FACES if face in t.via),
        f"`{t.service}`",
        t.note or "—",
    ]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _table(title: str, rows: list[Transition]) -> str:
    head = "| name | label | from | who | needs | to | via | service | notes |\n" + "| --- " * 9 + "|"
    return f"## {title}\n\n{head}\n" + "\n".join(_row(t) for t in rows) + "\n"


def render() -> str:
    """The page, from the table as it is now."""
    with translation.override(settings.LANGUAGE_CODE):
        orders = [t for t in ORDER_TRANSITIONS.values() if t.subject not in (EXTENSION, ATTENDANCE)]
        visits = [t for t in ORDER_TRANSITIONS.values() if t.subject == ATTENDANCE]
        extensions = [t for t in ORDER_TRANSITIONS.values() if t.subject == EXTENSION]
        return "\n".join(
            [
                _HEADER,
                _table("Cases", list(TRANSITIONS.values())),
                _table("Department orders", orders),
                _table("Visits to the whistling community (报到到场)", visits),
                _table("Extension requests", extensions),
                _table(
                    "Consultations before dispatch (派单前征求意见)", list(CONSULTATION_TRANSITIONS.values())
                ),
                _table("Joint meetings and their agenda items", list(MEETING_TRANSITIONS.values())),
            ]
        )


class Command(BaseCommand):
    help = "Write docs/transitions.md from the transition table (--check: fail if it is out of date)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="write nothing; fail if the page is stale")

    def handle(self, *args: Any, **options: Any) -> None:
        text = render()
        if options["check"]:
            if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
                raise CommandError(f"{DOC} is out of date: run `python manage.py transitions_doc`")
            self.stdout.write(f"{DOC} is current")
            return
        DOC.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {DOC}")
