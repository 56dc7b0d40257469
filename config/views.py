from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from petitions.selectors import petition_list_public


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"petitions": petition_list_public()})


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the process is up and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
