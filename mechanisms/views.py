"""The proof-of-work challenge, fetched by static/js/proof-of-work.js when someone starts filling
a form, so that the pages carrying the forms hold no per-visitor secret and stay cacheable."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from mechanisms.abuse import proof_of_work


@require_safe
@never_cache
def pow_challenge(request: HttpRequest) -> JsonResponse:
    return JsonResponse(proof_of_work.pow_challenge_create())
