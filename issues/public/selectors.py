"""Reads for the residents' pages: the alley board, finding an alley, a case's progress, the public board.

Everything here is public. Nothing returns a reporter's name, phone or address, a staff
member's phone, or a staff member's name except the alley team's names, which the
responsibility board (公示牌) at the alley entrance shows anyway. Each function runs a
fixed number of queries, however many cases, events or photos there are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.db.models import Count, F, Prefetch, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alleys import reference
from alleys.choices import AreaLevel, Role
from alleys.logging import mask_phone
from alleys.models import AlleyProfile, Area, RoleAssignment
from alleys.people import Member
from alleys.reference import FrozenRow
from dispatch.chain import unit_label
from dispatch.models import CategoryType
from issues.choices import (
    AWAITING_ANSWER_STATES,
    VERIFIED_STATES,
    CaseState,
    EventKind,
    Light,
    PhotoKind,
    PhotoState,
)
from issues.reference import all_categories, attach_reference_rows, category_rows

from ..deadline_state import case_due
from ..models import Case, CaseEvent, CasePhoto
from ..photos import THUMB_SIDE

# Tracking codes are upper-case letters and digits (see issues.models.new_tracking_code);
# anything else is answered like an unknown code, without a query.
_CODE_RE = re.compile(r"^[0-9A-Z]{6,12}$")
_AREA_CODE_RE = re.compile(r"^[0-9]{4,15}$")
BOARD_LEVELS: tuple[str, ...] = (AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.ALLEY)
BOARD_RECENT = 20
BOARD_WINDOW_DAYS = 365
SEARCH_LIMIT = 30
# States the board counts as solved: the fix was verified (awaiting the answer or the return
# visit, or closed after it).
SOLVED_STATES = tuple(sorted(VERIFIED_STATES))


def normalize_code(raw: str) -> str:
    """What a resident types or reads out (spaces, dashes, lower case) as a stored tracking code."""
    return re.sub(r"[\s\-_]", "", raw or "").upper()


def public_name(user: Member) -> str:
    """A team member's name as the board shows it: the profile name, never the login name."""
    profile = getattr(user, "staff_profile", None)
    name = getattr(profile, "full_name", "") or user.get_full_name()
    return str(name).strip()


# --- the alley board ----------------------------------------------------------------------


@dataclass(frozen=True)
class TeamMember:
    """One line of the responsibility board: the role (and speciality) and a name."""

    role: str
    name: str


@dataclass
class AlleyBoard:
    """What the alley's responsibility board (公示牌) shows."""

    alley: Area
    chain: list[Area]
    profile: AlleyProfile | None
    chiefs: list[TeamMember] = field(default_factory=list)
    deputies: list[TeamMember] = field(default_factory=list)
    service_team: list[TeamMember] = field(default_factory=list)

    @property
    def community(self) -> Area | None:
        return next((a for a in self.chain if a.level == AreaLevel.COMMUNITY), None)

    @property
    def street(self) -> Area | None:
        return next((a for a in self.chain if a.level == AreaLevel.STREET), None)

    @property
    def place(self) -> str:
        """街道 · 社区, for a heading under the alley's name."""
        return " · ".join(a.name for a in self.chain if a.level in (AreaLevel.STREET, AreaLevel.COMMUNITY))


def find_alley(code: str) -> Area | None:
    """An active alley by its code, with its profile (no query once the process has read it)."""
    if not code.isdigit():
        return None
    area = reference.area_by_code(code)
    if area is None or area.level != AreaLevel.ALLEY or not area.is_active:
        return None
    return area


def find_place(code: str) -> tuple[Area, Area | None] | None:
    """(alley, building or None) for a code printed on a board: an active alley's, or an active
    building's (its own QR code opens its alley's form with the building chosen)."""
    if not code.isdigit():
        return None
    area = reference.area_by_code(code)
    if area is None or not area.is_active:
        return None
    if area.level == AreaLevel.ALLEY:
        return area, None
    if area.level == AreaLevel.BUILDING and area.parent_id is not None:
        alley = reference.area_by_id(area.parent_id)
        if alley is not None and alley.is_active:
            return alley, area
    return None


