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


def _headings_under(html: str, level: int) -> str:
    """Renumber the text's headings to sit under a heading of `level`: its highest becomes
    level + 1 and the next ones follow without a gap, as a screen reader's outline needs
    (an author's "##" right under the email's h1 would otherwise skip a level)."""
    used = sorted({int(found.group(2)) for found in _HEADING_TAG.finditer(html)})
    ranked = {old: min(level + 1 + rank, 6) for rank, old in enumerate(used)}
    # In the text's order too: a "##" before the first "#" may go no deeper than one level
    # below the heading before it. Headings do not nest, so each closes at its opening level.
    current = level

    def renumber(tag: re.Match[str]) -> str:
        nonlocal current
        if not tag.group(1):
            current = min(ranked[int(tag.group(2))], current + 1)
        return f"<{tag.group(1)}h{current}>"

    return _HEADING_TAG.sub(renumber, html)


def markdown_render(text: str, *, under: int | None = None) -> SafeString:
    """`under`: the level of the heading the text sits under, where the text is the whole of
    what follows it (an email); by default headings only move down one level."""
    html = markdown.markdown(text or "", extensions=["sane_lists"], output_format="html")
    if under is not None:
        html = _headings_under(html, under)
    else:
        # Markdown would make "# Heading" an h1; shift every heading down one level (h6 stays).
        for level in (5, 4, 3, 2, 1):
            html = html.replace(f"<h{level}>", f"<h{level + 1}>").replace(
                f"</h{level}>", f"</h{level + 1}>"
            )
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_SCHEMES),
        attribute_filter=_attribute_filter,
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308 (sanitized just above)
