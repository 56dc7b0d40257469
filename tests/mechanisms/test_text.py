from __future__ import annotations

import re

import pytest

from mechanisms.markdown import markdown_render
from tests.factories import PetitionFactory


def test_markdown_renders_emphasis_and_lists() -> None:
    html = markdown_render("*Now* and **always**\n\n- one\n- two\n\n1. first\n2. second")
    assert "<p><em>Now</em> and <strong>always</strong></p>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in html


def test_markdown_of_nothing_is_empty() -> None:
    assert markdown_render("") == ""


def test_script_is_removed_with_its_content() -> None:
    html = markdown_render("Before\n\n<script>alert(1)</script>\n\nAfter")
    assert "<script" not in html
    assert "alert(1)" not in html
    assert "<p>Before</p>" in html
    assert "<p>After</p>" in html


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
    ],
)
def test_javascript_links_lose_their_href(text: str) -> None:
    html = markdown_render(text)
    assert "javascript:" not in html.lower()
    assert ">x</a>" in html


def test_image_with_an_event_handler_is_removed() -> None:
    html = markdown_render("See <img src=x onerror=alert(1)> here")
    assert "<img" not in html
    assert "onerror" not in html
    assert "alert(1)" not in html
    assert "See" in html


def test_raw_link_keeps_its_href_but_not_its_event_handler() -> None:
    html = markdown_render('<a href="https://x.org" onclick="y()">x</a>')
    assert 'href="https://x.org/"' in html  # the address as a browser reads it
    assert "onclick" not in html
    assert "y()" not in html


def test_links_get_nofollow_noopener_noreferrer() -> None:
    html = markdown_render("[EFF](https://www.eff.org/) and <mailto:press@example.org>")
    assert '<a href="https://www.eff.org/" rel="nofollow noopener noreferrer">EFF</a>' in html
    assert html.count('rel="nofollow noopener noreferrer"') == 2
    # A rel typed by hand cannot take the place of ours.
    html = markdown_render('<a href="https://x.org" rel="opener">x</a>')
    assert 'rel="nofollow noopener noreferrer"' in html
    assert 'rel="opener"' not in html


def test_headings_start_at_h2_because_the_page_h1_is_the_title() -> None:
    html = markdown_render("# Heading\n\n## Section\n\n### Detail")
    assert "<h1" not in html
    assert "<h2>Heading</h2>" in html
    assert "<h3>Section</h3>" in html
    assert "<h4>Detail</h4>" in html


def test_deeper_headings_stay_headings() -> None:
    html = markdown_render("#### Deadline\n\nThe vote is on Monday.")
    assert html.startswith("<h")
    assert "Deadline</h" in html


def test_style_attributes_are_removed() -> None:
    html = markdown_render('<p style="color:red">Hi</p>\n\nand <span style="x">there</span>')
    assert "style" not in html
    assert "<p>Hi</p>" in html
    assert "there" in html


def test_disallowed_tags_keep_their_text() -> None:
    html = markdown_render('<iframe src="https://x.org"></iframe><div class="x">Kept</div>')
    assert "<iframe" not in html
    assert "<div" not in html
    assert "class=" not in html
    assert "Kept" in html


@pytest.mark.django_db
def test_petition_page_shows_markdown_body_without_its_script(client) -> None:
    petition = PetitionFactory(body="<script>alert(1)</script>\n\n**Bold**")
    response = client.get(petition.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>Bold</strong>" in html
    assert "<script>alert" not in html
    assert "alert(1)" not in html


@pytest.mark.parametrize(
    "text",
    [
        "[EFF](https://evil.example\\@eff.org)",
        "<https://evil.example\\@eff.org>",
        '<a href="https://evil.example&#92;@eff.org">EFF</a>',
        "[EFF](https://press@evil.example)",
        "[EFF](https:/evil.example)",
        "[EFF](/\\evil.example)",
        "[EFF](//evil.example)",
        '<a href="https://ev&#9;il.example">EFF</a>',
    ],
)
def test_a_link_a_browser_would_follow_elsewhere_loses_its_href(text: str) -> None:
    html = markdown_render(text)
    assert "href" not in html
    assert "<a " in html  # the words stay; only the link goes


def test_links_are_rendered_as_a_browser_reads_them() -> None:
    html = markdown_render("[EFF](HTTPS://WWW.EFF.ORG), [sign](#sign) and [more](/p/ring/)")
    assert 'href="https://www.eff.org/"' in html
    assert 'href="#sign"' in html
    assert 'href="/p/ring/"' in html


def test_headings_under_an_emails_heading_skip_no_level() -> None:
    """In an email the campaign text follows the email's h1 (or an h2): its headings start one
    level below and leave no gap, whatever levels the author used, in whatever order."""
    html = markdown_render("#### Later\n\ntext\n\n## First\n\n###### Deep", under=1)
    assert re.findall(r"<h(\d)>", html) == ["2", "2", "3"]
    html = markdown_render("# Title\n\n### Section", under=2)
    assert re.findall(r"<h(\d)>", html) == ["3", "4"]
    # Pages keep the plain shift by one level.
    assert "<h3>Section</h3>" in markdown_render("## Section")
