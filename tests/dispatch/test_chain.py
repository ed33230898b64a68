"""The chain's rules for a category: every report starts in the alley, the class sets how high it climbs
by itself, and the type who is told at once (issue 15, defect 1)."""

from __future__ import annotations

import pytest

from alleys.choices import AreaLevel as T
from dispatch.chain import START_TIER, alert_tiers, may_climb_from
from dispatch.models import CategoryClass, CategoryType


def category(top: str, alert: str = "", type_top: str = "") -> CategoryType:
    return CategoryType(
        code="X01", top_tier=type_top, alert_tier=alert, category_class=CategoryClass(code="X", top_tier=top)
    )


def test_every_report_starts_in_the_alley() -> None:
    assert START_TIER == T.ALLEY


@pytest.mark.parametrize(
    ("top", "climbs_from"),
    [
        (T.COMMUNITY, {T.ALLEY}),
        (T.STREET, {T.ALLEY, T.COMMUNITY}),
        (T.DISTRICT, {T.ALLEY, T.COMMUNITY, T.STREET}),
        (T.CITY, {T.ALLEY, T.COMMUNITY, T.STREET, T.DISTRICT}),
    ],
)
def test_a_class_climbs_by_itself_up_to_its_highest_tier(top: str, climbs_from: set[str]) -> None:
    assert {t for t in T.values if may_climb_from(t, category(top))} == climbs_from


def test_a_type_may_set_its_own_highest_tier() -> None:
    assert category(T.COMMUNITY, type_top=T.STREET).highest_tier == T.STREET
    assert may_climb_from(T.COMMUNITY, category(T.COMMUNITY, type_top=T.STREET))


@pytest.mark.parametrize(
    ("alert", "urgent", "told"),
    [
        ("", False, []),
        ("", True, [T.COMMUNITY]),
        (T.ALLEY, False, []),
        (T.COMMUNITY, False, [T.COMMUNITY]),
        (T.STREET, False, [T.COMMUNITY, T.STREET]),
        (T.STREET, True, [T.COMMUNITY, T.STREET]),
        (T.DISTRICT, False, [T.COMMUNITY, T.STREET, T.DISTRICT]),
    ],
)
def test_who_is_told_at_once(alert: str, urgent: bool, told: list[str]) -> None:
    assert alert_tiers(category(T.CITY, alert=alert), urgent=urgent) == told
