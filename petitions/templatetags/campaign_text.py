from __future__ import annotations

from django import template
from django.conf import settings
from django.db.models import Model
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from modeltranslation.utils import build_localized_fieldname, resolution_order

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


@register.filter(name="lang_of")
def lang_of_filter(instance: Model, field: str) -> SafeString:
    """` lang="it"` when the page shows `field` of a campaign's text in another language than its
    own: a campaign not yet translated falls back to the language it has (settings'
    MODELTRANSLATION_FALLBACK_LANGUAGES), and a screen reader must read that passage in its own
    language's voice (WCAG 3.1.2). Empty when the text is in the page's language."""
    page_language = get_language() or settings.LANGUAGE_CODE
    if not hasattr(instance, build_localized_fieldname(field, page_language)):
        return SafeString("")
    for language in resolution_order(page_language):
        if getattr(instance, build_localized_fieldname(field, language), ""):
            if language == page_language:
                break
            return format_html(' lang="{}"', language)
    return SafeString("")


@register.filter(name="with_lang_of")
def with_lang_of_filter(instance: Model, field: str) -> SafeString:
    """`field` of a campaign's text, escaped, in a span that says its language when it is not
    the page's: for a passage inside a translated sentence ("To: {{ target }}")."""
    language = lang_of_filter(instance, field)
    text = getattr(instance, field)
    return format_html("<span{}>{}</span>", language, text) if language else format_html("{}", text)
