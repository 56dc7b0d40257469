from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from mechanisms.markdown import markdown_render
from mechanisms.web_urls import web_url_or_blank

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return markdown_render(text)


@register.filter(name="web_href")
def web_href_filter(url: str) -> str:
    """A stored web address in normalized form, or "" if it is not safe to link to: a link is
    made only from this, whatever wrote the row."""
    return web_url_or_blank(url)


@register.filter(name="markdown_under")
def markdown_under_filter(text: str, level: int) -> SafeString:
    """Campaign text whose headings sit under a heading of `level`, with no level skipped: for
    an email, where the text follows the email's own h1 or h2."""
    return markdown_render(text, under=int(level))
