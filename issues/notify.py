"""Who is told what when a case moves: in-app inbox, e-mail and group-robot webhooks.

Services append timeline events and call ``schedule_notifications(event_ids)`` in the same
transaction: it writes an outbox row (a rolled-back change tells nobody, a committed one is
never left untold) and publishes the fan-out task after commit. The task writes the inbox
messages and one delivery per outgoing channel with a constant number of queries, then
deletes the outbox row. What a lost message or a failed send left behind, the sweep sends
again (``relay_due``); a failing channel never touches the case.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.core.mail import send_mail
from django.db import connections, router, transaction
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from alleys.choices import CODE_LENGTH, HOLDER_ROLES, AreaLevel, Role
from alleys.models import Area, RoleAssignment
from alleys.reference import ReferenceCache, areas_by_id
from core.bulk_sql import claim, concrete_field, insert_new
from issues.choices import EventKind
from issues.models import (
    CaseEvent,
    DispatchOrder,
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationOutbox,
)
from issues.reference import category_by_id

from . import resident_sms
from .choices import ChannelKind, DeliveryState

logger = logging.getLogger(__name__)

# Events the holder of the case's tier must hear about.
_TO_HOLDER = {
    EventKind.SUBMITTED,
    EventKind.WHISTLED,
    EventKind.ESCALATED,
    EventKind.REOPENED,
    EventKind.VERIFY_FAILED,
    EventKind.DEADLINE_WARNING,
    EventKind.CHASED,
    EventKind.SUPERVISED,
    EventKind.PROGRESS,  # the lead department's word to the resident reaches the holder too
    EventKind.PHOTO_FAILED,  # a photo could not be processed and is quarantined (issues.photos)
}
# Events for the community that verifies, makes the return visits and evaluates.
_TO_COMMUNITY = {
    EventKind.RESOLVED,
    EventKind.RETURN_VISIT_DUE,
    EventKind.ORDER_REPORTED,
    EventKind.ORDER_COMPLETED,
    EventKind.EXTENSION_REQUESTED,
    EventKind.PROGRESS,
}
# Events for the people named in the event's data (``user_ids``): a case assigned to a colleague.
_TO_PEOPLE = {EventKind.ASSIGNED}
# Events for the department named in the event's data.
_TO_DEPARTMENT = {
    EventKind.DISPATCHED,
    EventKind.ORDER_REDISPATCHED,
    EventKind.ORDER_INSISTED,
    EventKind.EXTENSION_DECIDED,
    EventKind.CHASED,
    EventKind.VERIFY_FAILED,
    EventKind.REOPENED,
    EventKind.ORDER_WITHDRAWN,
    EventKind.ATTENDANCE_CONFIRMED,  # its report now counts
    EventKind.ATTENDANCE_MISSED,  # it must report again, with a new date
    EventKind.CONSULTED,  # its opinion is asked before dispatch (data: department_ids)
    EventKind.MEETING_DECIDED,  # the departments a joint meeting named (issues.workflow.meetings)
}
# Events for the dispatching organisation department (or, before any order, the one named in the data).
_TO_ORG = {
    EventKind.ORDER_REJECTED,
    EventKind.ORDER_OVERDUE,
    EventKind.ORDER_COMPLETED,
    EventKind.EXTENSION_DECIDED,
    EventKind.ATTENDANCE_MISSED,
    EventKind.CONSULTATION_ANSWERED,  # data: org_area_code
}
# Events whose data name people (who will come, who came): the inbox lists them (staff only).
_WITH_PEOPLE = {EventKind.ORDER_REPORTED, EventKind.ATTENDANCE_CONFIRMED, EventKind.ATTENDANCE_MISSED}


_suppressed = threading.local()


@contextlib.contextmanager
def notifications_suppressed() -> Iterator[None]:
    """Write history without telling anyone (the demo's year of back-dated cases)."""
    previous = getattr(_suppressed, "on", False)
    _suppressed.on = True
    try:
        yield
    finally:
        _suppressed.on = previous


def schedule_notifications(event_ids: Sequence[int]) -> None:
    """Record in the outbox that these events are to be told, and queue the fan-out after commit.

    Call it inside the transaction that wrote the events: the outbox row commits or rolls
    back with them, so a committed change is never left untold, whatever happens to the
    broker message.
    """
    ids = [int(i) for i in event_ids]
    if ids and not getattr(_suppressed, "on", False):
        _record(ids, lambda: (ids,))


def schedule_event_notifications(events: Sequence[CaseEvent]) -> None:
    """``schedule_notifications`` for events written in this process, with what the fan-out reads of them.

    An event never changes, and its case was in memory when it was written: the message
    carries the event's and the case's columns that the fan-out would otherwise read back
    from the database (half of a one-event task's time), read off the objects once the
    transaction has committed, i.e. as the transition left them. The id still makes the
    task idempotent. An event whose case is not in memory goes by id alone.
    """
    written = [e for e in events if e.pk]
    if written and not getattr(_suppressed, "on", False):
        _record([e.pk for e in written], lambda: task_arguments(written))


def task_arguments(events: Sequence[CaseEvent]) -> tuple[Any, ...]:
    """``notify_events``' arguments for these events: their ids, and their facts if every case is in memory."""
    ids = [e.pk for e in events]
    rows = [_facts_of(e) for e in events]
    return (ids,) if any(row is None for row in rows) else (ids, rows)


def _record(ids: list[int], arguments: Callable[[], tuple[Any, ...]]) -> None:
    """Write the outbox row now (in the caller's transaction) and publish its task after commit."""
    connection = transaction.get_connection(router.db_for_write(NotificationOutbox))
    if not connection.in_atomic_block:
        # Outside a transaction the events are already committed: the row would not be atomic
        # with them. Every service writes its events and schedules inside one; say so loudly.
        logger.error("notifications scheduled outside a transaction (events %s…)", ids[:3])
    outbox = NotificationOutbox.objects.create(
        event_ids=ids, next_attempt_at=timezone.now() + _retry_delay(0)
    )
    _publish_on_commit(outbox.pk, ids, arguments)


def _publish_on_commit(outbox_id: int, ids: list[int], arguments: Callable[[], tuple[Any, ...]]) -> None:
    from .tasks import notify_events

    summary = arguments_summary(ids)

    def publish() -> None:
        notify_events.apply_async(
            arguments(), {"outbox": outbox_id}, argsrepr=summary, kwargsrepr=f"{{'outbox': {outbox_id}}}"
        )

    # robust: the change has committed and its outbox row with it; a broker outage only delays
    # the telling (the sweep publishes the row again) and must not turn into an error page.
    transaction.on_commit(publish, robust=True)


def _retry_delay(attempts: int) -> dt.timedelta:
    """How long a published outbox row or delivery may wait before the sweep sends it again."""
    first = settings.JXT_OUTBOX_RETRY_SECONDS
    return dt.timedelta(seconds=min(first * 2**attempts, _MAX_RETRY_SECONDS))


_MAX_RETRY_SECONDS = 3600


def _facts_of(event: CaseEvent) -> list[Any] | None:
    """The row ``_read_events`` would read for ``event`` (the body's share of the note only)."""
    if not CaseEvent.case.is_cached(event):
        return None
    case = event.case
    return [
        event.pk,
        event.kind,
        event.data or {},
        (event.note or "")[:_BODY_CHARS],
        event.actor_id,
        case.pk,
        case.tier,
        case.tracking_code,
        case.holder_area_id,
        case.alley_id,
        case.category_id,
        case.sms_opt_in,
    ]


_FACTS = 12  # columns of a row of ``_facts_of``


def arguments_summary(ids: list[int]) -> str:
    """The notification task's arguments as its message shows them to monitoring (``argsrepr``).

    Written here it costs one repr: Celery's own safe repr of the arguments was a fifth of
    the publish, which every form, Open311 submission and transition pays. A sweep's batch
    of a thousand events is summed up rather than listed.
    """
    return repr((ids,)) if len(ids) <= 20 else f"([{ids[0]}, … {len(ids)} event ids],)"


class _Event(NamedTuple):
    """What the fan-out needs of one timeline event and its case (no model instances)."""

    pk: int
    kind: str
    data: dict[str, Any]
    note: str
    actor_id: int | None
    case_id: int
    tier: str
    tracking_code: str
    holder_code: str
    alley_code: str
    alley_name: str
    category_name: str
    sms_opt_in: bool  # the resident asked for an SMS at each step (issues.resident_sms)


def _read_events(ids: list[int]) -> list[_Event]:
    """The events and their cases' tier, holder, alley and category, in one statement.

    Written out rather than built by the ORM (building the query cost more CPU than the
    rest of a one-event task), and only the two tables that change: the names of areas
    and category types come from the process's reference copies. On PostgreSQL the ids
    travel as one array, so the text is the same for any number of events.
    """
    if not ids:
        return []
    connection = connections[router.db_for_read(CaseEvent)]
    params: list[Any]
    if connection.vendor == "postgresql":
        where, params = "= ANY(%s)", [ids]
    else:
        where, params = f"IN ({', '.join(['%s'] * len(ids))})", list(ids)
    data = concrete_field(CaseEvent, "data")
    with connection.cursor() as cursor:
        cursor.execute(_events_sql(connection.alias) + where, params)
        rows = [
            (pk, kind, data.from_db_value(raw, None, connection), *rest)  # type: ignore[attr-defined]
            for pk, kind, raw, *rest in cursor.fetchall()
        ]
    return _events_of(rows)


def _events_of(rows: Sequence[Sequence[Any]]) -> list[_Event]:
    """Rows of ``_read_events`` (or the facts a message carried) with their areas' and types' names."""
    areas = areas_by_id({r[8] for r in rows} | {r[9] for r in rows})
    events = []
    for pk, kind, data, note, actor_id, case_id, tier, code, holder_id, alley_id, category_id, sms in rows:
        holder, alley, category = areas.get(holder_id), areas.get(alley_id), category_by_id(category_id)
        events.append(
            _Event(
                int(pk),
                kind,
                data or {},
                note or "",
                actor_id,
                case_id,
                tier,
                code,
                holder.code if holder else "",
                alley.code if alley else "",
                alley.name if alley else "",
                category.name if category else "",
                bool(sms),
            )
        )
    return events


@functools.cache
def _events_sql(alias: str) -> str:
    """The SELECT of ``_read_events`` up to the id condition (names quoted once per database)."""
    from issues.models import Case

    q = connections[alias].ops.quote_name

    def col(model: type[Model], name: str) -> str:
        return q(str(concrete_field(model, name).column))

    event, case = q(CaseEvent._meta.db_table), q(Case._meta.db_table)
    pk = col(CaseEvent, "id")
    # Names from the models, values bound by the caller.
    return (
        f"SELECT e.{pk}, e.{col(CaseEvent, 'kind')}, e.{col(CaseEvent, 'data')}, "  # noqa: S608
        f"e.{col(CaseEvent, 'note')}, e.{col(CaseEvent, 'actor')}, e.{col(CaseEvent, 'case')}, "
        f"c.{col(Case, 'tier')}, c.{col(Case, 'tracking_code')}, c.{col(Case, 'holder_area')}, "
        f"c.{col(Case, 'alley')}, c.{col(Case, 'category')}, c.{col(Case, 'sms_opt_in')} "
        f"FROM {event} e JOIN {case} c ON c.{col(Case, 'id')} = e.{col(CaseEvent, 'case')} "
        f"WHERE e.{pk} "
    )


def fan_out(
    event_ids: Iterable[int], *, facts: Sequence[Sequence[Any]] | None = None, outbox: int | None = None
) -> int:
    """Create the events' inbox messages and channel deliveries; returns the messages created.

    Idempotent: a message is one row per (event, recipient) and a delivery one per
    (event, channel), both unique in the database and inserted with conflicts ignored. A
    redelivered task (acks late: a worker killed half-way) adds only what is missing,
    queues the deliveries that were never tried, and returns how many messages it added.

    ``outbox``: the outbox row of these events, deleted once the messages and deliveries are
    written. Not in one transaction with them, on purpose: a worker killed in between leaves
    the row, the sweep publishes it again, and the second run adds nothing (the unique
    constraints) and deletes it. Two statements instead of four round trips (BEGIN, DELETE,
    INSERT, COMMIT) on a task that runs for every transition.
    """
    created = _fan_out(event_ids, facts)
    if outbox is not None:
        _outbox_done(outbox)
    return created


def _outbox_done(outbox: int) -> None:
    """Delete a told outbox row: one plain DELETE (``QuerySet.delete`` opens a transaction for it)."""
    connection = connections[router.db_for_write(NotificationOutbox)]
    quote = connection.ops.quote_name
    table, pk = quote(NotificationOutbox._meta.db_table), quote(str(NotificationOutbox._meta.pk.column))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {pk} = %s", [outbox])  # noqa: S608 - the model's names


def _fan_out(event_ids: Iterable[int], facts: Sequence[Sequence[Any]] | None) -> int:
    ids = [int(i) for i in event_ids]
    # What the message carried (``schedule_event_notifications``), if it is about these events; else read.
    # (A message written before its facts grew a column is read instead.)
    if facts is not None and [int(row[0]) for row in facts] == ids and all(len(r) == _FACTS for r in facts):
        events = _events_of(facts)
    else:
        events = _read_events(ids)
    if not events:
        return 0
    # Which (area code, roles) and departments each event goes to.
    targets: dict[int, tuple[list[tuple[str, frozenset[str]]], list[int]]] = {}
    area_codes: set[str] = set()
    department_ids: set[int] = set()
    order_ids = {int(e.data["order_id"]) for e in events if e.data.get("order_id")}
    orders = DispatchOrder.objects.in_bulk(list(order_ids)) if order_ids else {}
    dispatcher_codes = (
        dict(
            Area.objects.filter(pk__in={o.dispatcher_area_id for o in orders.values()}).values_list(
                "pk", "code"
            )
        )
        if orders
        else {}
    )
    for event in events:
        areas: list[tuple[str, frozenset[str]]] = []
        depts: list[int] = []
        if event.kind in _TO_HOLDER:
            areas.append((event.holder_code, HOLDER_ROLES[event.tier]))
        if event.kind == EventKind.SUBMITTED:
            # Told at once with the alley's team (dispatch.chain.alert_tiers): a fire hazard's community and street.
            areas.extend(
                (event.alley_code[: CODE_LENGTH[tier]], HOLDER_ROLES[tier])
                for tier in event.data.get("alert", ())
            )
            if event.data.get("building"):
                # Filed for a building whose head handles it beside the alley's team (case_submit).
                areas.append((str(event.data["building"]), frozenset({Role.BUILDING_HEAD})))
        if event.kind in _TO_COMMUNITY:
            community = event.alley_code[: CODE_LENGTH[AreaLevel.COMMUNITY]]
            areas.append((community, frozenset({Role.COMMUNITY_STAFF})))
        order = orders.get(int(event.data.get("order_id", 0) or 0))
        if order is not None:
            if event.kind in _TO_DEPARTMENT:
                depts.append(order.department_id)
            if event.kind in _TO_ORG:
                code = dispatcher_codes.get(order.dispatcher_area_id, "")
                areas.append((code, frozenset({Role.DISTRICT_ORG, Role.CITY_ORG})))
        else:
            if event.kind in _TO_DEPARTMENT and event.data.get("department_ids"):
                depts.extend(int(d) for d in event.data["department_ids"])
            if event.kind in _TO_ORG and event.data.get("org_area_code"):
                areas.append(
                    (str(event.data["org_area_code"]), frozenset({Role.DISTRICT_ORG, Role.CITY_ORG}))
                )
        targets[event.pk] = (areas, depts)
        area_codes.update(code for code, _roles in areas if code)
        department_ids.update(depts)

    # The residents who asked to be told by SMS (issues.resident_sms): one row per (event, case).
    resident_sms.record(events)

    people = _people(area_codes, department_ids)
    now = timezone.now()
    texts = {event.pk: _message(event) for event in events}

    messages: list[tuple[Any, ...]] = []
    for event in events:
        areas, depts = targets[event.pk]
        recipients: set[int] = set()
        for code, roles in areas:
            recipients.update(uid for uid, role in people.get(f"a:{code}", ()) if role in roles)
        for dept_id in depts:
            recipients.update(uid for uid, _role in people.get(f"d:{dept_id}", ()))
        if event.kind in _TO_PEOPLE:
            recipients.update(int(uid) for uid in event.data.get("user_ids", ()))
        if event.actor_id:
            recipients.discard(event.actor_id)  # nobody needs to be told what they just did
        title, body = texts[event.pk]
        order_id = int(event.data["order_id"]) if event.data.get("order_id") else None
        messages.extend(
            (uid, event.case_id, order_id, event.pk, event.kind, title, body, now)
            for uid in sorted(recipients)
        )
    created = insert_new(Notification, _MESSAGE_COLUMNS, messages, unique=("event", "recipient"))

    # Channels of the units concerned, one delivery per channel and event.
    channels = _channels(area_codes, department_ids)
    deliveries: list[tuple[Any, ...]] = []
    for event in events:
        areas, depts = targets[event.pk]
        units = [f"a:{code}" for code, _roles in areas] + [f"d:{dept_id}" for dept_id in depts]
        title, body = texts[event.pk]
        for channel_id in sorted({c for unit in units for c in channels.get(unit, ())}):
            deliveries.append(
                (
                    channel_id,
                    event.case_id,
                    event.pk,
                    event.kind,
                    title,
                    body,
                    DeliveryState.PENDING,
                    0,
                    "",
                    now,
                )
            )
    if deliveries:
        new_ids = insert_new(
            NotificationDelivery,
            _DELIVERY_COLUMNS,
            [(*row, now + _retry_delay(0)) for row in deliveries],
            unique=("event", "channel"),
            returning=True,
        )
        if len(new_ids) < len(deliveries):
            # A redelivered task: deliveries an earlier run wrote but may never have queued.
            new_ids = list(
                NotificationDelivery.objects.filter(
                    event_id__in=[e.pk for e in events], state=DeliveryState.PENDING, attempts=0
                ).values_list("pk", flat=True)
            )
        if new_ids:
            from .tasks import deliver

            transaction.on_commit(lambda: [deliver.delay(i) for i in new_ids], robust=True)
    return created


_MESSAGE_COLUMNS = ("recipient", "case", "order", "event", "kind", "title", "body", "created_at")
_DELIVERY_COLUMNS = (
    "channel",
    "case",
    "event",
    "kind",
    "title",
    "body",
    "state",
    "attempts",
    "last_error",
    "created_at",
    "next_attempt_at",
)


# --- who and where, per unit, kept per process -------------------------------------------------------
# Keys are "a:<area code>" and "d:<department id>". Both change a few times a month; every
# notification task used to read them. A saved or deleted role, user, area or channel drops
# the copy here at once and in every process within about a second (see alleys.reference),
# and the copy expires after ten minutes anyway.
#
# The copy is a snapshot of every unit, read in one query (a few thousand role rows for a
# city) whenever it is empty, and marked by the key ``_SNAPSHOT``: while the mark is there, a
# unit missing from the copy has nobody, and asks nothing. Reading the units one by one as
# tasks met them cost a query for each of ~400 units after every expiry, in every process.

_SNAPSHOT = "*"
_recipients: ReferenceCache[str, tuple[tuple[int, str], ...]] = ReferenceCache("notify-recipients")
_channel_ids: ReferenceCache[str, tuple[int, ...]] = ReferenceCache("notify-channels")


def _unit_keys(area_codes: Iterable[str], department_ids: Iterable[int]) -> list[str]:
    return [f"a:{code}" for code in area_codes if code] + [f"d:{dept_id}" for dept_id in department_ids]


def _snapshot_loader(
    queryset: Callable[[], QuerySet[Any]], *fields: str
) -> Callable[[list[str]], dict[str, tuple[Any, ...]]]:
    """A ``ReferenceCache.get_many`` loader reading the ``fields`` of every unit's rows at once.

    ``queryset()``'s model has ``area`` and ``department`` foreign keys. One field gives its
    values, several give tuples. Without the snapshot mark among the missing keys the copy
    is complete, and the missing units simply have nobody (no query).
    """

    def load(missing: list[str]) -> dict[str, tuple[Any, ...]]:
        if _SNAPSHOT not in missing:
            return {key: () for key in missing}
        found: dict[str, list[Any]] = {}
        for code, dept_id, *values in queryset().values_list("area__code", "department_id", *fields):
            item = values[0] if len(values) == 1 else tuple(values)
            if code:
                found.setdefault(f"a:{code}", []).append(item)
            if dept_id:
                found.setdefault(f"d:{dept_id}", []).append(item)
        snapshot: dict[str, tuple[Any, ...]] = {key: tuple(sorted(items)) for key, items in found.items()}
        for key in missing:
            snapshot.setdefault(key, ())
        return snapshot

    return load


_load_people = _snapshot_loader(
    lambda: RoleAssignment.objects.filter(is_active=True, user__is_active=True), "user_id", "role"
)
_load_channels = _snapshot_loader(lambda: NotificationChannel.objects.filter(is_active=True), "pk")


def _people(
    area_codes: Iterable[str], department_ids: Iterable[int]
) -> dict[str, tuple[tuple[int, str], ...]]:
    """{unit key: ((user id, role), …)} of the active people of each unit (no query while the copy lasts)."""
    keys = _unit_keys(area_codes, department_ids)
    return _recipients.get_many([_SNAPSHOT, *keys], _load_people) if keys else {}


def _channels(area_codes: Iterable[str], department_ids: Iterable[int]) -> dict[str, tuple[int, ...]]:
    """{unit key: (channel id, …)} of each unit's active outgoing channels."""
    keys = _unit_keys(area_codes, department_ids)
    return _channel_ids.get_many([_SNAPSHOT, *keys], _load_channels) if keys else {}


def clear_unit_caches(*_args: object, **_kwargs: object) -> None:
    """Forget this process's recipients and channels (tests; the signals do it in production)."""
    _recipients.clear()
    _channel_ids.clear()


def connect_signals() -> None:
    """Called from DispatchConfig.ready()."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    watched = (
        (RoleAssignment, _recipients),
        (Area, _recipients),  # a changed code
        (Area, _channel_ids),
        (NotificationChannel, _channel_ids),
    )
    for model, target in watched:
        uid = f"{target.name}-{model.__name__}"
        post_save.connect(target.changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(target.changed, sender=model, dispatch_uid=f"{uid}-del")
    # A deactivated account is told nothing; a login (which saves last_login) changes nothing here.
    post_save.connect(_user_saved, sender=get_user_model(), dispatch_uid="notify-recipients-user-save")
    post_delete.connect(
        _recipients.changed, sender=get_user_model(), dispatch_uid="notify-recipients-user-del"
    )


def _user_saved(*args: object, update_fields: frozenset[str] | None = None, **kwargs: object) -> None:
    if update_fields is None or "is_active" in update_fields:
        _recipients.changed(*args, **kwargs)


_BODY_CHARS = 500  # of the event's note, in a message's body
_KINDS = frozenset(EventKind.values)  # (``EventKind.values`` translates every label on each use)


def _message(event: _Event) -> tuple[str, str]:
    """Title and body for staff; no personal data of the reporter, ever."""
    label = EventKind(event.kind).label if event.kind in _KINDS else event.kind
    title = f"[{label}] {event.category_name} · {event.alley_name}（{event.tracking_code}）"
    body = event.note[:_BODY_CHARS] if event.note else ""
    if event.kind in _WITH_PEOPLE and event.data.get("people"):
        people = gettext("人员：%(names)s") % {"names": "、".join(str(p) for p in event.data["people"])}
        body = f"{body}\n{people}".strip()[: _BODY_CHARS + 200]
    return title[:200], body


def deliver_one(delivery_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one delivery if nobody else is sending it; returns its state afterwards.

    The claim is a conditional update: a delivery that is waiting (pending or failed) or
    whose sender's lease ran out (a worker killed mid-send) becomes "sending" for
    ``JXT_DELIVERY_LEASE_SECONDS``, so two copies of the task never both send it. A failure
    is recorded with the next attempt's time (growing back-off) and the sweep sends it
    again then; after ``JXT_DELIVERY_MAX_ATTEMPTS`` it stays failed, visible in the admin.
    Nothing is retried through broker messages with a countdown, which a flushed Redis loses.
    """
    now = now or timezone.now()
    waiting = Q(state__in=(DeliveryState.PENDING, DeliveryState.FAILED), next_attempt_at__isnull=False)
    lease_over = Q(state=DeliveryState.SENDING, next_attempt_at__lte=now)
    claimed = NotificationDelivery.objects.filter(waiting | lease_over, pk=delivery_id).update(
        state=DeliveryState.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + dt.timedelta(seconds=settings.JXT_DELIVERY_LEASE_SECONDS),
    )
    delivery = NotificationDelivery.objects.select_related("channel").filter(pk=delivery_id).first()
    if delivery is None:
        return ""
    if not claimed:
        return str(delivery.state)
    channel = delivery.channel
    try:
        _send(channel, delivery)
    except Exception as exc:
        retry = delivery.attempts < settings.JXT_DELIVERY_MAX_ATTEMPTS
        NotificationDelivery.objects.filter(pk=delivery_id).update(
            state=DeliveryState.FAILED,
            last_error=str(exc)[:1000],
            next_attempt_at=timezone.now() + _retry_delay(delivery.attempts) if retry else None,
        )
        logger.warning(
            "delivery %s via channel %s failed (attempt %s%s): %s",
            delivery_id,
            channel.pk,
            delivery.attempts,
            "" if retry else ", giving up",
            type(exc).__name__,
        )
        return DeliveryState.FAILED
    NotificationDelivery.objects.filter(pk=delivery_id).update(
        state=DeliveryState.SENT, sent_at=timezone.now(), last_error="", next_attempt_at=None
    )
    return DeliveryState.SENT


def _send(channel: NotificationChannel, delivery: NotificationDelivery) -> None:
    """Send through the channel; raises on any failure."""
    if channel.kind == ChannelKind.EMAIL:
        send_mail(
            delivery.title, delivery.body or delivery.title, None, [channel.target], fail_silently=False
        )
        return
    payload = {"msgtype": "text", "text": {"content": f"{delivery.title}\n{delivery.body}".strip()}}
    request = urllib.request.Request(  # noqa: S310 - the admin configures an http(s) URL
        channel.target,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        if response.status >= 300:
            raise OSError(f"webhook answered {response.status}")


# --- the relay: what the broker lost, the sweep sends again ------------------------------------------


def relay_due(*, now: dt.datetime, batch: int) -> tuple[int, int]:
    """Publish again the outbox rows and deliveries whose time has come; returns (rows, deliveries).

    Deliveries count the residents' SMS too (``issues.resident_sms.relay``).

    Each is claimed by moving its ``next_attempt_at`` on (the back-off doubles with each
    relay), so two sweeps at once publish disjoint rows and a row still queued behind a
    long backlog is not published every minute. A duplicate message is harmless: the
    fan-out deletes its outbox row or finds it gone, a delivery is claimed before sending.
    """
    from .tasks import deliver, notify_events

    relayed_rows: list[tuple[int, list[int]]] = []
    with transaction.atomic():
        rows = claim(
            NotificationOutbox.objects.filter(next_attempt_at__lte=now).order_by("next_attempt_at", "pk"),
            batch,
        )
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + _retry_delay(row.attempts)
            relayed_rows.append((row.pk, list(row.event_ids)))
        NotificationOutbox.objects.bulk_update(rows, ["attempts", "next_attempt_at"])
    for pk, ids in relayed_rows:
        notify_events.apply_async((ids,), {"outbox": pk}, argsrepr=arguments_summary(ids))
    with transaction.atomic():
        deliveries = claim(
            NotificationDelivery.objects.filter(next_attempt_at__lte=now)
            .exclude(state=DeliveryState.SENT)
            .order_by("next_attempt_at", "pk"),
            batch,
        )
        for delivery in deliveries:
            # A sender whose lease ran out is taken for dead: the delivery waits again. The
            # task claims it itself; the new time only stops the next sweep re-publishing it.
            if delivery.state == DeliveryState.SENDING:
                delivery.state = DeliveryState.PENDING
            delivery.next_attempt_at = now + _retry_delay(0)
        NotificationDelivery.objects.bulk_update(deliveries, ["state", "next_attempt_at"])
    for delivery in deliveries:
        deliver.delay(delivery.pk)
    texts = resident_sms.relay(now=now, batch=batch)
    if relayed_rows or deliveries or texts:
        logger.warning(
            "relayed %s untold outbox rows, %s unsent deliveries and %s unsent resident SMS",
            len(relayed_rows),
            len(deliveries),
            texts,
        )
    return len(relayed_rows), len(deliveries) + texts


def mark_read(*, user_id: int, ids: Sequence[int] | None = None) -> int:
    """Mark the user's messages read (all when ids is None)."""
    qs = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
