"""Campaign text written by staff, in Markdown, made safe to show.

Markdown turns the text into HTML; nh3 (the Ammonia sanitizer) then keeps only the tags and
attributes below. A script, an inline event handler, a style or a `javascript:` link never
reaches the page, whoever typed it, so a stolen staff account cannot plant code in a petition.
Each link's address is then read as a browser reads it and rendered in its normalized form:
one that would lead somewhere other than it seems (`https://evil.example\\@eff.org`,
`/\\evil.example`) loses its link.
"""

from __future__ import annotations

import re

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

from mechanisms.web_urls import markup_href

# Headings start at h2: the page's h1 is the campaign's title.
ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "h2", "h3", "h4", "h5",
     "h6", "code", "pre", "hr"}
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return markup_href(value) or None
    return value


_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


def _headings_from(html: str, top: int) -> str:
    """The text's headings as an outline under the page's own: its shallowest level becomes
    `top`, and none goes more than one level deeper than the one before it. A screen reader
    lists headings by level, and a writer's "## Why" straight under the title (an h3 after the
    h1, as Markdown's levels were shifted before) or a jump from "#" to "###" reads as a
    section missing."""
    used = sorted({int(level) for closing, level in _HEADING_TAG.findall(html) if not closing})
    rank = {level: min(top + index, 6) for index, level in enumerate(used)}
    previous = top - 1
    current = top

    def retag(match: re.Match[str]) -> str:
        nonlocal previous, current
        closing, level = match.groups()
        if not closing:
            current = min(rank[int(level)], previous + 1)
            previous = current
        return f"<{closing}h{current}>"

    return _HEADING_TAG.sub(retag, html)


def markdown_render(text: str, top: int = 2) -> SafeString:
    """`top` is the level the text's headings start at: 2 under a page's h1, 3 in a section."""
    html = markdown.markdown(text or "", extensions=["sane_lists"], output_format="html")
    html = _headings_from(html, top)
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_SCHEMES),
        attribute_filter=_attribute_filter,
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308 (sanitized just above)