def buildings_of(alley: Area) -> list[Area]:
    """The alley's active buildings (楼栋), for the form's optional choice (reference data)."""
    return reference.buildings_of(alley)


def _profile_of(alley: Area) -> AlleyProfile | None:
    # From the reference copy: an alley without a profile costs no query there either.
    return reference.profile_of(alley)


def alley_board(alley: Area) -> AlleyBoard:
    """The board of ``alley`` (one query, the team; the chain above it is reference data)."""
    chain = reference.chain_above(alley)
    board = AlleyBoard(alley=alley, chain=chain, profile=_profile_of(alley))
    team = (
        RoleAssignment.objects.active()
        .filter(area=alley, role__in=(Role.CHIEF, Role.DEPUTY_CHIEF, Role.SERVICE_TEAM), user__is_active=True)
        .select_related("user", "user__staff_profile")
        .order_by("role", "since", "id")
    )
    for assignment in team:
        name = public_name(assignment.user)
        if not name:
            continue  # a login without a real name is not shown to the public
        if assignment.role == Role.CHIEF:
            board.chiefs.append(TeamMember(_("巷长"), name))
        elif assignment.role == Role.DEPUTY_CHIEF:
            board.deputies.append(TeamMember(_("副巷长"), name))
        else:
            label = assignment.get_service_kind_display() or _("服务队员")
            board.service_team.append(TeamMember(str(label), name))
    return board


# --- finding an alley (street → community → alley, or by name) ---------------------------


@dataclass
class FinderStep:
    """One step of the alley finder: where we are and what to choose from."""

    current: Area | None
    chain: list[Area]
    groups: list[tuple[Area | None, list[Area]]]
    query: str = ""


def finder_step(*, street: str = "", community: str = "", query: str = "") -> FinderStep:
    """The areas to choose from next (two queries at most)."""
    query = query.strip()[:50]
    if query:
        alleys = list(
            Area.objects.filter(level=AreaLevel.ALLEY, is_active=True, name__icontains=query).order_by(
                "code"
            )[:SEARCH_LIMIT]
        )
        # Group the matches by community so "金鱼巷" in two communities can be told apart.
        codes = {a.code_at(AreaLevel.COMMUNITY) for a in alleys}
        communities = {a.code: a for a in Area.objects.filter(code__in=codes)}
        groups: dict[str, list[Area]] = {}
        for alley in alleys:
            groups.setdefault(alley.code_at(AreaLevel.COMMUNITY), []).append(alley)
        return FinderStep(
            current=None,
            chain=[],
            groups=[(communities.get(code), items) for code, items in groups.items()],
            query=query,
        )
    parent_code = community or street
    parent_level = AreaLevel.COMMUNITY if community else AreaLevel.STREET
    if parent_code and parent_code.isdigit():
        chain = list(Area.objects.chain_above(parent_code))
        current = chain[-1] if chain and chain[-1].code == parent_code else None
        if current is not None and current.level == parent_level and current.is_active:
            children = list(current.children.filter(is_active=True).order_by("code"))
            return FinderStep(current=current, chain=chain[:-1], groups=[(None, children)])
    # The first step: every street, grouped by district.
    areas = Area.objects.filter(level__in=(AreaLevel.DISTRICT, AreaLevel.STREET), is_active=True).order_by(
        "code"
    )
    districts: dict[str, tuple[Area, list[Area]]] = {}
    for area in areas:
        if area.level == AreaLevel.DISTRICT:
            districts[area.code] = (area, [])
        elif area.code_at(AreaLevel.DISTRICT) in districts:
            districts[area.code_at(AreaLevel.DISTRICT)][1].append(area)
    return FinderStep(current=None, chain=[], groups=[(d, s) for d, s in districts.values() if s])


# --- a case's progress ---------------------------------------------------------------------


# The one row, by its unique code. Written out: compiling the equivalent queryset cost more
# than PostgreSQL took to answer it, on the page residents open most.
_CASE_BY_CODE = f"SELECT * FROM {Case._meta.db_table} WHERE tracking_code = %s"  # noqa: S608 -- no user input


