"""Every HTML email Cosign sends is accessible: a plain-text part beside it, the reader's language,
a title, one h1 and no skipped heading level, link texts that make sense out of context, images
with a text alternative, and buttons-as-links with enough contrast.

Every email goes through mechanisms.mail.message_render, so each template is rendered through it
here, in English and Italian, from a context like its builder's. The templates are enumerated from
the disk: an email added without a case here fails `test_every_email_template_is_covered`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace as NS
from typing import Any

import pytest
from django.conf import settings

from mechanisms.mail import message_render

TEMPLATES = Path(settings.BASE_DIR) / "templates"
LANGUAGES = ("en", "it")

# Link texts that say nothing once read alone, as a screen reader's list of links reads them.
MEANINGLESS = frozenset(
    {
        # English
        "click here",
        "click",
        "here",
        "this link",
        "link",
        "more",
        "read more",
        "this",
        "go",
        # Italian
        "clicca qui",
        "clicca",
        "qui",
        "questo link",
        "di più",
        "leggi di più",
        "altro",
        "vai",
    }
)
URL_ONLY = re.compile(r"^(https?://|www\.|mailto:)\S*$", re.IGNORECASE)
HEX = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})\b", re.IGNORECASE)
# WCAG 1.4.3 for normal text: a button's label is no larger than body text.
MINIMUM_CONTRAST = 4.5


def _luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _style_colours(style: str) -> tuple[str | None, str | None]:
    """The (text colour, background colour) an inline style sets, where it sets them in hex."""
    colour = background = None
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        found = HEX.search(value)
        if not found:
            continue
        name = name.strip().lower()
        if name == "color":
            colour = found.group(0)
        elif name in ("background", "background-color"):
            background = found.group(0)
    return colour, background


@dataclass
class _Link:
    href: str
    text: str = ""


@dataclass
class EmailHTML(HTMLParser):
    """What the checks need from one HTML email, read with the standard library's parser."""

    lang: str | None = None
    title: str = ""
    headings: list[tuple[int, str]] = field(default_factory=list)
    links: list[_Link] = field(default_factory=list)
    images_without_alt: list[str] = field(default_factory=list)
    low_contrast: list[str] = field(default_factory=list)
    bold_paragraphs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._open: list[str] = []
        self._heading: list[str] | None = None
        self._link: _Link | None = None
        self._in_title = False
        # A paragraph whose whole text is in <strong> or <b>: a heading drawn in bold.
        self._paragraph: list[tuple[bool, str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self._open.append(tag)
        if tag == "html":
            self.lang = attributes.get("lang")
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = []
        elif tag == "a":
            self._link = _Link(href=attributes.get("href", ""))
        elif tag == "img" and not attributes.get("alt", "").strip() and "alt" not in attributes:
            self.images_without_alt.append(attributes.get("src", ""))
        elif tag == "p":
            self._paragraph = []
        colour, background = _style_colours(attributes.get("style", ""))
        if colour and background and contrast(colour, background) < MINIMUM_CONTRAST:
            self.low_contrast.append(f"<{tag}> {colour} on {background}")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass
        if tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((int(tag[1]), " ".join("".join(self._heading).split())))
            self._heading = None
        elif tag == "a" and self._link is not None:
            self._link.text = " ".join(self._link.text.split())
            self.links.append(self._link)
            self._link = None
        elif tag == "p" and self._paragraph is not None:
            text = [(bold, chunk) for bold, chunk in self._paragraph if chunk.strip()]
            if text and all(bold for bold, _ in text):
                self.bold_paragraphs.append(" ".join("".join(c for _, c in text).split()))
            self._paragraph = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._heading is not None:
            self._heading.append(data)
        if self._link is not None:
            self._link.text += data
        if self._paragraph is not None:
            self._paragraph.append((bool({"strong", "b"} & set(self._open)), data))


def html_problems(html: str, *, language: str) -> list[str]:
    """Every way the HTML email fails the checks, one line each; [] when it passes."""
    page = EmailHTML()
    page.feed(html)
    page.close()
    problems = []
    if page.lang != language:
        problems.append(f"<html lang> is {page.lang!r}, not the reader's {language!r}")
    if not page.title.strip():
        problems.append("no <title>")
    levels = [level for level, _ in page.headings]
    if levels.count(1) != 1:
        problems.append(f"{levels.count(1)} h1 headings, not one")
    if levels and levels[0] != 1:
        problems.append(f"the first heading is h{levels[0]}, not the h1")
    for previous, level in pairwise(levels):
        if level > previous + 1:
            problems.append(f"heading level skipped: h{previous} then h{level}")
    problems.extend(f"empty heading h{level}" for level, text in page.headings if not text)
    for link in page.links:
        text = link.text.strip()
        if not text:
            problems.append(f"a link with no text: {link.href}")
        elif text.lower().strip(" .:!…»→") in MEANINGLESS:
            problems.append(f"a link whose text means nothing alone: {text!r}")
        elif URL_ONLY.match(text):
            problems.append(f"a link whose only text is its address: {text!r}")
    problems.extend(f"an image without alt: {src}" for src in page.images_without_alt)
    problems.extend(f"contrast under {MINIMUM_CONTRAST}:1: {c}" for c in page.low_contrast)
    problems.extend(f"a bold paragraph instead of a heading: {p!r}" for p in page.bold_paragraphs)
    return problems


def message_problems(message: Any, *, language: str) -> list[str]:
    """The checks on a whole message: a text part for mail programs that show no HTML, and
    its HTML part."""
    problems = []
    if message.content_subtype != "plain" or not message.body.strip():
        problems.append("no text/plain part")
    htmls = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    if len(htmls) != 1:
        return [*problems, f"{len(htmls)} HTML parts, not one"]
    return problems + html_problems(htmls[0], language=language)


# --- One context per email, like its builder's ------------------------------------------------

URL = "https://cosign.example/en/p/save-the-library/"
ORGANIZATION = NS(
    name="Friends of the Library",
    contact_name="Ada Byron",
    rejection_reason="We could not find the organization's website.",
)
PETITION = NS(
    title="Save the library",
    demand="Keep the Main Street library open on Saturdays.",
    summary="Our library is closing on Saturdays.",
)
LETTER = NS(title="Open the data", body="# Our demands\n\nPublish the budget as open data.")
TARGET = NS(title="Mayor of Springfield")
SIGNATURE = NS(name="Maria Rossi", organization=ORGANIZATION)
ACCESS = {"set_password_url": URL + "set/", "valid_days": 3}
LOGIN = {"login_url": URL + "login/"}

CASES: dict[str, dict[str, Any]] = {
    "accounts/email/admin_welcome": {"organization": ORGANIZATION, **ACCESS},
    "accounts/email/admin_welcome:login": {"organization": ORGANIZATION, **LOGIN},
    "accounts/email/contact_confirm": {"confirm_url": URL + "c/", "valid_days": 7},
    "accounts/email/invitation": {
        "organization_name": ORGANIZATION.name,
        "members_url": URL + "members/",
        **ACCESS,
    },
    "accounts/email/invitation:unverified": {
        "organization_name": "",
        "members_url": URL + "members/",
        **LOGIN,
    },
    "accounts/email/my_signatures": {"link": URL + "mine/", "valid_hours": 24},
    "accounts/email/password_link": ACCESS,
    "accounts/email/rejected": {"organization": ORGANIZATION},
    "accounts/email/verified": {"organization": ORGANIZATION, **LOGIN},
    "accounts/email/webhook_disabled": {
        "endpoint": NS(
            organization=ORGANIZATION,
            url="https://crm.example.org/hook",
            disabled_reason="It answered 500 for three days.",
        ),
        "webhooks_url": URL + "webhooks/",
    },
    "drafting/email/notice": {
        "notice": NS(
            subject="Returned for changes: Save the library",
            lines=["Our staff returned “Save the library” to you."],
            quote="Please add a target.",
            link_url=URL + "draft/",
            link_label="Change the draft",
        )
    },
    "letters/email/confirm": {"letter": LETTER, "confirm_url": URL + "confirm/"},
    "letters/email/cosignature_waiting": {
        "letter": LETTER,
        "organization_name": ORGANIZATION.name,
        "manage_url": URL + "manage/",
    },
    "letters/email/delivery": {
        "letter": LETTER,
        "target": TARGET,
        "update": None,
        "organizations": [NS(organization=ORGANIZATION)],
        "letter_url": URL,
    },
    "letters/email/delivery:update": {
        "letter": LETTER,
        "target": TARGET,
        "update": NS(
            published_at=datetime(2026, 12, 1, 12, 0, tzinfo=UTC), text="We met the mayor."
        ),
        "organizations": [NS(organization=ORGANIZATION)],
        "letter_url": URL,
    },
    "letters/email/published": {"letter": LETTER, "letter_url": URL, "press_url": URL + "press/"},
    "letters/email/rejected": {
        "letter": LETTER,
        "signature": SIGNATURE,
        "statement": "Our statement.",
        "reason": "Off topic.",
        "letter_url": URL,
    },
    "petitions/email/already_signed": {
        "petition": PETITION,
        "signature": SIGNATURE,
        "petition_url": URL,
    },
    "petitions/email/confirm": {
        "petition": PETITION,
        "signature": SIGNATURE,
        "confirm_url": URL + "confirm/",
        "valid_days": 7,
    },
    "petitions/email/delivery": {
        "petition": PETITION,
        "target": TARGET,
        "is_constituency": True,
        "total_count": 1200,
        "new_count": 200,
        "petition_url": URL,
    },
    "petitions/email/milestone": {
        "petition": PETITION,
        "milestone": NS(goal=1000),
        "next_goal": 5000,
        "petition_url": URL,
    },
    "petitions/email/threshold_answered": {
        "petition": PETITION,
        "target": TARGET,
        "threshold_request": NS(count=1000),
        "admin_url": URL + "admin/",
    },
    "petitions/email/threshold_request": {
        "petition": PETITION,
        "target": TARGET,
        "threshold_request": NS(count=1000, signatures_at_reach=1012),
        "due_date": date(2027, 1, 31),
        "link_until": date(2027, 3, 31),
        "answer_url": URL + "answer/",
        "petition_url": URL,
    },
    "petitions/email/update": {
        "petition": PETITION,
        "signature": SIGNATURE,
        # An author's "##" and "####" right under the email's h1: renumbered h2 and h3.
        "update": NS(
            title="The council listened",
            body="## What happens next\n\nA vote.\n\n#### On the day\n\nCome.",
        ),
        "petition_url": URL,
        "unsubscribe_url": URL + "stop/",
    },
}


def _template(case: str) -> str:
    return case.partition(":")[0]


def test_every_email_template_is_covered() -> None:
    """Each HTML email on disk (partials, named _*, are covered by the emails that include
    them) has a case here, so a new email cannot skip these checks."""
    on_disk = {
        str(path.relative_to(TEMPLATES).with_suffix(""))
        for path in TEMPLATES.glob("*/email/*.html")
        if not path.name.startswith("_")
    }
    assert on_disk, "no email templates found: the glob is wrong"
    assert on_disk == {_template(case) for case in CASES}


def test_every_email_is_built_by_message_render() -> None:
    """The checks below render through message_render; an email built anywhere else (a bare
    send_mail with no HTML part, say) would escape them."""
    root = Path(settings.BASE_DIR)
    builders = re.compile(
        r"\b(EmailMultiAlternatives|EmailMessage|send_mail|send_mass_mail|mail_admins|mail_managers)\("
    )
    found = [
        str(path.relative_to(root))
        for path in root.glob("*/**/*.py")
        if path.parts[len(root.parts)] not in {"tests", ".venv", "node_modules"}
        and builders.search(path.read_text())
    ]
    assert found == ["mechanisms/mail.py"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_email_is_accessible(case: str, language: str) -> None:
    message = message_render(
        to="reader@example.org", language=language, template=_template(case), context=CASES[case]
    )
    assert message_problems(message, language=language) == []


def test_the_italian_email_is_in_italian() -> None:
    """`lang="it"` must not dress English text: each email's h1 changes with the language (the
    subject is translated), except where it is a name typed by a person."""
    typed_headings = {"drafting/email/notice", "letters/email/delivery", "petitions/email/update"}
    for case, context in CASES.items():
        if _template(case) in typed_headings:
            continue
        headings = []
        for language in LANGUAGES:
            message = message_render(
                to="r@example.org", language=language, template=_template(case), context=context
            )
            page = EmailHTML()
            page.feed(message.alternatives[0][0])
            headings.append(page.headings[0][1])
        assert headings[0] != headings[1], f"{case}: the same h1 in English and Italian"


def test_the_contrast_is_computed_as_wcag_defines_it() -> None:
    assert round(contrast("#000", "#ffffff"), 1) == 21.0
    assert contrast("#ffffff", "#0a58ca") > 6  # the buttons' colours (templates/email/_button)
    assert contrast("#ffffff", "#6ea8fe") < MINIMUM_CONTRAST


BAD_EMAIL = """<!doctype html><html><head></head><body>
<p><strong>Confirm your signature</strong></p>
<h1>One</h1><h1>Two</h1><h4>Skipped</h4>
<p><a href="https://cosign.example/x">click here</a> or <a href="https://cosign.example/y">Qui</a></p>
<p><a href="https://cosign.example/z">https://cosign.example/z</a></p>
<p><a href="https://cosign.example/w"><img src="logo.png"></a></p>
<p><a href="https://cosign.example/v" style="color: #fff; background: #6ea8fe">Go on</a></p>
</body></html>"""


def test_the_checker_rejects_a_bad_email() -> None:
    problems = html_problems(BAD_EMAIL, language="it")
    expected = [
        "<html lang> is None",
        "no <title>",
        "2 h1 headings",
        "heading level skipped: h1 then h4",
        "means nothing alone: 'click here'",
        "means nothing alone: 'Qui'",
        "only text is its address",
        "a link with no text",
        "an image without alt",
        "contrast under 4.5:1",
        "a bold paragraph instead of a heading: 'Confirm your signature'",
    ]
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)


def test_the_checker_rejects_a_message_without_a_text_part() -> None:
    message = message_render(
        to="r@example.org",
        language="en",
        template="accounts/email/my_signatures",
        context=CASES["accounts/email/my_signatures"],
    )
    message.body = ""
    assert message_problems(message, language="en") == ["no text/plain part"]
    message.alternatives = []
    assert "0 HTML parts, not one" in message_problems(message, language="en")
