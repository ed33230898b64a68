"""Who logs daily patrols (日巡查) and weekly visits (周走访), and of which alleys: the one rule.

The staff pages (``issues.forms.PatrolForm``, ``issues.views``) and the API
(``issues.api.views.PatrolLogViewSet``) both ask here; neither keeps its own list of roles.

The whole alley team patrols and visits its alley: the chief and deputies, the service team,
the supervision team of retired Party members — whom the Licheng paper has "协助街巷长做好
'日巡查、周走访'" — and the grid workers, each for the alleys where they hold that role
(``alleys.choices.ALLEY_TEAM_ROLES``). A superuser may log for any alley, as the staff pages
always allowed. Nobody else does: community and street staff supervise the teams, they do not
patrol for them.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from alleys.choices import ALLEY_TEAM_ROLES, AreaLevel
from alleys.models import Area
from alleys.people import Actor
from alleys.scoping import Scope, scope_for

PATROL_ROLES: frozenset[str] = ALLEY_TEAM_ROLES

# Why someone may not log a patrol (the staff pages' 403 and the API's).
NOT_ON_THE_TEAM = gettext_lazy("只有街巷长、副巷长、服务队员、督导队员和网格员可以记录巡查走访。")


def patrol_alley_codes(scope: Scope) -> frozenset[str]:
    """The codes of the alleys on whose team the scope's user serves."""
    return frozenset(code for role, code, _dept in scope.assignments if role in PATROL_ROLES and code)


def logs_patrols(user: Actor) -> bool:
    """Whether the user logs patrols and visits at all (the to-do page's and the list's link)."""
    scope = scope_for(user)
    return scope.is_global or bool(patrol_alley_codes(scope))


def may_log_patrol(user: Actor, alley_code: str) -> bool:
    """Whether the user may log a patrol or a visit of the alley with ``alley_code``."""
    scope = scope_for(user)
    return scope.is_global or alley_code in patrol_alley_codes(scope)


def patrol_alleys(user: Actor) -> QuerySet[Area]:
    """The alleys the user may log patrols and visits of (the staff form's choices)."""
    scope = scope_for(user)
    alleys = Area.objects.filter(level=AreaLevel.ALLEY).select_related("parent")
    if scope.is_global:
        return alleys
    return alleys.filter(code__in=sorted(patrol_alley_codes(scope)))
