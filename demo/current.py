"""A dozen current cases for the named logins: seconds to write, so the site can open at once.

``dev.py run`` writes these with the city, starts the site, and leaves the year of history
(demo/history.py, a minute or more) to fill in afterwards. Every named login then finds work
on its first page: the chief cases to accept, start and fix; the community a case to verify
and one whistled up to it; the street one to review; the organisation department one to
dispatch; the department an order to receive.

Idempotent per case: each carries a fixed tracking code ``DC000001``…; one that exists is
left alone, so an interrupted run is completed by the next.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from alleys.choices import AreaLevel
from alleys.models import Area, Department
from dispatch.models import CategoryType
from issues import workflow as wf
from issues.models import Case
from issues.notify import notifications_suppressed

from .city import demo_anchors
from .history import Writer, _History, _people

CURRENT_PREFIX = "DC"
SEED = 20_261_205

Play = Callable[[_History, Case, dt.datetime], object]


def _leave(history: _History, case: Case, t: dt.datetime) -> object:
    return case  # submitted: waiting for the alley chief to accept it


def _accept(history: _History, case: Case, t: dt.datetime) -> Case:
    return wf.case_accept(case=case, actor=history.holder(case), now=history.later(t, 0.2))


def _start(history: _History, case: Case, t: dt.datetime) -> Case:
    case = _accept(history, case, t)
    return wf.case_start(case=case, actor=history.holder(case), now=history.later(t, 0.4))


def _fix(history: _History, case: Case, t: dt.datetime) -> Case:
    case = _start(history, case, t)
    return history.fix(case, history.later(t, 0.6), actor=history.holder(case))


def _to_community(history: _History, case: Case, t: dt.datetime) -> Case:
    case = _accept(history, case, t)
    return wf.case_whistle(
        case=case,
        actor=history.holder(case),
        reason="巷内力量无法解决，需要社区协调相关单位。",
        now=history.later(t, 0.5),
    )


def _to_street(history: _History, case: Case, t: dt.datetime) -> Case:
    case = _to_community(history, case, t)
    case = wf.case_accept(case=case, actor=history.holder(case), now=history.later(t, 0.7))
    return wf.case_whistle(
        case=case, actor=history.holder(case), reason="需街道协调解决。", now=history.later(t, 0.9)
    )


def _department(history: _History) -> Department:
    return Department.objects.get(code=demo_anchors().department.code)


def _to_district(history: _History, case: Case, t: dt.datetime) -> Case:
    case, _t = history.climb_to_district(case, t, _department(history))
    return case


def _dispatched(history: _History, case: Case, t: dt.datetime) -> Case:
    case = _to_district(history, case, t)
    return wf.case_dispatch(
        case=case,
        actor=history.holder(case),
        lead=_department(history),
        instructions="请按时报到并制定工作方案。",
        now=history.later(t, 3),
    )


# (minutes before now it was reported, category code, which alley of the anchor community, what then)
CASES: tuple[tuple[int, str, int, Play], ...] = (
    (20, "A01", 0, _leave),
    (45, "B01", 0, _leave),
    (90, "A01", 1, _leave),
    (120, "A01", 0, _accept),
    (150, "B01", 1, _start),
    (180, "A01", 0, _start),
    (200, "A01", 0, _fix),
    (220, "B01", 1, _fix),
    (240, "B01", 0, _to_community),
    (260, "C01", 0, _to_street),
    (280, "C01", 0, _to_district),
    (300, "C01", 1, _dispatched),
)


def current_codes() -> list[str]:
    return [f"{CURRENT_PREFIX}{index:06d}" for index in range(1, len(CASES) + 1)]


def seed_current(*, stdout: Writer, now: dt.datetime | None = None) -> int:
    """Write the current cases not yet there; returns how many were created."""
    missing = set(current_codes()) - set(
        Case.objects.filter(tracking_code__in=current_codes()).values_list("tracking_code", flat=True)
    )
    if not missing:
        stdout.write(f"current cases: already present ({len(CASES)}), nothing to do\n")
        return 0
    anchors = demo_anchors()
    alleys = list(
        Area.objects.filter(level=AreaLevel.ALLEY, parent__code=anchors.community.code).order_by("code")[:2]
    )
    categories = {
        c.code: c for c in CategoryType.objects.filter(code__in={code for _m, code, _a, _p in CASES})
    }
    if not alleys or len(categories) < 3:
        stdout.write("current cases: no territory or categories yet, skipped\n")
        return 0
    end = now or timezone.now()
    history = _History(random.Random(SEED), _people(), end)
    created = 0
    with notifications_suppressed():
        for index, (minutes, category_code, alley_index, play) in enumerate(CASES, start=1):
            code = f"{CURRENT_PREFIX}{index:06d}"
            if code not in missing:
                continue
            moment = end - dt.timedelta(minutes=minutes)
            alley = alleys[min(alley_index, len(alleys) - 1)]
            with transaction.atomic():
                case = wf.case_submit(
                    category=categories[category_code],
                    alley=alley,
                    description=f"{alley.name}{categories[category_code].name}，请尽快来看看。",
                    reporter_name=f"{'张王李陈林黄'[index % 6]}女士",
                    reporter_phone=f"138{index:08d}",
                    consent=True,
                    now=moment,
                )
                Case.objects.filter(pk=case.pk).update(tracking_code=code)
                case.tracking_code = code
                play(history, case, moment)
            created += 1
    stdout.write(f"current cases: {created} written for the named logins\n")
    return created
