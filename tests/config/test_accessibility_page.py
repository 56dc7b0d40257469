"""The accessibility statement: the EU model's sections in both languages, its list of known
exceptions read from config.accessibility_statement, the contact from the settings, and a link
to it on every page."""

from __future__ import annotations

import html
import re

import pytest
from django.test import override_settings

from config.accessibility_statement import KNOWN_EXCEPTIONS

pytestmark = pytest.mark.django_db


def _text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_statement_has_the_eu_models_sections_in_english(client) -> None:
    page = client.get("/en/accessibility/").content.decode()
    assert '<html lang="en">' in page
    assert page.count("<h1") == 1
    text = _text(client, "/en/accessibility/")
    for heading in (
        "Conformance status",
        "Content that is not accessible",
        "How this statement was prepared",
        "Feedback and contact",
        "Enforcement procedure",
    ):
        assert f">{heading}</h2>" in page, heading
    assert "partially conformant with the Web Content Accessibility Guidelines (WCAG) 2.2" in text
    assert "prepared on Dec. 7, 2026" in text
    assert "axe-core 4.14.1" in text
    assert "We answer within 30 days." in text
    assert "the body that enforces the accessibility of websites in your country" in text


def test_every_known_exception_is_listed_with_its_reason_and_date(client) -> None:
    assert KNOWN_EXCEPTIONS, "an empty list would need the status to say fully conformant"
    page = client.get("/en/accessibility/").content.decode()
    for exception in KNOWN_EXCEPTIONS:
        entry = re.search(rf'<li id="exception-{exception.slug}"[^>]*>(.*?)</li>', page, re.S)
        assert entry, exception.slug
        body = " ".join(html.unescape(entry.group(1)).split())
        assert str(exception.what) in body
        assert str(exception.why) in body
        assert exception.fixed_by.year >= 2027
        assert f"To be fixed by {exception.fixed_by:%b}" in body


def test_the_statement_is_in_italian_with_the_italian_enforcement_body(client) -> None:
    page = client.get("/it/accessibility/").content.decode()
    assert '<html lang="it">' in page
    text = _text(client, "/it/accessibility/")
    assert "Dichiarazione di accessibilità" in text
    assert "parzialmente conforme" in text
    assert "Contenuti non accessibili" in text
    assert "Il foglio stampabile per le firme su carta" in text
    assert "AgID" in text
    assert "Rispondiamo entro 30 giorni." in text


@override_settings(ACCESSIBILITY_CONTACT_EMAIL="barriers@example.org")
def test_the_feedback_link_writes_to_the_configured_address(client) -> None:
    page = client.get("/en/accessibility/").content.decode()
    assert (
        '<a id="feedback-contact" href="mailto:barriers@example.org">'
        "Email us about accessibility: barriers@example.org</a>" in page
    )


def test_every_page_links_to_it_in_the_footer(client) -> None:
    for language in ("en", "it"):
        page = client.get(f"/{language}/").content.decode()
        footer = page[page.index("<footer") :]
        assert f'href="/{language}/accessibility/"' in footer
    assert ">Accessibilità</a>" in client.get("/it/").content.decode()


def test_no_line_of_the_statement_stays_in_english_on_the_italian_page(client) -> None:
    """Each paragraph and list item differs between the two languages (a msgid with a "%",
    which Django's template tag looks up as "%%", once stayed in English)."""

    def blocks(url: str) -> list[str]:
        page = client.get(url).content.decode()
        main = page[page.index("<main") : page.index("</main>")]
        found = re.findall(r"<(?:p|li|h1|h2)\b[^>]*>(.*?)</(?:p|li|h1|h2)>", main, re.S)
        return [" ".join(re.sub(r"<[^>]+>", " ", block).split()) for block in found]

    english, italian = blocks("/en/accessibility/"), blocks("/it/accessibility/")
    assert len(english) == len(italian) > 20
    untranslated = [en for en, it in zip(english, italian, strict=True) if en == it]
    assert untranslated == []
