"""dispatch/notify.py: who is told, only after commit, and a failing channel never touches the case."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from alleys import reference as alleys_reference
from alleys.choices import AreaLevel, Role
from issues import reference as issues_reference
from issues.choices import CaseState, ChannelKind, DeliveryState, EventKind
from issues.models import (
    Case,
    CaseEvent,
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationOutbox,
)
from issues.notify import clear_unit_caches, deliver_one, fan_out, mark_read
from issues.sweep import run_sweep
from issues.workflow import case_dispatch, case_resolve, case_submit, case_whistle
from tests.factories import MONDAY, RoleAssignmentFactory, World, build_buildings, make_case

pytestmark = pytest.mark.django_db
S = CaseState
T = AreaLevel
User = get_user_model()
REPORTER = ("张三", "13900001234")  # make_case's reporter: never in a message
CLOSED_PORT = "http://127.0.0.1:9/"  # the discard port: nothing listens there


def inbox() -> dict[str, int]:
    """Unread messages about cases per username (only users with messages).

    (The calendar's yearly reminder, which a sweep at today's date may send, is not about a case.)
    """
    counts: dict[str, int] = {}
    about_cases = Notification.objects.unread().filter(case__isnull=False)
    for username in about_cases.values_list("recipient__username", flat=True):
        counts[username] = counts.get(username, 0) + 1
    return counts


def assert_no_personal_data() -> None:
    texts = [
        *Notification.objects.values_list("title", "body"),
        *NotificationDelivery.objects.values_list("title", "body"),
    ]
    assert texts, "expected some messages"
    for title, body in texts:
        for secret in REPORTER:
            assert secret not in title and secret not in body


# --- after commit only ---------------------------------------------------------------------------


def test_a_transition_enqueues_its_notification_on_commit(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case(world, state=S.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY)
    assert len(callbacks) == 1
    assert not Notification.objects.exists()  # nothing is told before the commit
    for callback in callbacks:
        callback()
    assert inbox() == {"community_worker_x": 1}


def test_a_rolled_back_transition_enqueues_nothing(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case(world, state=S.ACCEPTED)
    before = Case.objects.filter(pk=case.pk).values().get()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY)
        raise RuntimeError("the request failed after the service returned")
    assert callbacks == []
    assert not Notification.objects.exists() and not NotificationDelivery.objects.exists()
    assert Case.objects.filter(pk=case.pk).values().get() == before
    assert not case.events.filter(kind=EventKind.WHISTLED).exists()


# --- who is told ---------------------------------------------------------------------------------------


def run_after_commit(django_capture_on_commit_callbacks: Any, call: Callable[[], Any]) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call()


def test_a_whistle_tells_the_holder_of_the_new_tier_but_not_the_actor(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case(world, state=S.ACCEPTED, tier=T.COMMUNITY)
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_whistle(case=case, actor=world.community_worker_x, reason="需街道协调", now=MONDAY),
    )
    assert inbox() == {"street_worker": 1}
    # The community worker acting for an alley whistles it to their own community: not told of their own act.
    Notification.objects.all().delete()
    alley_case = make_case(world, state=S.ACCEPTED)
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_whistle(
            case=alley_case, actor=world.community_worker_x, reason="需社区协调", now=MONDAY
        ),
    )
    assert inbox() == {}


def test_a_safety_hazard_tells_its_community_and_street_at_once(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """Issue 15, defect 1: the report starts with the alley's team; the type's alert tells those above."""
    world.cat_d.alert_tier = T.STREET
    world.cat_d.save()
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_submit(
            category=world.cat_d, alley=world.alley_x, description="墙体开裂", reporter_phone="13800000000"
        ),
    )
    case = Case.objects.get()
    assert (case.tier, case.holder_area) == (T.ALLEY, world.alley_x)
    told = inbox()
    assert told.keys() >= {"chief_x", "community_worker_x", "street_worker"}
    assert "district_officer" not in told and "community_worker_y" not in told


def test_an_urgent_report_tells_its_community_at_once(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_submit(
            category=world.cat_a, alley=world.alley_x, description="井盖没了", urgency="urgent"
        ),
    )
    told = inbox()
    assert "community_worker_x" in told and "street_worker" not in told
    Notification.objects.all().delete()
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_submit(category=world.cat_a, alley=world.alley_x, description="路灯不亮"),
    )
    assert "community_worker_x" not in inbox()  # an ordinary lamp stays with the alley's team


def test_a_report_for_a_building_tells_its_head_for_the_classes_they_handle(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """The building head handles an A-class case of their building beside the alley's team: told with them."""
    b = build_buildings(world)
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_submit(
            category=world.cat_a, alley=world.alley_x, building=b.one, description="楼道灯不亮"
        ),
    )
    told = inbox()
    assert {"chief_x", "head_one"} <= told.keys()
    assert "head_two" not in told and "head_other_alley" not in told
    [message] = Notification.objects.filter(recipient=b.head_one)
    assert message.case == Case.objects.get()
    Notification.objects.all().delete()
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_submit(
            category=world.cat_b, alley=world.alley_x, building=b.one, description="楼上漏水"
        ),
    )
    assert "chief_x" in inbox() and "head_one" not in inbox()  # a B-class case is the alley team's alone


