"""An open letter's share card: its title and how many organizations signed it, for link
previews (mechanisms.share_cards). Named by the count, like a petition's."""

from __future__ import annotations

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from letters import selectors
from letters.models import OpenLetter
from mechanisms.share_cards import ShareCard, share_card_moved, share_card_png, share_card_response


def _count_line(count: int) -> str:
    return ngettext("%(count)s organization signed", "%(count)s organizations signed", count) % {
        "count": intcomma(count)
    }


def _card_path(letter: OpenLetter, count: int) -> str:
    return reverse("letters:card", kwargs={"slug": letter.slug, "count": count})


def letter_share_card(*, letter: OpenLetter, count: int) -> ShareCard:
    """The card as the page's <head> names it; `count` is the organizations the page lists."""
    return ShareCard(
        url=f"{settings.SITE_URL}{_card_path(letter, count)}",
        alt=f"{letter.title}: {_count_line(count)}",
    )


@require_safe
def letter_card(request: HttpRequest, slug: str, count: int) -> HttpResponse:
    letter = selectors.letter_get_public(slug=slug)
    current = len(selectors.letter_organizations_public(letter=letter))
    if count != current:
        return share_card_moved(url=_card_path(letter, current))
    png = share_card_png(
        kind=f"letter-{request.LANGUAGE_CODE}",
        campaign_id=letter.pk,
        title=letter.title,
        count_line=_count_line(current),
    )
    return share_card_response(png=png)