def find_case(raw_code: str) -> Case | None:
    """The case with this tracking code, with what its page shows (one query), or None.

    Only the case's own row is read: its category, alley, holder and lead department are
    reference data (a join of five tables cost PostgreSQL more to plan than to run).
    The case it was merged into, shown only for a merged case, loads when used.
    """
    code = normalize_code(raw_code)
    if not _CODE_RE.match(code):
        return None
    case = next(iter(Case.objects.raw(_CASE_BY_CODE, [code])), None)
    if case is None:
        return None
    return attach_reference_rows(case)


LIGHT_STEPS: tuple[tuple[str, Any], ...] = (
    ("grey", gettext_lazy("已提交")),
    ("yellow", gettext_lazy("办理中")),
    ("green", gettext_lazy("待核实")),
    ("orange", gettext_lazy("处理完结，等待回访")),  # Jilin's orange light (橘灯)
    ("done", gettext_lazy("已关闭")),
)
# The public events that move a case up a tier, "submitted" again there.
MOVED_UP_KINDS = frozenset({EventKind.WHISTLED, EventKind.ESCALATED})


@dataclass(frozen=True)
class PublicEvent:
    """One public timeline line: when, what, which unit, and the note with phone numbers masked."""

    at: dt.datetime
    kind: str
    unit: str
    note: str

    # The time as the page prints it, formatted here: the template's date filter cost
    # more than the rest of a timeline line (they print what |date:"c" and
    # |date:"DATETIME_FORMAT" print).
    @property
    def at_iso(self) -> str:
        return timezone.localtime(self.at).isoformat()

    @property
    def at_text(self) -> str:
        return formats.date_format(timezone.localtime(self.at), "DATETIME_FORMAT")


@dataclass(frozen=True)
class PublicPhoto:
    """A photo staff marked public, with the size of its list thumbnail."""

    pk: int
    kind: str
    thumb_width: int
    thumb_height: int


@dataclass
class Progress:
    """What the tracking page shows of one case."""

    case: Case
    state: str  # the state's label
    chain: list[Area]
    unit: str
    description: str
    events: list[PublicEvent]
    photos: list[PublicPhoto]
    steps: list[dict[str, Any]]
    due: dt.datetime | None
    due_provisional: bool  # counted over a predicted year's days (``Case.walked_predicted_days``)
    overdue: bool
    feedback_open: bool
    return_visit_due: bool  # the window passed: the community will call or visit (the form stays open)
    # The light of the steps and the badge: the case's own, except that a case moved up a tier
    # (whistled or escalated by the sweep), "submitted" again there, is still being handled.
    light: str = ""
    moved_up: bool = False  # waiting for the next tier to accept it: the page says so


def handling_unit(case: Case) -> str:
    """Who handles the case now, as a unit name: the lead department once dispatched, else the tier's unit."""
    if case.lead_department_id and case.lead_department is not None:
        return case.lead_department.name
    return unit_label(case.tier, case.holder_area)


def thumb_size(width: int, height: int, side: int = THUMB_SIDE) -> tuple[int, int]:
    """The thumbnail's size (the photo scaled to fit ``side`` × ``side``), for <img width height>."""
    if width <= 0 or height <= 0:
        return side, side
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _labels(choices: type[models.TextChoices]) -> dict[str, str]:
    """{value: label} of a choices class in the active language.

    ``get_FOO_display()`` rebuilds and hashes the whole (lazy) choice list on every call,
    which for the forty event kinds cost more than the rest of the timeline.
    """
    key = (choices, translation.get_language())
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = {str(value): str(label) for value, label in choices.choices}
    return labels


_LABELS: dict[tuple[type[models.TextChoices], str | None], dict[str, str]] = {}


def public_photos(photos: Iterable[CasePhoto]) -> list[PublicPhoto]:
    labels = _labels(PhotoKind)
    result = []
    for photo in photos:
        width, height = thumb_size(photo.width, photo.height)
        result.append(PublicPhoto(photo.pk, labels.get(photo.kind, photo.kind), width, height))
    return result


# A case's public timeline and public photos in one statement, each in its model's order
# (events by time, photos by upload time, then id). Written out like _CASE_BY_CODE: the two
# ORM querysets cost more to compile than PostgreSQL took to answer them.
_PUBLIC_ROWS = (
    "SELECT 0, at, kind, actor_label, note, id, 0, 0"  # noqa: S608 -- no user input
    f" FROM {CaseEvent._meta.db_table} WHERE case_id = %s AND public"
    " UNION ALL"
    " SELECT 1, created_at, kind, '', '', id, width, height"
    # CasePhotoQuerySet.public(): processed (issues.photos) and marked public by staff.
    f" FROM {CasePhoto._meta.db_table} WHERE case_id = %s AND is_public AND state = '{PhotoState.READY.value}'"
    " ORDER BY 1, 2, 6"
)