def test_an_automatic_escalation_tells_the_new_holder(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case(world)
    Case.objects.filter(pk=case.pk).update(warn_at=None)  # only the escalation is due
    run_after_commit(
        django_capture_on_commit_callbacks, lambda: run_sweep(now=case.accept_due + dt.timedelta(minutes=1))
    )
    assert Case.objects.get(pk=case.pk).tier == T.COMMUNITY
    assert inbox() == {"community_worker_x": 1}
    message = Notification.objects.get()
    assert message.kind == EventKind.ESCALATED and case.tracking_code in message.title


def test_a_stale_warning_does_not_reach_the_new_holder(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case(
        world
    )  # warn at 13:12, accept by 14:00; the sweep next runs at 14:01 (e.g. after an outage)
    run_after_commit(
        django_capture_on_commit_callbacks, lambda: run_sweep(now=case.accept_due + dt.timedelta(minutes=1))
    )
    assert set(
        Notification.objects.filter(recipient=world.community_worker_x).values_list("kind", flat=True)
    ) == {EventKind.ESCALATED}


def test_a_dispatch_tells_the_departments(world: World, django_capture_on_commit_callbacks: Any) -> None:
    case = make_case(world, state=S.ACCEPTED, tier=T.DISTRICT)
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_dispatch(
            case=case,
            actor=world.district_officer,
            lead=world.dept_lead,
            cooperating=[world.dept_coop],
            now=MONDAY,
        ),
    )
    assert inbox() == {"lead_contact": 1, "coop_contact": 1}


def test_a_resolution_tells_the_community_that_verifies(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case(world, state=S.IN_PROGRESS)
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_resolve(case=case, actor=world.chief_x, note="已更换灯泡", now=MONDAY),
    )
    assert inbox() == {"community_worker_x": 1}
    message = Notification.objects.get()
    assert (message.case, message.body) == (case, "已更换灯泡")
    assert mark_read(user_id=world.community_worker_x.pk) == 1
    assert inbox() == {}


def test_an_overdue_order_is_flagged_to_the_dispatching_org_department(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case(world, state=S.ACCEPTED, tier=T.DISTRICT)
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=MONDAY)
    order = case.orders.get()
    run_after_commit(
        django_capture_on_commit_callbacks, lambda: run_sweep(now=order.report_due + dt.timedelta(minutes=1))
    )
    assert inbox() == {"district_officer": 1}
    assert Notification.objects.get().kind == EventKind.ORDER_OVERDUE


def test_a_not_solved_answer_tells_the_lead_department_to_resume(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    from issues.choices import FeedbackSolved, Satisfaction
    from issues.workflow import case_feedback, case_verify
    from issues.workflow.orders import order_complete, order_report

    case = make_case(world, state=S.ACCEPTED, tier=T.DISTRICT)
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=MONDAY)
    order = case.orders.get()
    order_report(
        order=order,
        actor=world.lead_contact,
        leader_name="王",
        contact_name="李",
        contact_phone="0595-1",
        work_plan="清理",
        visit_at=MONDAY,
        visitors=["王"],
        now=MONDAY,
    )
    order_complete(order=order, actor=world.lead_contact, note="已清理", now=MONDAY)
    case_verify(case=case, actor=world.community_worker_x, passed=True, now=MONDAY)
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_feedback(
            case=case, solved=FeedbackSolved.NOT_SOLVED, satisfaction=Satisfaction.DISSATISFIED, now=MONDAY
        ),
    )
    order.refresh_from_db()
    assert order.state == "reported"  # the order is back at work ...
    assert Notification.objects.filter(recipient=world.lead_contact, kind=EventKind.REOPENED).exists()


