"""The transition table is the one declaration: every face that offers a row has it, and the docs page is it.

A row names its service, what the service needs, and which faces offer it (staff page, API,
residents' page, system). Adding a row without its service, its staff form and runner or its
API route (or without saying it is not offered there) fails here; so does a docs page that no
longer says what the table says.
"""

from __future__ import annotations

import inspect

import pytest
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils.module_loading import import_string

from issues.api.order_views import (
    CONSULTATION_API,
    EXTENSION_API,
    ORDER_API,
    ConsultationViewSet,
    ExtensionViewSet,
    OrderViewSet,
)
from issues.api.views import CASE_API, CaseViewSet
from issues.choices import AttendanceState, CaseState, ConsultationState, ExtensionState, OrderState
from issues.consultation_views import CONSULTATION_ACTIONS
from issues.forms import TRANSITION_FORMS
from issues.management.commands.transitions_doc import DOC, render
from issues.order_views import ORDER_ACTIONS
from issues.views import CASE_ACTIONS, LINKED_TRANSITIONS
from issues.work import WORK_FORMS
from issues.work_views import BULK_ACTIONS, WORK_ACTIONS
from issues.workflow import (
    API,
    ATTENDANCE,
    CASE,
    CONSULTATION,
    CONSULTATION_TRANSITIONS,
    EXTENSION,
    ORDER,
    ORDER_TRANSITIONS,
    SAME,
    STAFF,
    SYSTEM,
    TRANSITIONS,
    WORK,
    Transition,
)

ROWS = [*TRANSITIONS.values(), *ORDER_TRANSITIONS.values(), *CONSULTATION_TRANSITIONS.values()]
STATES = {
    CASE: set(CaseState.values),
    ORDER: set(OrderState.values),
    EXTENSION: set(ExtensionState.values),
    ATTENDANCE: set(AttendanceState.values),
    CONSULTATION: set(ConsultationState.values),
}


def ids(rows: list[Transition]) -> list[str]:
    return [f"{t.subject}-{t.name}" for t in rows]


def test_the_docs_page_is_the_table() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/transitions.md disagrees with the table: run `python manage.py transitions_doc`"
    )


@pytest.mark.parametrize("t", ROWS, ids=ids(ROWS))
def test_each_row_is_well_formed(t: Transition) -> None:
    assert t.sources and t.sources <= STATES[t.subject]
    assert set(t.to) <= STATES[t.subject] | {SAME}
    assert t.via, "a row no face offers is a row nobody can use"
    if len(t.to) == 1 and t.to[0] != SAME:
        assert t.next_state == t.to[0]
    else:
        with pytest.raises(ValueError, match="no single next state"):
            _ = t.next_state


@pytest.mark.parametrize("t", ROWS, ids=ids(ROWS))
def test_each_row_has_its_service_and_the_service_takes_what_the_row_needs(t: Transition) -> None:
    service = import_string(t.service)
    parameters = inspect.signature(service).parameters
    missing = [need.field for need in t.needs if need.field not in parameters]
    assert missing == [], f"{t.service} takes no {missing}"


CASE_ROWS = list(TRANSITIONS.values())
ORDER_ROWS = list(ORDER_TRANSITIONS.values())
CONSULTATION_ROWS = list(CONSULTATION_TRANSITIONS.values())


@pytest.mark.parametrize("t", CASE_ROWS, ids=ids(CASE_ROWS))
def test_a_case_row_is_on_the_staff_page_exactly_when_it_says_so(t: Transition) -> None:
    on_page = t.name in LINKED_TRANSITIONS or (t.name in CASE_ACTIONS and t.name in TRANSITION_FORMS)
    assert on_page == (STAFF in t.via)


@pytest.mark.parametrize("t", ORDER_ROWS, ids=ids(ORDER_ROWS))
def test_an_order_row_is_on_the_staff_page_exactly_when_it_says_so(t: Transition) -> None:
    assert (t.name in ORDER_ACTIONS) == (STAFF in t.via)


