"""Reads for petitions."""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404
from modeltranslation.utils import build_localized_fieldname

from mechanisms.tokens import TokenExpired, TokenInvalid, token_read
from petitions.emails import CONFIRM_TOKEN_PURPOSE, UNSUBSCRIBE_TOKEN_PURPOSE
from petitions.models import Delivery, Petition, PetitionUpdate, Response, Signature, Topic

CATALOG_STATUSES = (Petition.Status.OPEN, Petition.Status.CLOSED)


def petition_catalog(
    *, words: str = "", topic: Topic | None = None, status: str = ""
) -> QuerySet[Petition]:
    """The campaigns the catalog lists, by topic, open ones first within each; drafts and
    archived campaigns never. `words` must each appear in the title, summary or demand, in
    any language (a visitor may search in English while reading the Italian site)."""
    petitions = Petition.objects.filter(status__in=CATALOG_STATUSES)
    if topic is not None:
        petitions = petitions.filter(topic=topic)
    if status:
        petitions = petitions.filter(status=status)
    for word in words.split():
        petitions = petitions.filter(_any_language_contains(word))
    return (
        petitions.select_related("topic")
        .prefetch_related("sponsors")
        .annotate(
            closed=Case(
                When(status=Petition.Status.CLOSED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        # Campaigns without a topic sort last, as "other".
        .order_by(
            F("topic__position").asc(nulls_last=True),
            "topic__slug",
            "closed",
            "-signature_count",
            "-created_at",
        )
    )


def _any_language_contains(word: str) -> Q:
    query = Q()
    for field in ("title", "summary", "demand"):
        for language, _name in settings.LANGUAGES:
            query |= Q(**{f"{build_localized_fieldname(field, language)}__icontains": word})
    return query


def topic_list() -> list[Topic]:
    return list(Topic.objects.all())


def petition_get_public(*, slug: str, preview: bool = False) -> Petition:
    """A petition the public may see: anything but a draft, which is a 404 unless `preview`
    (staff checking a campaign before it opens)."""
    # No prefetch of sponsors: the sign POST (the hot path) never shows them, and the page
    # that does reads them with one query anyway.
    petition = get_object_or_404(
        Petition.objects.select_related("topic", "question_set"), slug=slug
    )
    if petition.status == Petition.Status.DRAFT and not preview:
        raise Http404
    return petition


# This worker's recently read petitions, for the sign POST: (time bucket, petition) by slug.
_for_signing: dict[str, tuple[int, Petition]] = {}


def petition_get_for_signing(*, slug: str) -> Petition:
    """petition_get_public() for the sign POST, read at most once per PETITION_PAGE_CACHE_SECONDS
    bucket by each worker: a viral petition's signers would otherwise read the same row
    hundreds of times a second (the largest single cost of a signature in the bench profile).

    A petition closed or edited is seen here within that time, as on its cached public page. The
    object is shared by this worker's requests, which only read it.
    """
    seconds = settings.PETITION_PAGE_CACHE_SECONDS
    if seconds <= 0:
        return petition_get_public(slug=slug)
    bucket = int(_clock() // seconds)
    found = _for_signing.get(slug)
    if found is not None and found[0] == bucket:
        return found[1]
    petition = petition_get_public(slug=slug)
    if len(_for_signing) >= 1000:
        _for_signing.clear()  # a bound, not an eviction policy: petitions are read again at once
    _for_signing[slug] = (bucket, petition)
    return petition


def _clock() -> float:
    return time.time()


def petition_updates_published(*, petition: Petition) -> list[PetitionUpdate]:
    """Published updates, newest first; a target's response shows in its own section instead."""
    return list(
        petition.updates.filter(
            published_at__isnull=False, unpublished_at__isnull=True, response__isnull=True
        ).order_by("-published_at")
    )


def deliveries_sent(*, petition: Petition, limit: int = 20) -> list[Delivery]:
    """What each target was sent, newest first: "Delivered to the Mayor of Oakland on 12 March:
    412 signatures"."""
    return list(
        Delivery.objects.filter(petition=petition, status=Delivery.Status.SENT)
        .select_related("target")
        .order_by("-sent_at")[:limit]
    )


def responses_published(*, petition: Petition) -> list[Response]:
    """Targets' responses that staff published (each through an update), newest first."""
    return list(
        Response.objects.filter(petition=petition, update__published_at__isnull=False)
        .select_related("target", "update")
        .order_by("-received_at", "-update__published_at")
    )


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
        Signature.objects.filter(petition=petition, status=Signature.Status.CONFIRMED, held=False)
        .only("name", "display", "confirmed_at", "country")
        .order_by("-confirmed_at")[:limit]
    )


def signature_from_unsubscribe_token(*, petition: Petition, token: str) -> Signature:
    """The signature an unsubscribe link stands for; these links never expire (RFC 8058 asks
    that they keep working), and raise TokenInvalid when tampered with or for another petition."""
    signature_id = token_read(purpose=UNSUBSCRIBE_TOKEN_PURPOSE, token=token, max_age=None)
    return _signature_for(petition=petition, signature_id=signature_id)