def test_messages_carry_no_personal_data(world: World, django_capture_on_commit_callbacks: Any) -> None:
    NotificationChannel.objects.create(
        area=world.community_x, kind=ChannelKind.EMAIL, target="sq@example.org"
    )
    case = make_case(world, state=S.ACCEPTED)
    assert (case.reporter_name, case.reporter_phone) == REPORTER
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY),
    )
    assert_no_personal_data()


def test_fan_out_is_idempotent_in_what_it_reads_and_ignores_unknown_events(world: World) -> None:
    assert fan_out([987654]) == 0
    case = make_case(world, state=S.IN_PROGRESS)
    event = CaseEvent.objects.create(case=case, kind=EventKind.NOTE, note="内部备注")
    assert fan_out([event.pk]) == 0  # a note goes to nobody


# --- channels: failure isolation --------------------------------------------------------------------------


def test_a_failing_webhook_is_marked_failed_and_never_touches_the_case(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    NotificationChannel.objects.create(area=world.community_x, kind=ChannelKind.WEBHOOK, target=CLOSED_PORT)
    case = make_case(world, state=S.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY)
    committed = Case.objects.filter(pk=case.pk).values().get()
    assert committed["tier"] == T.COMMUNITY
    # After the commit: the fan-out task writes the inbox and queues one delivery per channel.
    with django_capture_on_commit_callbacks(execute=False) as deliveries:
        for callback in after_commit:
            callback()
    assert inbox() == {"community_worker_x": 1}
    [delivery] = NotificationDelivery.objects.all()
    assert delivery.state == DeliveryState.PENDING
    # The delivery task fails (the port is closed): the row says so and when to try again (the
    # sweep's job, not a broker message with a countdown, which a flushed Redis would lose).
    for callback in deliveries:
        callback()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == 1 and "refused" in delivery.last_error.lower()
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > timezone.now()
    # Another try counts another attempt, further off; the case and the inbox are untouched.
    first_retry = delivery.next_attempt_at
    assert deliver_one(delivery.pk) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.next_attempt_at > first_retry
    assert Case.objects.filter(pk=case.pk).values().get() == committed
    assert inbox() == {"community_worker_x": 1}


def test_a_failing_delivery_is_given_up_after_the_last_attempt(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.JXT_DELIVERY_MAX_ATTEMPTS = 2
    NotificationChannel.objects.create(area=world.community_x, kind=ChannelKind.WEBHOOK, target=CLOSED_PORT)
    case = make_case(world, state=S.ACCEPTED)
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY),
    )
    delivery = NotificationDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 1)
    assert deliver_one(delivery.pk) == DeliveryState.FAILED
    delivery.refresh_from_db()
    # Given up: no next attempt, so no sweep sends it again; the admin shows the error.
    assert (delivery.attempts, delivery.next_attempt_at) == (2, None)
    assert deliver_one(delivery.pk) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_the_caller_never_sees_a_channel_failure(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    NotificationChannel.objects.create(area=world.community_x, kind=ChannelKind.WEBHOOK, target=CLOSED_PORT)
    case = make_case(world, state=S.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY)
    assert Case.objects.get(pk=case.pk).tier == T.COMMUNITY
    assert NotificationDelivery.objects.get().state == DeliveryState.FAILED


class _Robot(BaseHTTPRequestHandler):
    """A group robot that records what it is sent."""

    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Robot.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"errcode":0}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def robot() -> Iterator[str]:
    _Robot.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/robot/send?key=test"
    server.shutdown()
    server.server_close()


