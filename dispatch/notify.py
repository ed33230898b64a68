"""Who is told what when a case moves: in-app inbox, e-mail and group-robot webhooks.

Services append timeline events and call ``schedule_notifications(event_ids)``; the
Celery task runs only after the transaction commits (a rolled-back change tells
nobody), fans the events out to recipients with a constant number of queries per
batch, and queues one delivery task per outgoing channel. A failing channel is
retried by its own task and never touches the case.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from alleys.choices import HOLDER_ROLES, AreaLevel, Role
from alleys.models import Area, RoleAssignment
from alleys.reference import ReferenceCache
from issues.choices import EventKind
from issues.models import CaseEvent

from .models import (
    ChannelKind,
    DeliveryState,
    DispatchOrder,
    Notification,
    NotificationChannel,
    NotificationDelivery,
)

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
}
# Events for the community that verifies and evaluates.
_TO_COMMUNITY = {
    EventKind.RESOLVED,
    EventKind.ORDER_REPORTED,
    EventKind.ORDER_COMPLETED,
    EventKind.EXTENSION_REQUESTED,
}
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
}
# Events for the dispatching organisation department.
_TO_ORG = {
    EventKind.ORDER_REJECTED,
    EventKind.ORDER_OVERDUE,
    EventKind.ORDER_COMPLETED,
    EventKind.EXTENSION_DECIDED,
}


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
    """Queue the fan-out task for these events once the current transaction commits."""
    ids = [int(i) for i in event_ids]
    if not ids or getattr(_suppressed, "on", False):
        return
    from .tasks import notify_events

    # robust: the case change has committed; a broker hiccup must not turn it into an error page.
    transaction.on_commit(lambda: notify_events.delay(ids), robust=True)


def fan_out(event_ids: Iterable[int]) -> int:
    """Create inbox messages and channel deliveries for the events; returns the messages created."""
    events = list(
        CaseEvent.objects.filter(pk__in=list(event_ids)).select_related(
            "case", "case__category", "case__alley", "case__holder_area"
        )
    )
    if not events:
        return 0
    # Which (area code, roles) and departments each event goes to.
    targets: dict[int, tuple[list[tuple[str, frozenset[str]]], list[int]]] = {}
    area_codes: set[str] = set()
    department_ids: set[int] = set()
    order_ids = {int(e.data["order_id"]) for e in events if e.data.get("order_id")}
    orders = DispatchOrder.objects.in_bulk(list(order_ids)) if order_ids else {}
    dispatcher_codes = dict(
        Area.objects.filter(pk__in={o.dispatcher_area_id for o in orders.values()}).values_list("pk", "code")
    )
    for event in events:
        case = event.case
        areas: list[tuple[str, frozenset[str]]] = []
        depts: list[int] = []
        if event.kind in _TO_HOLDER:
            areas.append((case.holder_area.code, HOLDER_ROLES[case.tier]))
        if event.kind in _TO_COMMUNITY:
            areas.append((case.alley.code_at(AreaLevel.COMMUNITY), frozenset({Role.COMMUNITY_STAFF})))
        order = orders.get(int(event.data.get("order_id", 0) or 0))
        if order is not None:
            if event.kind in _TO_DEPARTMENT:
                depts.append(order.department_id)
            if event.kind in _TO_ORG:
                code = dispatcher_codes.get(order.dispatcher_area_id, "")
                areas.append((code, frozenset({Role.DISTRICT_ORG, Role.CITY_ORG})))
        elif event.kind in _TO_DEPARTMENT and event.data.get("department_ids"):
            depts.extend(int(d) for d in event.data["department_ids"])
        targets[event.pk] = (areas, depts)
        area_codes.update(code for code, _roles in areas if code)
        department_ids.update(depts)

    people = _people(area_codes, department_ids)

    messages: list[Notification] = []
    for event in events:
        areas, depts = targets[event.pk]
        recipients: set[int] = set()
        for code, roles in areas:
            recipients.update(uid for uid, role in people.get(f"a:{code}", ()) if role in roles)
        for dept_id in depts:
            recipients.update(uid for uid, _role in people.get(f"d:{dept_id}", ()))
        if event.actor_id:
            recipients.discard(event.actor_id)  # nobody needs to be told what they just did
        title, body = _message(event)
        messages.extend(
            Notification(
                recipient_id=uid,
                case_id=event.case_id,
                order_id=event.data.get("order_id"),
                kind=event.kind,
                title=title,
                body=body,
            )
            for uid in sorted(recipients)
        )
    Notification.objects.bulk_create(messages, batch_size=1000)

    # Channels of the units concerned, one delivery per channel and event.
    channels = _channels(area_codes, department_ids)
    deliveries: list[NotificationDelivery] = []
    for event in events:
        areas, depts = targets[event.pk]
        units = [f"a:{code}" for code, _roles in areas] + [f"d:{dept_id}" for dept_id in depts]
        title, body = _message(event)
        for channel_id in sorted({c for unit in units for c in channels.get(unit, ())}):
            deliveries.append(
                NotificationDelivery(
                    channel_id=channel_id, case_id=event.case_id, kind=event.kind, title=title, body=body
                )
            )
    created = NotificationDelivery.objects.bulk_create(deliveries, batch_size=1000)
    if created:
        from .tasks import deliver

        ids = [d.pk for d in created if d.pk]
        transaction.on_commit(lambda: [deliver.delay(i) for i in ids], robust=True)
    return len(messages)


# --- who and where, per unit, kept per process -------------------------------------------------------
# Keys are "a:<area code>" and "d:<department id>". Both change a few times a month; every
# notification task used to read them. A saved or deleted role, user, area or channel drops
# the copy here at once and in every process within about a second (see alleys.reference).

_recipients: ReferenceCache[str, tuple[tuple[int, str], ...]] = ReferenceCache("notify-recipients")
_channel_ids: ReferenceCache[str, tuple[int, ...]] = ReferenceCache("notify-channels")


def _unit_keys(area_codes: Iterable[str], department_ids: Iterable[int]) -> list[str]:
    return [f"a:{code}" for code in area_codes if code] + [f"d:{dept_id}" for dept_id in department_ids]


def _by_unit(missing: list[str], queryset: QuerySet[Any], *fields: str) -> dict[str, tuple[Any, ...]]:
    """The ``fields`` of the missing units' rows, read in one query, grouped by unit key.

    ``queryset``'s model has ``area`` and ``department`` foreign keys. One field gives its
    values, several give tuples. Every missing key gets a (possibly empty) tuple, so a unit
    with nobody is remembered too.
    """
    codes = [k[2:] for k in missing if k[0] == "a"]
    dept_ids = [int(k[2:]) for k in missing if k[0] == "d"]
    found: dict[str, list[Any]] = {key: [] for key in missing}
    rows = queryset.filter(Q(area__code__in=codes) | Q(department_id__in=dept_ids))
    for code, dept_id, *values in rows.values_list("area__code", "department_id", *fields):
        item = values[0] if len(values) == 1 else tuple(values)
        for key in (f"a:{code}", f"d:{dept_id}"):
            if key in found:
                found[key].append(item)
    return {key: tuple(sorted(items)) for key, items in found.items()}


def _people(
    area_codes: Iterable[str], department_ids: Iterable[int]
) -> dict[str, tuple[tuple[int, str], ...]]:
    """{unit key: ((user id, role), …)} of the active people of each unit (one query for unknown units)."""

    def load(missing: list[str]) -> dict[str, tuple[tuple[int, str], ...]]:
        active = RoleAssignment.objects.filter(is_active=True, user__is_active=True)
        return _by_unit(missing, active, "user_id", "role")

    keys = _unit_keys(area_codes, department_ids)
    return _recipients.get_many(keys, load) if keys else {}


def _channels(area_codes: Iterable[str], department_ids: Iterable[int]) -> dict[str, tuple[int, ...]]:
    """{unit key: (channel id, …)} of each unit's active outgoing channels."""

    def load(missing: list[str]) -> dict[str, tuple[int, ...]]:
        return _by_unit(missing, NotificationChannel.objects.filter(is_active=True), "pk")

    keys = _unit_keys(area_codes, department_ids)
    return _channel_ids.get_many(keys, load) if keys else {}


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


