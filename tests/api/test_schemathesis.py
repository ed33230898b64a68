"""Property tests of the whole OpenAPI schema with schemathesis: no 5xx, every response as documented.

Covers every operation of ``/api/schema/`` (lists, details, creates, the state machine's transitions,
``/me/``, the rates, the token endpoint; the API has no PUT, PATCH or DELETE today, and would get
them too) called in-process through the Django WSGI app as three roles: anonymous, an alley chief
(``world.chief_x``) and a superuser. Each operation gets positive examples (valid by the schema);
each operation with a request body also gets negative ones (bodies the schema forbids, in JSON, form
and multipart encodings): malformed input gets a documented error in the shape of
``core/api/errors.py`` (400, or 415 for a body in no media type), never a 500. Checks: no server
error; status codes, content types, headers and bodies as the schema declares them.

Generated ids and codes often point at real rows (in paths half of the time, any row, so rows
outside the chief's territory answer 404; in bodies three times in four, rows the caller may see),
so details, creates and transitions reach 200/201/403/409 and not only 404 or 400. Throttling and
django-axes stay on as in production: the token endpoint is called more often than its 10/min
throttle allows, and its 429 is in the schema.

Time: about 75 s on PostgreSQL and 45 s on SQLite with the test database's creation, 45 s and 35 s
without, on a busy 2-core machine (29 s of CPU): few examples per operation, derandomized.
"""

from __future__ import annotations

import datetime as dt
import functools
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.db.models import QuerySet
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alleys.models import Area, Department
from dispatch.models import CategoryClass, CategoryType
from evaluation.models import DepartmentEvaluation
from evaluation.services import evaluation_record
from issues.models import (
    Case,
    CommonIssue,
    DispatchOrder,
    ExtensionRequest,
    JointMeeting,
    PatrolLog,
    StandingMechanism,
)
from issues.workflow import case_dispatch
from issues.workflow.orders import common_issue_create, extension_request, order_receive
from tests.factories import World, make_case

from .test_evaluation import completed_order

pytestmark = pytest.mark.django_db

# Examples per operation and role: positive for all ~55 operations, negative for the ~35 with a body.
# Generating them is most of the time. An anonymous caller gets fewer: every operation but the token
# endpoint answers 401 before it reads any input, so more examples would only repeat that.
MAX_EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 5}
ANONYMOUS_EXAMPLES = {GenerationMode.POSITIVE: 3, GenerationMode.NEGATIVE: 2}
TOKEN = "POST /api/v1/auth/token/"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all"},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
SUPERUSER = ("root", "correct horse battery staple")  # Django's password validators want 12+ characters


@pytest.fixture
def seeded(world: World) -> World:
    """A little of everything, through the real services, so ids in paths can point at real rows."""
    now = timezone.now()
    make_case(world, now=now)
    make_case(world, state="in_progress", now=now)
    make_case(world, state="awaiting_verification", now=now)
    make_case(world, state="awaiting_feedback", now=now)
    make_case(world, state="awaiting_return_visit", now=now)
    make_case(world, alley=world.other_alley, now=now)  # outside the chief's territory
    dispatched = case_dispatch(
        case=make_case(world, tier="district", now=now), actor=world.district_officer, lead=world.dept_lead
    )
    order = order_receive(order=dispatched.orders.get(), actor=world.lead_contact)
    extension_request(
        order=order, actor=world.lead_contact, reason="r", new_due=order.complete_due + dt.timedelta(days=9)
    )
    common_issue_create(actor=world.district_officer, title="共性", cases=[make_case(world, now=now)])
    evaluation_record(
        order=completed_order(world),
        actor=world.community_worker_x,
        plan_quality=4,
        work_quality=4,
        cooperation=4,
        overall_score=80,
        opinion="好",
    )
    completed_order(world)  # one left to evaluate
    PatrolLog.objects.create(chief=world.chief_x, alley=world.alley_x, date=dt.date(2026, 3, 2))
    _meetings(world, now)
    return world


@pytest.fixture
def superuser(seeded: World) -> Any:
    """A superuser made the way an operator makes one (``createsuperuser``), not the world's ``admin``."""
    username, password = SUPERUSER
    return get_user_model().objects.create_superuser(username, f"{username}@example.org", password)


def _meetings(world: Any, now: Any) -> None:
    """A planned and a held district meeting, a decision that made a mechanism, and a file."""
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile

    from issues.workflow.mechanisms import MechanismDraft
    from issues.workflow.meetings import agenda_item_decide, meeting_attach, meeting_hold, meeting_plan

    officer = world.district_officer
    for _ in range(2):
        make_case(world, category=world.cat_c, tier="district", now=now)
    meeting_plan(actor=officer, area=world.district, date=timezone.localdate(now))
    held = meeting_plan(actor=officer, area=world.district, date=timezone.localdate(now))
    meeting_hold(meeting=held, actor=officer, present_departments=[world.dept_lead], minutes="纪要")
    agenda_item_decide(
        item=held.items.first(),
        actor=officer,
        decision="mechanism",
        mechanism=MechanismDraft(
            title="机制",
            owner_department=world.dept_lead,
            review_on=timezone.localdate(now) + dt.timedelta(days=30),
            category_class=world.cat_c.category_class,
        ),
    )
    meeting_attach(meeting=held, actor=officer, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"))


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Django's WSGI handler closes "old" connections after each request, which would end the test's
    transaction on PostgreSQL; the test client avoids that the same way, by disconnecting the handler."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@functools.cache
def load_operations() -> list[Any]:
    """Every operation of the schema, loaded once from the running app."""
    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler(), config=CONFIG)
    return [result.ok() for result in loaded.get_all_operations()]