def test_a_webhook_delivery_is_sent_once(
    world: World, robot: str, django_capture_on_commit_callbacks: Any
) -> None:
    NotificationChannel.objects.create(area=world.community_x, kind=ChannelKind.WEBHOOK, target=robot)
    case = make_case(world, state=S.ACCEPTED)
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY),
    )
    delivery = NotificationDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_error) == (DeliveryState.SENT, 1, "")
    [payload] = _Robot.received
    assert payload["msgtype"] == "text"
    content = payload["text"]["content"]
    assert case.tracking_code in content and "需社区协调" in content
    assert all(secret not in content for secret in REPORTER)
    # Delivered already: a redelivered task sends nothing more.
    assert deliver_one(delivery.pk) == DeliveryState.SENT
    assert len(_Robot.received) == 1


def test_inactive_channels_and_other_units_get_nothing(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    NotificationChannel.objects.create(
        area=world.community_x, kind=ChannelKind.WEBHOOK, target=CLOSED_PORT, is_active=False
    )
    NotificationChannel.objects.create(
        area=world.community_y, kind=ChannelKind.EMAIL, target="xj@example.org"
    )
    case = make_case(world, state=S.ACCEPTED)
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY),
    )
    assert not NotificationDelivery.objects.exists()


def test_fan_out_reads_a_constant_number_of_queries(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    NotificationChannel.objects.create(area=world.street, kind=ChannelKind.EMAIL, target="jd@example.org")

    def whistled(n: int) -> list[int]:
        ids = []
        for _ in range(n):
            case = make_case(world, state=S.ACCEPTED, tier=T.COMMUNITY)
            case_whistle(case=case, actor=world.community_worker_x, reason="需街道协调", now=MONDAY)
            ids.append(case.events.get(kind=EventKind.WHISTLED).pk)
        return ids

    sizes = {}
    for n in (3, 30):
        ids = whistled(n)
        # Cold: the units' people and channels, the areas and the category types are read too.
        clear_unit_caches()
        alleys_reference.clear()
        issues_reference.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert fan_out(ids) == n
        sizes[n] = len(ctx.captured_queries)
    assert sizes[3] == sizes[30]
    # Warm (the every-day case): people, channels, areas and types come from the process;
    # what is left is the events' read and the two inserts.
    ids = whistled(5)
    with CaptureQueriesContext(connection) as ctx:
        assert fan_out(ids) == 5
    assert len(ctx.captured_queries) == sizes[3] - 4 == 3
    assert NotificationDelivery.objects.count() == 38


def test_a_new_role_or_channel_is_used_at_once(world: World) -> None:
    """The per-process copy of a unit's people and channels is dropped when either changes."""

    def whistle_one() -> int:
        case = make_case(world, state=S.ACCEPTED, tier=T.COMMUNITY)
        case_whistle(case=case, actor=world.community_worker_x, reason="需街道协调", now=MONDAY)
        return case.events.get(kind=EventKind.WHISTLED).pk

    fan_out([whistle_one()])  # the street's people and (no) channels are now remembered
    newcomer = User.objects.create_user("street_newcomer")
    RoleAssignmentFactory(user=newcomer, role=Role.STREET_STAFF, area=world.street)
    NotificationChannel.objects.create(area=world.street, kind=ChannelKind.EMAIL, target="jd@example.org")
    fan_out([whistle_one()])
    assert Notification.objects.filter(recipient=newcomer).count() == 1
    assert NotificationDelivery.objects.count() == 1
    newcomer.is_active = False
    newcomer.save()
    fan_out([whistle_one()])
    assert Notification.objects.filter(recipient=newcomer).count() == 1


# --- a redelivered task (acks late: a worker killed half-way) --------------------------------------


def test_a_redelivered_task_tells_everyone_once(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    from issues.tasks import notify_events

    NotificationChannel.objects.create(
        area=world.community_x, kind=ChannelKind.EMAIL, target="sq@example.org"
    )
    case = make_case(world, state=S.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=False):
        case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY)
    event = case.events.get(kind=EventKind.WHISTLED)
    with django_capture_on_commit_callbacks(execute=False) as first:
        assert notify_events.run([event.pk]) == 1  # one message: the community worker
    with django_capture_on_commit_callbacks(execute=False) as again:
        assert notify_events.run([event.pk]) == 0  # nothing new to say
    assert inbox() == {"community_worker_x": 1}
    message = Notification.objects.get()
    assert (message.event_id, message.case_id, message.kind) == (event.pk, case.pk, EventKind.WHISTLED)
    [delivery] = NotificationDelivery.objects.all()
    assert (delivery.event_id, delivery.state, delivery.attempts) == (event.pk, DeliveryState.PENDING, 0)
    # Both runs queue the delivery that was never tried (the first run may have died before
    # queueing it); sending it is itself once only.
    assert len(first) == len(again) == 1
    for callback in [*first, *again]:
        callback()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 1)