def _public_rows(case_id: int) -> list[tuple[Any, ...]]:
    """(is_photo, at, kind, unit, note, id, width, height) of the case's public events, then photos."""
    with connection.cursor() as cursor:
        cursor.execute(_PUBLIC_ROWS, [case_id, case_id])
        rows = cursor.fetchall()
    # The backend's own conversion of the time column (SQLite returns text), as the ORM would apply.
    convert = _time_converters()
    if not convert:
        return rows
    result = []
    for row in rows:
        at = row[1]
        for converter in convert:
            at = converter(at, _AT_COL, connection)
        result.append((row[0], at, *row[2:]))
    return result


_AT_COL = CaseEvent._meta.get_field("at").get_col(CaseEvent._meta.db_table)


def _time_converters() -> list[Any]:
    return [*connection.ops.get_db_converters(_AT_COL), *_AT_COL.output_field.get_db_converters(connection)]


def case_progress(case: Case, *, now: dt.datetime | None = None) -> Progress:
    """The public view of a case (one more query: the public events and photos)."""
    now = now or timezone.now()
    chain = [
        a for a in reference.chain_above(case.alley) if a.level in (AreaLevel.STREET, AreaLevel.COMMUNITY)
    ]
    kinds = _labels(EventKind)
    photo_kinds = _labels(PhotoKind)
    events: list[PublicEvent] = []
    photos: list[PublicPhoto] = []
    went_up = False
    for is_photo, at, kind, unit, note, pk, width, height in _public_rows(case.pk):
        if is_photo:
            photos.append(PublicPhoto(pk, photo_kinds.get(kind, kind), *thumb_size(width, height)))
        else:
            events.append(PublicEvent(at=at, kind=kinds.get(kind, kind), unit=unit, note=mask_phone(note)))
            went_up = went_up or kind in MOVED_UP_KINDS
    # Only a whistle or an escalation puts a case back in "submitted" (at the next tier): for the
    # resident it is not a step back but the same problem handled higher up.
    moved_up = went_up and case.state == CaseState.SUBMITTED
    light = Light.YELLOW if moved_up else case.light
    order = [key for key, _label in LIGHT_STEPS]
    current = order.index(light) if light in order else 0
    steps = [
        {"key": key, "label": str(label), "done": i < current, "current": i == current}
        for i, (key, label) in enumerate(LIGHT_STEPS)
    ]
    governing = case_due(case, now)
    due = governing.due if governing else None
    return Progress(
        case=case,
        # The orange light by its Jilin name while the answer (or the return visit) is awaited.
        state=str(Light.YELLOW.label) if moved_up else case.public_state,
        chain=chain,
        unit=handling_unit(case),
        # The resident's own words, but a code can be passed on: mobile numbers in it are masked.
        description=mask_phone(case.description),
        events=events,
        photos=photos,
        steps=steps,
        due=due,
        due_provisional=case.walked_predicted_days(due),
        overdue=bool(governing and governing.is_overdue),
        feedback_open=case.state in AWAITING_ANSWER_STATES,
        return_visit_due=case.state == CaseState.AWAITING_RETURN_VISIT,
        light=light,
        moved_up=moved_up,
    )


# --- the public board ----------------------------------------------------------------------


@dataclass
class BoardCounts:
    """Totals of the board's window."""

    received: int
    solved: int
    on_time: int
    open: int

    @property
    def on_time_percent(self) -> int | None:
        return round(100 * self.on_time / self.solved) if self.solved else None


@dataclass
class PublicBoard:
    """The public board of a street, community or alley."""

    area: Area
    chain: list[Area]
    children: list[Area]
    counts: BoardCounts
    cases: Sequence[Case]
    since: dt.datetime