@pytest.fixture
def operations(superuser: Any) -> list[Any]:
    found = load_operations()
    labels = {operation.label for operation in found}
    assert len(found) > 50
    assert {"POST /api/v1/cases/", "POST /api/v1/patrols/", TOKEN} <= labels
    return found


# Real rows per resource: the first path segment after /api/v1/, and the body fields naming one.
ROWS: dict[str, tuple[Callable[[], QuerySet[Any]], str]] = {
    "cases": (Case.objects.all, "pk"),
    "orders": (DispatchOrder.objects.all, "pk"),
    "extensions": (ExtensionRequest.objects.all, "pk"),
    "common-issues": (CommonIssue.objects.all, "pk"),
    "departments": (Department.objects.all, "pk"),
    "patrols": (PatrolLog.objects.all, "pk"),
    "meetings": (JointMeeting.objects.all, "pk"),
    "mechanisms": (StandingMechanism.objects.all, "pk"),
    "evaluations": (DepartmentEvaluation.objects.all, "pk"),
    "areas": (Area.objects.all, "code"),
    "alleys": (lambda: Area.objects.filter(level="alley"), "code"),
    "categories": (CategoryType.objects.all, "code"),
    "category-classes": (CategoryClass.objects.all, "code"),
}
BODY_FIELDS: dict[str, str] = {
    "alley": "alleys",
    "category": "categories",
    "patrol": "patrols",
    "order": "orders",
    "into": "cases",
    "lead": "departments",
    "department": "departments",
    "departments": "departments",
    "cooperating": "departments",
    "community": "areas",
}


def real_or(value: Any, resource: str, user: Any = None) -> Any:
    """Often (chosen from ``value``, deterministically) a real key of ``resource``, else ``value``.

    In a path (no ``user``) half of the time, any row. In a body three times in four, and only rows
    the ``user`` may see: a body names several rows, and one unknown is enough for a plain 400.
    """
    rows, key = ROWS[resource]
    queryset = rows()
    if user is not None and hasattr(queryset, "visible_to"):
        queryset = queryset.visible_to(user)
    keys = list(queryset.order_by(key).values_list(key, flat=True))
    pick = zlib.crc32(repr(value).encode())  # deterministic, unlike hash()
    aimed = pick % 4 != 0 if user is not None else pick % 2 == 0
    return keys[pick % len(keys)] if keys and aimed else value


def aim_at_real_rows(case: Any, user: Any) -> None:
    resource = case.operation.path.split("/")[3]
    for name, value in list((case.path_parameters or {}).items()):
        if resource in ROWS:
            case.path_parameters[name] = real_or(value, resource)
    body = case.body
    if not isinstance(body, dict):
        return
    for name in BODY_FIELDS.keys() & body.keys():
        value, resource = body[name], BODY_FIELDS[name]
        if isinstance(value, list):
            body[name] = [real_or(item, resource, user) for item in value]
        else:
            body[name] = real_or(value, resource, user)
    if case.operation.path.endswith("/auth/token/") and zlib.crc32(repr(body).encode()) % 3 == 0:
        body["username"], body["password"] = SUPERUSER


def hypothesis_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def modes(operation: Any) -> list[GenerationMode]:
    """Negative examples where the input is a body; the filters' parameters have their own tests."""
    if operation.method.upper() in ("POST", "PUT", "PATCH"):
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


def fuzz(operations: list[Any], user: Any, headers: dict[str, str]) -> None:
    """Every operation in every mode; all failures reported together, one per operation and mode."""
    failures: list[str] = []
    for operation in operations:
        examples = ANONYMOUS_EXAMPLES if user is None and operation.label != TOKEN else MAX_EXAMPLES
        for mode in modes(operation):
            # Driven by hypothesis directly: schemathesis's pytest plugin does not run under pytest 9.
            @hypothesis_settings(examples[mode])
            @given(case=operation.as_strategy(mode))
            def check(case: Any) -> None:
                aim_at_real_rows(case, user)
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                check()
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis's FailureGroup is the latter
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)


def token(user: Any) -> str:
    key, _created = Token.objects.get_or_create(user=user)
    return f"Token {key.key}"


def test_anonymous(operations: list[Any]) -> None:
    fuzz(operations, None, {"Accept-Language": "en"})


def test_alley_chief(operations: list[Any], seeded: World) -> None:
    fuzz(operations, seeded.chief_x, {"Authorization": token(seeded.chief_x), "Accept-Language": "zh-hans"})


def test_superuser(operations: list[Any], superuser: Any) -> None:
    fuzz(operations, superuser, {"Authorization": token(superuser), "Accept-Language": "en"})