def test_a_task_killed_half_way_adds_only_what_is_missing(world: World) -> None:
    case = make_case(world, state=S.ACCEPTED, tier=T.DISTRICT)
    case_dispatch(
        case=case,
        actor=world.district_officer,
        lead=world.dept_lead,
        cooperating=[world.dept_coop],
        now=MONDAY,
    )
    event = case.events.get(kind=EventKind.DISPATCHED)
    assert fan_out([event.pk]) == 2
    Notification.objects.filter(recipient=world.coop_contact).delete()  # as if that row never made it
    assert fan_out([event.pk]) == 1
    assert inbox() == {"lead_contact": 1, "coop_contact": 1}


def test_one_message_per_event_and_recipient_is_a_database_fact(world: World) -> None:
    from django.db import IntegrityError

    case = make_case(world, state=S.IN_PROGRESS)
    event = CaseEvent.objects.create(case=case, kind=EventKind.RESOLVED, note="已处理")
    fields = {
        "recipient": world.community_worker_x,
        "case": case,
        "event": event,
        "kind": event.kind,
        "title": "t",
    }
    Notification.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(**fields)
    # Messages written before events were recorded (no event) are not constrained.
    Notification.objects.create(**{**fields, "event": None})
    Notification.objects.create(**{**fields, "event": None})
    assert Notification.objects.count() == 3


@pytest.mark.redis
def test_notifications_published_to_redis_land_in_the_queue(world: World) -> None:
    """kombu's own Redis transport: the messages land in the queue as kombu writes them."""
    import os

    import redis
    from django.conf import settings
    from kombu import Connection

    from config.celery import app
    from issues.tasks import notify_events

    queue = f"jxt-test-notify-{os.getpid()}"
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(queue)
    try:
        with app.connection_for_write() as connection:
            for i in range(4):
                notify_events.apply_async(([i],), queue=queue, connection=connection)
        assert client.llen(queue) == 4
        with Connection(settings.CELERY_BROKER_URL) as plain, plain.SimpleQueue(queue) as q:
            bodies = sorted(q.get(timeout=2).decode()[0][0] for _ in range(4))
        assert bodies == [[0], [1], [2], [3]]
    finally:
        client.delete(queue)


