from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from mechanisms.markdown import markdown_render
from mechanisms.web_urls import web_url_or_blank

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str, top: int = 2) -> SafeString:
    """`{{ text|markdown:3 }}` in a section whose own heading is an h2."""
    return markdown_render(text, top=int(top))


@register.filter(name="web_href")
def web_href_filter(url: str) -> str:
    """A stored web address in normalized form, or "" if it is not safe to link to: a link is
    made only from this, whatever wrote the row."""
    return web_url_or_blank(url)

