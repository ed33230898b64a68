"""``{% chrome nav %}…{% endchrome %}``: the residents' pages' fixed header and footer, rendered once.

The header, navigation and footer every residents' page carries are a dozen translated
strings, three reversed URLs and a static file's hashed name: they depend on nothing
but the active language, the script prefix and the optional values named in the tag (the page's ``nav``).
Rendering them on every request cost as much as the rest of a short page, so each
process renders each (block, language, values) once and keeps the HTML.

Only for markup that depends on nothing else: no request, user, form or data may be
used inside the block (the kept HTML is served to everyone). With DEBUG on nothing is
kept, so an edited template shows at once; a changed setting forgets everything, and so does
``clear_process_caches()`` (the tests' one fixture).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.base import FilterExpression, Node, NodeList, Parser, Token
from django.template.context import Context
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from alleys.reference import register_process_cache

register = template.Library()

# Far more than the pages × languages × nav values there are; a bound against a misuse.
_MAX_KEPT = 512
_kept: dict[tuple[Any, ...], SafeString] = {}


def forget(**_kwargs: Any) -> None:
    """Drop every kept fragment (a setting changed, or a test asks)."""
    _kept.clear()


setting_changed.connect(forget, dispatch_uid="public-chrome-forget")
register_process_cache(forget)


class ChromeNode(Node):
    """A block whose output depends only on the language and the values named in the tag."""

    def __init__(self, nodelist: NodeList, vary: list[FilterExpression]) -> None:
        self.nodelist = nodelist
        self.vary = vary

    def render(self, context: Context) -> SafeString:
        values = tuple(str(v.resolve(context, ignore_failures=True) or "") for v in self.vary)
        if settings.DEBUG:
            return mark_safe(self.nodelist.render(context))  # noqa: S308 -- rendered template output
        # Keyed by where the block is written (template, line, tag), not by id(): a reloaded
        # template must not meet a dead node's fragment.
        origin = getattr(self, "origin", None)
        token = getattr(self, "token", None)
        key = (
            getattr(origin, "name", None),
            getattr(token, "lineno", None),
            getattr(token, "contents", None),
            translation.get_language(),
            get_script_prefix(),  # the reversed URLs start with it
            values,
        )
        html = _kept.get(key)
        if html is None:
            html = mark_safe(self.nodelist.render(context))  # noqa: S308 -- rendered template output
            if len(_kept) >= _MAX_KEPT:
                _kept.clear()
            _kept[key] = html
        return html


@register.tag("chrome")
def do_chrome(parser: Parser, token: Token) -> ChromeNode:
    """``{% chrome [value …] %}…{% endchrome %}``."""
    vary = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endchrome",))
    parser.delete_first_token()
    return ChromeNode(nodelist, vary)