def test_the_task_message_sums_up_its_arguments() -> None:
    from issues.notify import arguments_summary

    assert arguments_summary([7]) == "([7],)"
    assert arguments_summary(list(range(1, 21))) == repr((list(range(1, 21)),))
    assert arguments_summary(list(range(5, 1005))) == "([5, … 1000 event ids],)"


def test_celery_reads_the_projects_settings() -> None:
    """config.celery reads the CELERY_* settings under Celery's own names (config_from_object's namespace)."""
    from django.conf import settings

    from config.celery import app

    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.task_acks_late is settings.CELERY_TASK_ACKS_LATE is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.timezone == "Asia/Shanghai"
    assert app.conf.beat_scheduler == settings.CELERY_BEAT_SCHEDULER


def test_a_transitions_message_carries_what_the_fan_out_would_read(world: World) -> None:
    """notify.task_arguments: the event's and case's columns, as the transition left them."""
    from issues import notify
    from issues.workflow import case_submit

    case = case_submit(category=world.cat_a, alley=world.alley_x, description="井盖松动", now=MONDAY)
    whistled = make_case(world, state=S.ACCEPTED, tier=T.COMMUNITY)
    case_whistle(case=whistled, actor=world.community_worker_x, reason="需街道协调", now=MONDAY)
    for event in (case.events.get(), whistled.events.get(kind=EventKind.WHISTLED)):
        event.case = Case.objects.get(pk=event.case_id)  # as the service left it in memory
        ids, facts = notify.task_arguments([event])
        assert ids == [event.pk]
        assert notify._events_of(facts) == notify._read_events([event.pk])
    assert notify._events_of(facts)[0].tier == T.STREET  # the holder after the whistle
    # Without the case in memory, the message names the event only and the task reads it.
    assert notify.task_arguments([CaseEvent.objects.get(pk=ids[0])]) == (ids,)


def test_the_fan_out_of_carried_facts_writes_what_a_read_would(world: World) -> None:
    from issues import notify

    case = make_case(world, state=S.ACCEPTED, tier=T.COMMUNITY)
    case_whistle(case=case, actor=world.community_worker_x, reason="需街道协调", now=MONDAY)
    event = case.events.get(kind=EventKind.WHISTLED)
    event.case = Case.objects.get(pk=case.pk)
    ids, facts = notify.task_arguments([event])
    Notification.objects.all().delete()
    assert fan_out(ids, facts=facts) > 0
    carried = sorted(Notification.objects.values_list("recipient_id", "title", "body"))
    Notification.objects.all().delete()
    assert fan_out(ids) == len(carried)
    assert sorted(Notification.objects.values_list("recipient_id", "title", "body")) == carried
    # Facts that do not match the ids (a message from an older release, say) are not trusted.
    Notification.objects.all().delete()
    assert fan_out(ids, facts=[[0, *facts[0][1:]]]) == len(carried)


# --- the outbox: a committed change is always told, whatever the broker lost ---------------------------


def untold_whistle(world: World, django_capture_on_commit_callbacks: Any) -> tuple[Case, NotificationOutbox]:
    """A chief's whistle whose fan-out message never reached a worker: its case and outbox row."""
    case = make_case(world, state=S.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=False):
        case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY)
    return case, NotificationOutbox.objects.get()


def test_a_transition_writes_its_outbox_row_in_its_own_transaction(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case(world, state=S.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=False) as published:
        case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY)
    event = case.events.get(kind=EventKind.WHISTLED)
    [row] = NotificationOutbox.objects.all()
    assert row.event_ids == [event.pk] and row.next_attempt_at > timezone.now()
    assert inbox() == {}
    # The published task writes the messages, then deletes the row.
    for callback in published:
        callback()
    assert inbox() == {"community_worker_x": 1}
    assert not NotificationOutbox.objects.exists()


def test_a_rolled_back_change_leaves_no_outbox_row(world: World) -> None:
    case = make_case(world, state=S.ACCEPTED)
    with pytest.raises(RuntimeError), transaction.atomic():
        case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY)
        raise RuntimeError("the caller's transaction fails after the transition")
    assert not NotificationOutbox.objects.exists()
    assert Case.objects.get(pk=case.pk).tier == T.ALLEY


