from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from config import accessibility_statement
from config.forms import CatalogFilters, CatalogForm
from letters.selectors import letter_catalog
from petitions import supporters
from petitions.models import Signature
from petitions.selectors import petition_catalog, topic_list
from petitions.services import deliveries

CATALOG_PAGE_SIZE = 24


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The catalog: campaigns by topic, with filters that all live in the query string, so any
    view of it can be linked to and works without JavaScript."""
    form = CatalogForm(
        request.GET if set(request.GET) & {"q", "topic", "status"} else None, topics=topic_list()
    )
    filters: CatalogFilters = {}
    status = 200
    if form.is_bound:
        if form.is_valid():
            filters = form.filters()
        else:
            status = 400  # the page says what was wrong, and lists everything meanwhile
    # get_page turns a page number that is not one, or is past the end, into a real page.
    page = Paginator(petition_catalog(**filters), CATALOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # Letters are few: all that match come with the first page of petitions.
    letters = letter_catalog(**filters) if page.number == 1 else []
    context = {
        "form": form,
        "page": page,
        "letters": letters,
        "filtered": any(filters.values()),
    }
    return render(request, "home.html", context, status=status)


# How often the IP hash key changes, and how long a span of kept keys is, per rotation setting.
_ROTATION_EVERY = {
    "day": _("every day at midnight UTC"),
    "week": _("every week, on Monday at midnight UTC"),
    "month": _("every month, on the 1st at midnight UTC"),
}
_ROTATION_SPAN = {
    "day": lambda n: ngettext("%(count)d day", "%(count)d days", n) % {"count": n},
    "week": lambda n: ngettext("%(count)d week", "%(count)d weeks", n) % {"count": n},
    "month": lambda n: ngettext("%(count)d month", "%(count)d months", n) % {"count": n},
}
# The example signer the page shows each "show my name as" choice with.
_EXAMPLE_NAME = "Maria Rossi"


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    """What we keep, why, for how long and who sees it: read from the settings and the code that
    acts on them, so the page cannot promise what the platform does not do."""
    rotation = settings.IP_HASH_KEY_ROTATION
    link_hours = int(settings.MY_SIGNATURES_LINK_MAX_AGE.total_seconds() // 3600)
    context = {
        "retention_days": settings.SIGNATURE_RETENTION_DAYS,
        "confirm_days": settings.SIGNATURE_CONFIRM_MAX_AGE.days,
        "unconfirmed_days": settings.UNCONFIRMED_RETENTION_DAYS,
        "link_hours": link_hours,
        "rotation_every": _ROTATION_EVERY[rotation],
        "keys_span": _ROTATION_SPAN[rotation](settings.IP_HASH_KEYS_KEPT),
        "delivery_columns": [str(column) for column in deliveries.DELIVERY_CSV_COLUMNS],
        "supporter_columns": [str(label) for _key, label in supporters.SUPPORTER_COLUMNS],
        "display_choices": [
            (label, Signature(name=_EXAMPLE_NAME, display=value).public_name)
            for value, label in Signature.Display.choices
        ],
        "example_name": _EXAMPLE_NAME,
        "my_signatures_url": reverse("accounts:my_signatures"),
        "staff_2fa": settings.STAFF_REQUIRE_2FA,
        "bounce_keep_days": settings.BOUNCE_KEEP_DAYS,
        "bounce_suppression_days": settings.BOUNCE_SUPPRESSION_DAYS,
    }
    return render(request, "privacy.html", context)


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    """The accessibility statement, on the EU model (Implementing Decision 2018/1523): how far the
    site meets WCAG 2.2 AA, what does not yet and by when, how it was checked, and whom to tell."""
    context = {
        "exceptions": accessibility_statement.KNOWN_EXCEPTIONS,
        "prepared_on": accessibility_statement.PREPARED_ON,
        "reviewed_on": accessibility_statement.REVIEWED_ON,
        "contact_email": settings.ACCESSIBILITY_CONTACT_EMAIL,
        "response_days": accessibility_statement.RESPONSE_DAYS,
    }
    return render(request, "accessibility.html", context)
