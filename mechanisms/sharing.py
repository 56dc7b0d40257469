"""Share links built from plain URLs: the visitor's click goes to the service, and no script,
button or pixel of theirs ever loads on our pages. And the code that puts a petition's widget on
a campaigner's own page."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.utils.html import escape
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class ShareLink:
    name: str
    url: str


def share_links(*, title: str, url: str) -> list[ShareLink]:
    text = f"{title} {url}"
    return [
        ShareLink(
            _("Email"), f"mailto:?{urlencode({'subject': title, 'body': text}, quote_via=quote)}"
        ),
        ShareLink("Bluesky", f"https://bsky.app/intent/compose?{urlencode({'text': text})}"),
        ShareLink("X", f"https://x.com/intent/post?{urlencode({'text': title, 'url': url})}"),
        ShareLink(
            "Facebook", f"https://www.facebook.com/sharer/sharer.php?{urlencode({'u': url})}"
        ),
        ShareLink("WhatsApp", f"https://wa.me/?{urlencode({'text': text})}"),
        ShareLink("Telegram", f"https://t.me/share/url?{urlencode({'url': url, 'text': title})}"),
    ]


def embed_code(*, widget_url: str, title: str) -> str:
    """The HTML a campaigner copies into their page, as text.

    Each value is escaped here once, for the attribute it lands in; the page that shows the code
    escapes the whole of it once more, as the text of a textarea, so its HTML source rightly
    holds `&amp;amp;` where the copied code holds `&amp;`. The result is a plain `str`, not
    marked safe, so that the template's autoescaping adds that second layer.
    """
    return (
        f'<iframe src="{escape(widget_url)}" title="{escape(title)}" '
        'width="100%" height="220" loading="lazy"></iframe>'
    )
