"""Which alley an address names: placing a report that came without the alley's code.

An Open311 client may send only ``address_string`` (or only ``lat``/``long``). The territory
is codes and names: no alley has a stored centre or boundary, so coordinates cannot place
a report, and the caller asks for the alley's code instead. An address places it when it
names exactly one active alley within the client's area:

* every active alley under ``within`` whose name appears in the address is a candidate
  (one query; case-insensitive for Latin letters; ``%`` and ``_`` are plain characters);
* a name found only inside a longer candidate's name does not count ("小金鱼巷 3 号"
  names 小金鱼巷, not 金鱼巷 as well);
* when several remain (the same alley name in two communities), those whose community is
  named too ("新华社区井亭巷") are kept;
* exactly one left is the alley; none or several is no alley, and ``named`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import CharField, F, Value

from .choices import AreaLevel
from .models import Area

# More candidates than this is ambiguous however they are narrowed (a one-character name).
MAX_CANDIDATES = 20


@dataclass(frozen=True)
class Located:
    """The alley an address names, or None with how many it could mean (0: none, 2 or more: ambiguous)."""

    alley: Area | None
    named: int


def alley_in_address(address: str, *, within: str) -> Located:
    """The one active alley under the area ``within`` (a code) that ``address`` names; see the module."""
    text = address.strip().casefold()
    if not text:
        return Located(alley=None, named=0)
    candidates = list(
        Area.objects.filter(level=AreaLevel.ALLEY, is_active=True, code__startswith=within)
        .alias(address=Value(address, output_field=CharField()))
        .filter(address__icontains=F("name"))
        .select_related("parent")
        .order_by("code")[: MAX_CANDIDATES + 1]
    )
    if len(candidates) > MAX_CANDIDATES:
        return Located(alley=None, named=len(candidates))
    names = {alley.name.casefold() for alley in candidates}
    named = [alley for alley in candidates if not _only_inside_longer(alley.name.casefold(), names, text)]
    if len(named) > 1:
        in_community = [a for a in named if a.parent is not None and a.parent.name.casefold() in text]
        if len(in_community) == 1:
            named = in_community
    if len(named) == 1:
        return Located(alley=named[0], named=1)
    return Located(alley=None, named=len(named))


def _spans(text: str, word: str) -> list[range]:
    """Where ``word`` occurs in ``text`` (overlapping occurrences too)."""
    spans, start = [], text.find(word)
    while start >= 0:
        spans.append(range(start, start + len(word)))
        start = text.find(word, start + 1)
    return spans


def _only_inside_longer(name: str, names: set[str], text: str) -> bool:
    """True when every occurrence of ``name`` in ``text`` lies inside an occurrence of a longer name."""
    longer = [other for other in names if len(other) > len(name) and name in other]
    if not longer:
        return False
    covered = {i for other in longer for span in _spans(text, other) for i in span}
    return all(set(span) <= covered for span in _spans(text, name))
