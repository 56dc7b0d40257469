"""The yardstick: a bare Django view that inserts the same signature row as signing and nothing
else (no form, no CSRF, no abuse checks, no email). Served by the same gunicorn, settings and
middleware as the real site, so the ratio of the two isolates what the sign flow costs on top of
one INSERT."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from petitions.models import Petition, Signature

BASELINE_SLUG = "bench-baseline"

# Looked up once per process: the real path reads the petition on every POST, but the baseline
# is meant to be nothing but the INSERT.
_petition_id: int | None = None


@csrf_exempt
@require_POST
def baseline_insert(request: HttpRequest) -> HttpResponse:
    global _petition_id
    if _petition_id is None:
        _petition_id = Petition.objects.only("pk").get(slug=BASELINE_SLUG).pk
    email = request.POST.get("email", "")
    Signature.objects.create(
        petition_id=_petition_id,
        name=request.POST.get("name", ""),
        email=email,
        canonical_email=email.lower(),
        display=Signature.Display.SHORT,
        language="en",
        created_at=timezone.now(),
    )
    return HttpResponse(status=204)
