"""The demo city's numbers agree on every face (issue 16, defect 1).

"Overdue" used to mean three things: the district card said 6, the case list's overdue filter
returned 17 cases none of which was tagged overdue, and the to-do page disagreed with both.
Every reader now asks ``issues.deadline_state``; this test seeds the demo city with a stretch of
history, refreshes the dashboards' roll-ups at one moment, and compares, for each demo login's
territory, the dashboard cards, the case list's filters, the API's filter and the tags the list
shows on each row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from alleys.models import RoleAssignment
from demo import city as demo
from demo.history import seed_history
from evaluation.rollups import refresh_rollups
from evaluation.selectors import held_cases, open_cards, viewer_for
from issues.deadline_state import DueStatus, case_due, near_q, overdue_q, status_q
from issues.models import Case
from issues.selectors import case_blocks, filter_cases

pytestmark = pytest.mark.django_db

LOGINS = ("chief", "community", "street", "orgdept")


@pytest.fixture(scope="module")
def city(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dt.datetime]:
    """The demo city with a stretch of history; the moment the roll-ups were refreshed at."""
    with django_db_blocker.unblock(), transaction.atomic():
        demo.seed_city(password="demo-pass-12345", reset_passwords=False)
        seed_history(stdout=StringIO(), cases=120)
        # A week on, the open cases of the history are a mix of on time, near and overdue.
        now = timezone.now() + dt.timedelta(days=7)
        refresh_rollups(now=now, full=True)
        yield now
        transaction.set_rollback(True)


def territory_of(username: str) -> Any:
    assignment = RoleAssignment.objects.select_related("area", "user").filter(user__username=username).first()
    assert assignment is not None and assignment.area is not None, username
    return assignment.user, assignment.area


@pytest.mark.parametrize("username", LOGINS)
def test_cards_lists_and_tags_agree(city: dt.datetime, username: str) -> None:
    now = city
    user, area = territory_of(username)
    mine = Case.objects.visible_to(user).filter(alley__code__startswith=area.code)
    overdue = mine.filter(overdue_q(now))
    cards = open_cards([area.code])

    # The dashboard card (the roll-up snapshot) and the querysets of the one rule.
    assert cards["overdue"] == overdue.count()
    assert cards["open"] == mine.open().count()

    # The case list's filters: the "overdue" switch and the deadline-state choice.
    listed = filter_cases(
        Case.objects.visible_to(user), {"area": area.code, "overdue": True}, user=user, now=now
    )
    assert listed.count() == cards["overdue"]
    assert mine.filter(status_q(DueStatus.OVERDUE, now)).count() == cards["overdue"]
    by_state = filter_cases(
        Case.objects.visible_to(user), {"area": area.code, "due": "overdue"}, user=user, now=now
    )
    assert by_state.count() == cards["overdue"]
    assert mine.filter(near_q(now)).count() == mine.filter(status_q(DueStatus.NEAR, now)).count()
    # The near card (临期, the workbench's near) counts the same cases (issue 16's dashboards).
    assert cards["near"] == mine.filter(near_q(now)).count()

    # Every row the list shows as overdue is tagged overdue, and no other row is.
    for case in mine.open():
        due = case_due(case, now)
        assert bool(due and due.is_overdue) == overdue.filter(pk=case.pk).exists(), case.tracking_code

    # The workbench: each queue's count is its list's length and its "see all" list; the overdue
    # queue holds only cases the dashboard counts as overdue (those the user answers for).
    blocks = case_blocks(user, now=now)
    for key, rows in blocks.queues.items():
        see_all = filter_cases(Case.objects.visible_to(user), {"queue": key}, user=user, now=now)
        assert blocks.counts[key] == rows.count() == see_all.count(), key
    if "overdue" in blocks.queues:
        assert not blocks.queues["overdue"].exclude(overdue_q(now)).exists()
        assert blocks.counts["overdue"] <= Case.objects.visible_to(user).filter(overdue_q(now)).count()

    # The dashboard's overdue table lists the same cases (up to its limit).
    table = held_cases(viewer_for(user), area, kind="overdue", now=now, limit=1000)
    assert sorted(row["code"] for row in table.rows) == sorted(
        overdue.values_list("tracking_code", flat=True)
    )
    assert all(row["overdue_days"] is not None for row in table.rows)


def test_the_demo_city_has_something_to_agree_on(city: dt.datetime) -> None:
    """Guard against a vacuous pass: the seeded history leaves overdue and near cases."""
    assert Case.objects.filter(overdue_q(city)).count() >= 3
    assert Case.objects.filter(status_q(DueStatus.OK, city)).exists()