def _message(event: CaseEvent) -> tuple[str, str]:
    """Title and body for staff; no personal data of the reporter, ever."""
    case = event.case
    title = f"[{event.get_kind_display()}] {case.category.name} · {case.alley.name}（{case.tracking_code}）"
    body = event.note[:500] if event.note else ""
    return title[:200], body


def deliver_one(delivery_id: int) -> bool:
    """Send one delivery; True when sent (or already sent). Raises on a failure worth retrying."""
    delivery = NotificationDelivery.objects.select_related("channel").filter(pk=delivery_id).first()
    if delivery is None or delivery.state == DeliveryState.SENT:
        return True
    NotificationDelivery.objects.filter(pk=delivery_id).update(attempts=delivery.attempts + 1)
    channel = delivery.channel
    try:
        if channel.kind == ChannelKind.EMAIL:
            send_mail(
                delivery.title, delivery.body or delivery.title, None, [channel.target], fail_silently=False
            )
        else:
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
    except Exception as exc:
        NotificationDelivery.objects.filter(pk=delivery_id).update(
            state=DeliveryState.FAILED, last_error=str(exc)[:1000]
        )
        logger.warning("delivery %s via channel %s failed: %s", delivery_id, channel.pk, type(exc).__name__)
        raise
    NotificationDelivery.objects.filter(pk=delivery_id).update(
        state=DeliveryState.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def mark_read(*, user_id: int, ids: Sequence[int] | None = None) -> int:
    """Mark the user's messages read (all when ids is None)."""
    qs = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
