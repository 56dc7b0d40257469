"""Share cards: the picture a social network shows beside a link to a campaign (Open Graph's
og:image), drawn on the server with Pillow: the campaign's title and its current count.

A card is drawn lazily, by the view a crawler fetches, never while a page renders; it is kept
in the cache under a key made of everything drawn on it, so a card is drawn once per title,
count and language. Pages link to a card by an address holding the count: when the count
moves, the page (and its cached copy) names a new card, and crawlers fetch that one.

The font is DejaVu Sans, bundled in mechanisms/fonts (Bitstream Vera licence, see the LICENSE
there): no font is fetched from anywhere, and titles in any of our languages draw.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import cache as memoize
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.cache import patch_cache_control
from PIL import Image, ImageDraw, ImageFont

WIDTH = 1200
HEIGHT = 630
MARGIN = 72
FONTS = Path(__file__).resolve().parent / "fonts"
BACKGROUND = (27, 38, 59)
ACCENT = (255, 196, 61)
TEXT = (255, 255, 255)
MUTED = (190, 200, 215)
# Title sizes tried largest first, until the title fits in its lines.
TITLE_SIZES = (68, 58, 50, 44)
TITLE_LINES = 4


@memoize
def _font(*, bold: bool, size: int) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONTS / name), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        # A word longer than the line (a URL, a long German compound) is cut, not overflowed.
        while font.getlength(word) > width and len(word) > 1:
            cut = len(word)
            while cut > 1 and font.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _title_lines(title: str, width: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    for size in TITLE_SIZES:
        font = _font(bold=True, size=size)
        lines = _wrap(title, font, width)
        if len(lines) <= TITLE_LINES:
            return font, lines
    lines = lines[:TITLE_LINES]
    last = lines[-1]
    while last and font.getlength(f"{last}…") > width:
        last = last[:-1]
    lines[-1] = f"{last.rstrip()}…"
    return font, lines


def card_draw(*, title: str, count_line: str, site: str) -> bytes:
    """A 1200 x 630 PNG: the title, the count in the accent colour, the site's name."""
    card = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, 16, HEIGHT), fill=ACCENT)
    text_width = WIDTH - 2 * MARGIN
    font, lines = _title_lines(" ".join(title.split()), text_width)
    y = MARGIN
    line_height = round(font.size * 1.22)
    for line in lines:
        draw.text((MARGIN, y), line, font=font, fill=TEXT)
        y += line_height
    count_font = _font(bold=True, size=54)
    draw.text((MARGIN, HEIGHT - MARGIN - 54 - 56), count_line, font=count_font, fill=ACCENT)
    site_font = _font(bold=False, size=30)
    draw.text((MARGIN, HEIGHT - MARGIN - 30), site, font=site_font, fill=MUTED)
    out = io.BytesIO()
    card.save(out, format="PNG")
    return out.getvalue()


def share_card_png(*, kind: str, campaign_id: int, title: str, count_line: str) -> bytes:
    """The card, from the cache when this exact one was drawn before."""
    site = settings.SITE_URL.split("://", 1)[-1]
    drawn = hashlib.sha256("\x00".join((title, count_line, site)).encode()).hexdigest()[:24]
    key = f"share-card:{kind}:{campaign_id}:{drawn}"
    png = cache.get(key)
    if isinstance(png, bytes):
        return png
    png = card_draw(title=title, count_line=count_line, site=site)
    cache.set(key, png, timeout=settings.SHARE_CARD_CACHE_SECONDS)
    return png


@dataclass(frozen=True)
class ShareCard:
    """What a page's <head> says of its card (og:image and its size and description)."""

    url: str
    alt: str
    width: int = WIDTH
    height: int = HEIGHT


def share_card_response(*, png: bytes) -> HttpResponse:
    response = HttpResponse(png, content_type="image/png")
    patch_cache_control(response, public=True, max_age=settings.SHARE_CARD_CACHE_SECONDS)
    return response


def share_card_moved(*, url: str) -> HttpResponse:
    """The count moved since the page named its card: the current card, briefly cached."""
    response = HttpResponseRedirect(url)
    patch_cache_control(response, public=True, max_age=60)
    return response
