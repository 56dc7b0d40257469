"""A petition's share card: its title and its count, for link previews (mechanisms.share_cards).

The page names the card by the count it shows (`/p/<slug>/card/<count>.png`), so its cached
copy names a new card as soon as the count moves; the card is drawn when a crawler first asks
for it, and then served from the cache."""

from __future__ import annotations

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from mechanisms.share_cards import ShareCard, share_card_moved, share_card_png, share_card_response
from petitions import selectors
from petitions.models import Petition


def _count_line(count: int) -> str:
    return ngettext("%(count)s signature", "%(count)s signatures", count) % {
        "count": intcomma(count)
    }


def _card_path(petition: Petition, count: int) -> str:
    return reverse("petitions:card", kwargs={"slug": petition.slug, "count": count})


def petition_share_card(*, petition: Petition) -> ShareCard:
    """The card as the page's <head> names it, with an absolute address (SITE_URL)."""
    count = petition.total_count
    return ShareCard(
        url=f"{settings.SITE_URL}{_card_path(petition, count)}",
        alt=f"{petition.title}: {_count_line(count)}",
    )


@require_safe
def petition_card(request: HttpRequest, slug: str, count: int) -> HttpResponse:
    petition = selectors.petition_get_public(slug=slug)
    current = petition.total_count
    if count != current:
        return share_card_moved(url=_card_path(petition, current))
    png = share_card_png(
        kind=f"petition-{request.LANGUAGE_CODE}",
        campaign_id=petition.pk,
        title=petition.title,
        count_line=_count_line(current),
    )
    return share_card_response(png=png)
