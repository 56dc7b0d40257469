"""Reads for petitions."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.tokens import TokenExpired, TokenInvalid, token_read
from petitions.emails import CONFIRM_TOKEN_PURPOSE
from petitions.models import Petition, Signature


def petition_list_public() -> QuerySet[Petition]:
    return (
        Petition.objects.exclude(status=Petition.Status.DRAFT)
        .select_related("topic")
        .prefetch_related("sponsors")
        # Open campaigns first, then the closed ones with their outcome.
        .annotate(
            closed=Case(
                When(status=Petition.Status.CLOSED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("closed", "-signature_count", "-created_at")
    )


def petition_get_public(*, slug: str) -> Petition:
    """A petition the public may see: anything but a draft, which is a 404 for everyone (a staff
    preview belongs to authoring in the admin)."""
    # No prefetch of sponsors: the sign POST (the hot path) never shows them, and the page
    # that does reads them with one query anyway.
    petition = get_object_or_404(Petition.objects.select_related("topic"), slug=slug)
    if petition.status == Petition.Status.DRAFT:
        raise Http404
    return petition


def signature_from_token(*, petition: Petition, token: str) -> Signature:
    """The signature a confirmation link stands for.

    Raises TokenInvalid for a tampered link or one for another petition, and TokenExpired (carrying
    the signature) for a genuine but expired one, so the page can offer a new link.
    """
    try:
        signature_id = token_read(
            purpose=CONFIRM_TOKEN_PURPOSE, token=token, max_age=settings.SIGNATURE_CONFIRM_MAX_AGE
        )
    except TokenExpired as expired:
        signature = _signature_for(petition=petition, signature_id=expired.value)
        raise TokenExpired(signature) from None
    return _signature_for(petition=petition, signature_id=signature_id)


def _signature_for(*, petition: Petition, signature_id: object) -> Signature:
    if not isinstance(signature_id, int):
        raise TokenInvalid
    signature = (
        Signature.objects.select_related("petition")
        .filter(pk=signature_id, petition=petition)
        .first()
    )
    if signature is None:
        raise TokenInvalid
    return signature


def signatures_recent_public(*, petition: Petition, limit: int = 10) -> list[Signature]:
    return list(
        Signature.objects.filter(petition=petition, status=Signature.Status.CONFIRMED)
        .only("name", "display", "confirmed_at", "country")
        .order_by("-confirmed_at")[:limit]
    )