def test_a_lost_message_is_published_again_by_the_sweep(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    _case, row = untold_whistle(world, django_capture_on_commit_callbacks)  # the broker lost it
    Case.objects.update(escalation_due=None, warn_at=None)  # nothing else for this sweep to do
    # Before its time the sweep leaves it alone (the message may just be queued).
    early = run_sweep(now=row.next_attempt_at - dt.timedelta(seconds=1))
    assert early.relayed == 0 and inbox() == {}
    result = run_sweep(now=row.next_attempt_at)
    assert result.relayed == 1
    assert inbox() == {"community_worker_x": 1}
    assert not NotificationOutbox.objects.exists()


def test_a_message_published_twice_tells_once(world: World, django_capture_on_commit_callbacks: Any) -> None:
    _case, row = untold_whistle(world, django_capture_on_commit_callbacks)
    assert fan_out(row.event_ids, outbox=row.pk) == 1
    assert not NotificationOutbox.objects.exists()
    # The sweep's copy arrives late: it adds nothing (the row is already gone).
    assert fan_out(row.event_ids, outbox=row.pk) == 0
    assert inbox() == {"community_worker_x": 1}


def test_a_row_the_broker_keeps_losing_is_published_less_and_less_often(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    from unittest import mock

    from issues.notify import relay_due
    from issues.tasks import notify_events

    _case, row = untold_whistle(world, django_capture_on_commit_callbacks)
    gaps = []
    with mock.patch.object(notify_events, "apply_async") as publish:  # every message is lost
        for _ in range(3):
            due = NotificationOutbox.objects.get(pk=row.pk).next_attempt_at
            assert relay_due(now=due, batch=10) == (1, 0)
            gaps.append(NotificationOutbox.objects.get(pk=row.pk).next_attempt_at - due)
    assert publish.call_count == 3
    assert gaps[0] < gaps[1] < gaps[2]
    assert NotificationOutbox.objects.get(pk=row.pk).attempts == 3


def test_a_failed_delivery_is_sent_again_by_the_sweep(
    world: World, robot: str, django_capture_on_commit_callbacks: Any
) -> None:
    channel = NotificationChannel.objects.create(
        area=world.community_x, kind=ChannelKind.WEBHOOK, target=CLOSED_PORT
    )
    case = make_case(world, state=S.ACCEPTED, category=world.cat_d)  # climbs past the community
    run_after_commit(
        django_capture_on_commit_callbacks,
        lambda: case_whistle(case=case, actor=world.chief_x, reason="需社区协调", now=MONDAY),
    )
    delivery = NotificationDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    # The robot is back (here: the channel is mended); the sweep sends it when its time comes.
    NotificationChannel.objects.filter(pk=channel.pk).update(target=robot)
    result = run_sweep(now=delivery.next_attempt_at)
    assert result.redelivered == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (DeliveryState.SENT, 2, None)
    assert len(_Robot.received) == 1


def test_a_worker_killed_between_telling_and_deleting_the_row_tells_once(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    from unittest import mock

    from issues import notify

    _case, row = untold_whistle(world, django_capture_on_commit_callbacks)
    killed = mock.patch.object(notify, "_outbox_done", side_effect=SystemExit("worker killed"))
    with killed, pytest.raises(SystemExit):
        fan_out(row.event_ids, outbox=row.pk)
    assert inbox() == {"community_worker_x": 1}
    assert NotificationOutbox.objects.filter(pk=row.pk).exists()  # so the sweep publishes it again
    Case.objects.update(escalation_due=None, warn_at=None)  # nothing else for this sweep to do
    assert run_sweep(now=row.next_attempt_at).relayed == 1
    assert inbox() == {"community_worker_x": 1}
    assert not NotificationOutbox.objects.exists()