@pytest.mark.parametrize("t", CONSULTATION_ROWS, ids=ids(CONSULTATION_ROWS))
def test_a_consultation_row_is_on_the_staff_page_and_the_api_exactly_when_it_says_so(t: Transition) -> None:
    assert (t.name in CONSULTATION_ACTIONS) == (STAFF in t.via)
    assert (t.name in CONSULTATION_API) == (API in t.via)
    if t.name in CONSULTATION_API:
        assert _routed(f"/api/v1/consultations/1/{CONSULTATION_API[t.name].url_path}/", ConsultationViewSet)


@pytest.mark.parametrize("t", CASE_ROWS, ids=ids(CASE_ROWS))
def test_a_case_row_is_in_the_work_panel_exactly_when_it_says_so(t: Transition) -> None:
    # Take/assign, internal notes and progress updates: the case page's work panel (_case_work.html).
    assert (t.name in WORK_ACTIONS and t.name in WORK_FORMS) == (WORK in t.via)


def test_the_bulk_actions_are_rows_offered_on_the_staff_pages() -> None:
    assert set(BULK_ACTIONS) <= set(TRANSITIONS)
    assert all(TRANSITIONS[name].via & {STAFF, WORK} for name in BULK_ACTIONS)


def test_the_staff_registries_name_only_rows() -> None:
    assert set(CASE_ACTIONS) == set(TRANSITION_FORMS)
    assert set(CASE_ACTIONS) | set(LINKED_TRANSITIONS) <= set(TRANSITIONS)
    assert set(ORDER_ACTIONS) <= set(ORDER_TRANSITIONS)
    assert set(CASE_API) <= set(TRANSITIONS)
    assert set(ORDER_API) | set(EXTENSION_API) <= set(ORDER_TRANSITIONS)
    assert set(CONSULTATION_ACTIONS) | set(CONSULTATION_API) <= set(CONSULTATION_TRANSITIONS)


def _routed(path: str, viewset: type) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    view = match.func
    return getattr(view, "cls", None) is viewset and "post" in getattr(view, "actions", {})


@pytest.mark.parametrize("t", CASE_ROWS, ids=ids(CASE_ROWS))
def test_a_case_row_has_an_api_route_exactly_when_it_says_so(t: Transition) -> None:
    assert (t.name in CASE_API) == (API in t.via)
    assert _routed(f"/api/v1/cases/1/{t.name}/", CaseViewSet) == (API in t.via)


@pytest.mark.parametrize("t", ORDER_ROWS, ids=ids(ORDER_ROWS))
def test_an_order_row_has_an_api_route_exactly_when_it_says_so(t: Transition) -> None:
    if t.subject == EXTENSION:
        assert (t.name in EXTENSION_API) == (API in t.via)
        if t.name in EXTENSION_API:
            assert _routed(f"/api/v1/extensions/1/{EXTENSION_API[t.name].url_path}/", ExtensionViewSet)
    else:
        assert (t.name in ORDER_API) == (API in t.via)
        assert _routed(f"/api/v1/orders/1/{t.name}/", OrderViewSet) == (API in t.via)


def test_system_only_rows_are_offered_by_no_face() -> None:
    # The sweep's escalation and the consequences of other transitions: no button, no route.
    system_only = {t.name for t in ROWS if t.via == frozenset({SYSTEM})}
    assert {"escalate", "mark-in-progress", "withdraw", "reopen"} <= system_only
    for name in system_only:
        assert name not in CASE_ACTIONS and name not in ORDER_ACTIONS
        assert not _routed(f"/api/v1/cases/1/{name}/", CaseViewSet)
        assert not _routed(f"/api/v1/orders/1/{name}/", OrderViewSet)


@pytest.mark.django_db
def test_the_staff_site_refuses_a_row_it_does_not_offer(admin_client: Client) -> None:
    assert admin_client.post("/staff/cases/1/escalate/").status_code == 404
    assert admin_client.post("/staff/orders/1/withdraw/").status_code == 404