def find_board_area(code: str) -> Area | None:
    """A street, community or alley by code (one query), or None."""
    if not _AREA_CODE_RE.match(code or ""):
        return None
    return Area.objects.filter(code=code, level__in=BOARD_LEVELS, is_active=True).first()


def public_board(area: Area, *, now: dt.datetime | None = None) -> PublicBoard:
    """Counts and recent cases of ``area``, anonymised (five queries, however many cases)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=BOARD_WINDOW_DAYS)
    cases = Case.objects.filter(alley__code__startswith=area.code).exclude(state=CaseState.MERGED)
    solved = Q(state__in=SOLVED_STATES, resolved_at__isnull=False)
    totals = cases.filter(created_at__gte=since).aggregate(
        received=Count("id"),
        solved=Count("id", filter=solved),
        on_time=Count("id", filter=solved & Q(resolve_due__isnull=False, resolved_at__lte=F("resolve_due"))),
        open=Count("id", filter=~Q(state__in=(*SOLVED_STATES, CaseState.REJECTED))),
    )
    recent = list(
        cases.select_related("category", "alley")
        .only(
            "id",
            "state",
            "created_at",
            "resolved_at",
            "closed_at",
            "category__name",
            "category__icon",
            "alley__name",
            "alley__code",
        )
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=CasePhoto.objects.public().only("id", "case_id", "kind", "width", "height"),
                to_attr="public_photo_rows",
            )
        )
        .order_by("-created_at", "-id")[:BOARD_RECENT]
    )
    for case in recent:
        case.public_photos = public_photos(case.public_photo_rows)  # type: ignore[attr-defined]
    chain = list(Area.objects.chain_above(area, include_self=False).filter(level__in=BOARD_LEVELS))
    children = (
        list(area.children.filter(is_active=True).order_by("code")) if area.level != AreaLevel.ALLEY else []
    )
    return PublicBoard(
        area=area,
        chain=chain,
        children=children,
        counts=BoardCounts(**{k: v or 0 for k, v in totals.items()}),
        cases=recent,
        since=since,
    )


# --- the report form's categories ------------------------------------------------------------


@dataclass(frozen=True)
class ReportCategories:
    """The active category types of the form, common and other, with their ids as the form posts them."""

    common: tuple[CategoryType, ...]
    other: tuple[CategoryType, ...]
    by_id: dict[str, CategoryType]
    common_ids: tuple[str, ...]
    other_ids: tuple[str, ...]
    by_code: dict[str, CategoryType]


# (the process's copy of all category types it was built from, the form's set)
_report_categories: tuple[Mapping[int, FrozenRow[CategoryType]], ReportCategories] | None = None


def report_categories() -> ReportCategories:
    """The form's active categories, in their order (no query once read; rebuilt when the copy is).

    Whole rows with their class: ``case_submit`` reads the tier and limits from them. Built
    once per copy of the category types: every form post used to walk the hundred types
    twice to index them by id.
    """
    global _report_categories
    frozen = category_rows()
    built = _report_categories
    if built is not None and built[0] is frozen:
        return built[1]
    everything = all_categories()
    common: list[CategoryType] = []
    other: list[CategoryType] = []
    for category in everything.values():
        if category.is_active:
            (common if category.common else other).append(category)
    categories = ReportCategories(
        common=tuple(common),
        other=tuple(other),
        by_id={str(c.pk): c for c in (*common, *other)},
        common_ids=tuple(str(c.pk) for c in common),
        other_ids=tuple(str(c.pk) for c in other),
        by_code={c.code: c for c in (*common, *other)},
    )
    _report_categories = (frozen, categories)
    return categories


# --- 我的反映: the cases of a verified number ----------------------------------------------------


def cases_of_phone(phone: str) -> models.QuerySet[Case]:
    """Every case filed with ``phone`` (a verified, normalised number), newest first.

    Only for the resident who verified the number (``participation.phones.verified_phone``): it
    carries the tracking codes. Served by the index ``case_reporter_phone``.
    """
    if not phone:
        return Case.objects.none()
    return (
        Case.objects.filter(reporter_phone=phone)
        .select_related("category", "alley")
        .only(
            "id",
            "tracking_code",
            "state",
            "created_at",
            "resolved_at",
            "category__name",
            "alley__name",
            "alley__code",
        )
        .order_by("-created_at", "-id")
    )
