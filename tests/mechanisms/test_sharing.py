"""The share links and the widget's embed code, built from plain values."""

from __future__ import annotations

from html.parser import HTMLParser

from mechanisms.sharing import embed_code

TITLE = 'Tom & Jerry\'s "<b>cats</b>"'


def _iframe_attributes(html: str) -> dict[str, str | None]:
    found: dict[str, str | None] = {}

    class Reader(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            assert tag == "iframe"
            found.update(attrs)

    Reader().feed(html)
    return found


def test_embed_code_escapes_each_value_once_for_its_attribute() -> None:
    widget = 'https://cosign.example.org/en/p/x/embed/?theme=dark&lang="it"'
    code = embed_code(widget_url=widget, title=TITLE)
    assert code == (
        '<iframe src="https://cosign.example.org/en/p/x/embed/?theme=dark&amp;lang=&quot;it&quot;"'
        ' title="Tom &amp; Jerry&#x27;s &quot;&lt;b&gt;cats&lt;/b&gt;&quot;"'
        ' width="100%" height="220" loading="lazy"></iframe>'
    )
    # Pasted into a page, it reads back as the values themselves.
    attributes = _iframe_attributes(code)
    assert (attributes["src"], attributes["title"]) == (widget, TITLE)


def test_embed_code_is_text_for_the_page_to_escape_again() -> None:
    # Marked safe, the textarea showing it would hold markup instead of code to copy.
    assert not hasattr(embed_code(widget_url="https://x.example/", title=TITLE), "__html__")
