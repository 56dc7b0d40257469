from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from config.forms import CatalogForm
from letters.selectors import letter_catalog
from petitions.selectors import petition_catalog, topic_list

CATALOG_PAGE_SIZE = 24


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The catalog: campaigns by topic, with filters that all live in the query string, so any
    view of it can be linked to and works without JavaScript."""
    form = CatalogForm(
        request.GET if set(request.GET) & {"q", "topic", "status"} else None, topics=topic_list()
    )
    filters: dict[str, object] = {}
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


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the process is up and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
