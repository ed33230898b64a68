"""The tiered chain: alley → community → street → district → city, and who holds a case at each tier."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from alleys.choices import LEVEL_ORDER, AreaLevel, tier_above
from alleys.models import Area

if TYPE_CHECKING:
    pass

# Tiers from the bottom up (the reverse of the tier levels; a building is a place, never a tier).
TIER_ORDER: tuple[str, ...] = tuple(reversed(LEVEL_ORDER))


# The classes a building head (楼栋长) handles for their building, beside the alley's team: A, the
# small matters a neighbour fixes in person (a stairwell light, a blocked drain); B/C/D need the
# alley's team and up. The building is never a tier: such a case is held by the alley as any other.
BUILDING_CLASSES: frozenset[str] = frozenset({"A"})


def next_tier(tier: str) -> str | None:
    """The tier a whistle goes to, or None at the city."""
    return tier_above(tier)


def tier_index(tier: str) -> int:
    return TIER_ORDER.index(tier)


# Where every report starts: with the alley's team (小事不出巷). The category's class sets how
# high it may climb by itself (``highest_tier``), not where it starts.
START_TIER: str = AreaLevel.ALLEY


def highest_tier(category: object) -> str:
    """The highest tier a missed deadline escalates a case of ``category`` to (then it is supervised)."""
    return str(category.highest_tier)  # type: ignore[attr-defined]


def may_climb_from(tier: str, category: object) -> bool:
    """Whether a missed deadline at ``tier`` escalates the case (below its class's highest tier)."""
    if tier not in TIER_ORDER:  # a building is a place, not a tier: nothing is held there to climb
        return False
    return tier != AreaLevel.CITY and tier_index(tier) < tier_index(highest_tier(category))


def alert_tiers(category: object, *, urgent: bool) -> list[str]:
    """The tiers above the alley told at once of a new report: up to the type's ``alert_tier``;
    an urgent report at least its community."""
    top = str(getattr(category, "alert_tier", "") or "")
    if urgent and (not top or tier_index(top) < tier_index(AreaLevel.COMMUNITY)):
        top = AreaLevel.COMMUNITY
    if not top or tier_index(top) <= tier_index(START_TIER):
        return []
    return list(TIER_ORDER[tier_index(START_TIER) + 1 : tier_index(top) + 1])


def holder_area_for(alley: Area, tier: str) -> Area:
    """The area whose staff hold a case of ``alley`` at ``tier``."""
    if tier == AreaLevel.ALLEY:
        return alley
    return Area.objects.get(code=alley.code_at(tier))


def unit_label(tier: str, area: Area) -> str:
    """The public name of the unit holding a case (never a person's name)."""
    if tier == AreaLevel.ALLEY:
        return _("%(alley)s街巷服务团队") % {"alley": area.name}
    if tier == AreaLevel.BUILDING:  # never a tier: the unit a building head acts for (events.actor_label)
        return _("%(building)s楼栋长") % {"building": area.name}
    if tier in (AreaLevel.DISTRICT, AreaLevel.CITY):
        # 鲤城区 → 鲤城区委组织部, 泉州市 → 泉州市委组织部
        return _("%(area)s委组织部") % {"area": area.name}
    return area.name
