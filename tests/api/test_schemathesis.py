"""Property tests of the OpenAPI schema with schemathesis: no 5xx, and every response matches the schema.

Run against the Django WSGI app in-process, once as a staff user (a district
organisation officer: the widest non-superuser scope) and once anonymously, over
every GET and the state machine's transition POSTs. Generated path ids hit real
rows half of the time, so details and transitions answer 200/400/403/409 and not
only 404. Examples are few (``MAX_EXAMPLES``) to keep the run well under a minute.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
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
from issues.models import (
    Case,
    CommonIssue,
    DispatchOrder,
    ExtensionRequest,
    JointMeeting,
    PatrolLog,
    StandingMechanism,
)
from tests.factories import make_case

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
TRANSITION = re.compile(
    r"/(accept|start|whistle|dispatch|resolve|verify|feedback|close|reject|merge|supervise|chase"
    r"|receive|report|progress|complete|redispatch|insist|extension|community-decision|org-decision"
    r"|agenda-add|agenda-remove|hold|decide|review)/$"
)
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "positive", "max-examples": MAX_EXAMPLES},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)


@pytest.fixture
def seeded(world: Any) -> Any:
    """A little of everything, through the real services, so ids in paths can point at real rows."""
    import datetime as dt

    from django.utils import timezone

    from evaluation.services import evaluation_record
    from issues.workflow import case_dispatch
    from issues.workflow.orders import common_issue_create, extension_request, order_receive

    now = timezone.now()
    make_case(world, now=now)
    make_case(world, state="in_progress", now=now)
    make_case(world, state="awaiting_verification", now=now)
    make_case(world, state="awaiting_feedback", now=now)
    dispatched = case_dispatch(
        case=make_case(world, tier="district", now=now), actor=world.district_officer, lead=world.dept_lead
    )
    order = order_receive(order=dispatched.orders.get(), actor=world.lead_contact)
    extension_request(
        order=order, actor=world.lead_contact, reason="r", new_due=order.complete_due + dt.timedelta(days=9)
    )
    common_issue_create(actor=world.district_officer, title="共性", cases=[make_case(world, now=now)])
    from tests.api.test_evaluation import completed_order

    done = completed_order(world)
    evaluation_record(
        order=done,
        actor=world.community_worker_x,
        plan_quality=4,
        work_quality=4,
        cooperation=4,
        overall_score=80,
        opinion="好",
    )
    PatrolLog.objects.create(chief=world.chief_x, alley=world.alley_x, date=dt.date(2026, 3, 2))
    _meetings(world, now)
    return world


def _meetings(world: Any, now: Any) -> None:
    """A planned and a held district meeting, a decision that made a mechanism, and a file."""
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile

    from issues.workflow.mechanisms import MechanismDraft
    from issues.workflow.meetings import agenda_item_decide, meeting_attach, meeting_hold, meeting_plan

    officer = world.district_officer
    for _ in range(2):
        make_case(world, category=world.cat_c, tier="district", now=now)
    meeting_plan(actor=officer, area=world.district, date=now.date())
    held = meeting_plan(actor=officer, area=world.district, date=now.date())
    meeting_hold(meeting=held, actor=officer, present_departments=[world.dept_lead], minutes="纪要")
    agenda_item_decide(
        item=held.items.first(),
        actor=officer,
        decision="mechanism",
        mechanism=MechanismDraft(
            title="机制",
            owner_department=world.dept_lead,
            review_on=now.date() + dt.timedelta(days=30),
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
    """The schema's GET operations and transition POSTs, loaded once from the running app."""
    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler(), config=CONFIG)
    selected = loaded.include(method="GET").include(
        func=lambda ctx: bool(TRANSITION.search(ctx.operation.path))
    )
    return [result.ok() for result in selected.get_all_operations()]


@pytest.fixture
def operations(seeded: Any) -> list[Any]:
    found = load_operations()
    assert len(found) > 40
    return found


# Real keys per resource (the first path segment after /api/v1/), used for half of the generated ids.
REAL: dict[str, Callable[[], list[Any]]] = {
    "cases": lambda: list(Case.objects.values_list("pk", flat=True)),
    "orders": lambda: list(DispatchOrder.objects.values_list("pk", flat=True)),
    "extensions": lambda: list(ExtensionRequest.objects.values_list("pk", flat=True)),
    "common-issues": lambda: list(CommonIssue.objects.values_list("pk", flat=True)),
    "departments": lambda: list(Department.objects.values_list("pk", flat=True)),
    "patrols": lambda: list(PatrolLog.objects.values_list("pk", flat=True)),
    "meetings": lambda: list(JointMeeting.objects.values_list("pk", flat=True)),
    "mechanisms": lambda: list(StandingMechanism.objects.values_list("pk", flat=True)),
    "evaluations": lambda: list(DepartmentEvaluation.objects.values_list("pk", flat=True)),
    "areas": lambda: list(Area.objects.values_list("code", flat=True)),
    "alleys": lambda: list(Area.objects.filter(level="alley").values_list("code", flat=True)),
    "categories": lambda: list(CategoryType.objects.values_list("code", flat=True)),
    "category-classes": lambda: list(CategoryClass.objects.values_list("code", flat=True)),
}


def aim_at_real_rows(case: Any) -> None:
    params = case.path_parameters
    if not params:
        return
    resource = case.operation.path.split("/")[3]
    for name, value in list(params.items()):
        keys = REAL.get(resource, list)()
        pick = zlib.crc32(str(value).encode())  # deterministic, unlike hash()
        if keys and pick % 2 == 0:
            params[name] = keys[pick % len(keys)]


def run(case: Any, headers: dict[str, str]) -> None:
    aim_at_real_rows(case)
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)


HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def fuzz(operations: list[Any], headers: dict[str, str]) -> None:
    # Driven by hypothesis directly: schemathesis's pytest plugin does not run under pytest 9.
    for operation in operations:

        @HYPOTHESIS
        @given(case=operation.as_strategy(GenerationMode.POSITIVE))
        def check(case: Any) -> None:
            run(case, headers)

        try:
            check()
        except Exception as exc:
            raise AssertionError(f"{operation.label}: {exc}") from exc


def test_staff(operations: list[Any], seeded: Any) -> None:
    token, _created = Token.objects.get_or_create(user=seeded.district_officer)
    fuzz(operations, {"Authorization": f"Token {token.key}", "Accept-Language": "zh-hans"})


def test_anonymous(operations: list[Any]) -> None:
    fuzz(operations, {"Accept-Language": "en"})
