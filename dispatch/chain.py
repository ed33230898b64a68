"""The tiered chain: alley → community → street → district → city, and who holds a case at each tier."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from alleys.choices import LEVEL_ORDER, AreaLevel, level_above
from alleys.models import Area

if TYPE_CHECKING:
    pass

# Tiers from the bottom up (the reverse of the area levels).
TIER_ORDER: tuple[str, ...] = tuple(reversed(LEVEL_ORDER))


def next_tier(tier: str) -> str | None:
    """The tier a whistle goes to, or None at the city."""
    return level_above(tier)


def tier_index(tier: str) -> int:
    return TIER_ORDER.index(tier)


def holder_area_for(alley: Area, tier: str) -> Area:
    """The area whose staff hold a case of ``alley`` at ``tier``."""
    if tier == AreaLevel.ALLEY:
        return alley
    return Area.objects.get(code=alley.code_at(tier))


def unit_label(tier: str, area: Area) -> str:
    """The public name of the unit holding a case (never a person's name)."""
    if tier == AreaLevel.ALLEY:
        return _("%(alley)s街巷服务团队") % {"alley": area.name}
    if tier in (AreaLevel.DISTRICT, AreaLevel.CITY):
        # 鲤城区 → 鲤城区委组织部, 泉州市 → 泉州市委组织部
        return _("%(area)s委组织部") % {"area": area.name}
    return area.name
