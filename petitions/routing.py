"""Which signatures each target receives: its own constituents.

A local target gets the confirmed signatures from its locality, a state target those from its
region, a national target those from its country, a company or international target all of
them. Places compare ignoring case. A signature whose postal code was not found has no region
or locality, so it reaches national, company and international targets only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from petitions.models import PaperSignature, Petition, Signature, Target

# Where a target's deliveries go and whose signatures they carry (its level and place decide
# who are its constituents); a change to any of them is audited (mechanisms.audit).
TARGET_AUDITED_FIELDS = ("email", "level", "country", "region", "locality", "active")
# A postal code's place decides which local and state targets its signers reach.
POSTAL_AREA_AUDITED_FIELDS = ("country", "postal_code", "region", "locality")


# What routing needs to know of a target's place, by level (the model's check constraints).
def target_place_needs(level: str) -> list[tuple[str, str]]:
    needs: dict[str, list[tuple[str, str]]] = {
        Target.Level.LOCAL: [
            ("country", _("a local target needs a country")),
            ("region", _("a local target needs a region")),
            ("locality", _("a local target needs a locality")),
        ],
        Target.Level.STATE: [
            ("country", _("a state target needs a country")),
            ("region", _("a state target needs a region")),
        ],
        Target.Level.NATIONAL: [("country", _("a national target needs a country"))],
    }
    return needs.get(level, [])


def constituents(*, petition_id: int, target: Target) -> QuerySet[Signature]:
    """The confirmed signatures of a petition that this target receives."""
    signatures = Signature.objects.filter(
        petition_id=petition_id, status=Signature.Status.CONFIRMED, held=False
    )
    return signatures.filter(_constituency(target))


def paper_constituents(*, petition_id: int, target: Target) -> QuerySet[PaperSignature]:
    """The counted paper signatures of a petition that this target receives: placed by postal
    code like online ones, less those of people counted elsewhere (online or on an earlier
    sheet). Only batches the counter has brought in (`tallied`), as for the paper count, so a
    target's count moves with it and not at the moment an editor finishes a batch."""
    return PaperSignature.objects.filter(
        petition_id=petition_id, batch__tallied=True, duplicate=False
    ).filter(_constituency(target))


def _constituency(target: Target) -> Q:
    if target.level == Target.Level.LOCAL:
        return Q(
            country=target.country,
            region__iexact=target.region,
            locality__iexact=target.locality,
        )
    if target.level == Target.Level.STATE:
        return Q(country=target.country, region__iexact=target.region)
    if target.level == Target.Level.NATIONAL:
        return Q(country=target.country)
    return Q()


@dataclass(frozen=True)
class TargetCount:
    target: Target
    count: int


# The petition page shows these counts: a grouped scan of a large petition's signatures is
# worth doing once per change of the public count (the key holds it), and at most every half
# minute while the count stands still.
TARGET_COUNTS_TTL_SECONDS = 30


def target_counts(*, petition: Petition, targets: list[Target]) -> list[TargetCount]:
    """Every target's number of constituents, from one grouped query however many targets a
    petition has (a petition to local officials may address hundreds), largest first; at most
    TARGET_COUNTS_TTL_SECONDS old. Like the public count, they include the signatures the
    batched counter has added, so the parts never add up to more than the whole."""
    if not targets:
        return []
    key = f"petitions:target-counts:{petition.pk}:{petition.signature_count}:{petition.paper_count}"
    counts = cache.get(key)
    if counts is None:
        counts = _target_counts(petition=petition, targets=targets)
        cache.set(key, counts, TARGET_COUNTS_TTL_SECONDS)
    rows = [TargetCount(target=t, count=counts.get(t.pk, 0)) for t in targets]
    return sorted(rows, key=lambda row: (-row.count, row.target.title))


def _target_counts(*, petition: Petition, targets: list[Target]) -> dict[int, int]:
    # Grouped by the places as stored, and compared casefolded in Python on both sides: the
    # database's LOWER and Python's lower() disagree on letters like İ and ß.
    # Online and paper signatures in one round trip (UNION ALL): a place may appear twice.
    places = (
        Signature.objects.filter(petition=petition, status=Signature.Status.CONFIRMED, counted=True)
        .values("country", "region", "locality")
        .annotate(n=Count("pk"))
        .order_by()
        .union(
            PaperSignature.objects.filter(petition=petition, batch__tallied=True, duplicate=False)
            .values("country", "region", "locality")
            .annotate(n=Count("pk"))
            .order_by(),
            all=True,
        )
    )
    by_locality: Counter[tuple[str, str, str]] = Counter()
    by_region: Counter[tuple[str, str]] = Counter()
    by_country: Counter[str] = Counter()
    total = 0
    for place in places:
        country = str(place["country"] or "")
        region, locality = place["region"].casefold(), place["locality"].casefold()
        by_locality[(country, region, locality)] += place["n"]
        by_region[(country, region)] += place["n"]
        by_country[country] += place["n"]
        total += place["n"]

    def count(target: Target) -> int:
        country = target.country.code or ""
        if target.level == Target.Level.LOCAL:
            return by_locality[(country, target.region.casefold(), target.locality.casefold())]
        if target.level == Target.Level.STATE:
            return by_region[(country, target.region.casefold())]
        if target.level == Target.Level.NATIONAL:
            return by_country[country]
        return total

    return {target.pk: count(target) for target in targets}


def area_count(*, signature: Signature) -> int | None:
    """How many confirmed signatures come from the signer's own locality; None when their
    postal code gave no place."""
    if not signature.locality:
        return None
    return Signature.objects.filter(
        petition_id=signature.petition_id,
        status=Signature.Status.CONFIRMED,
        held=False,
        country=signature.country,
        region__iexact=signature.region,
        locality__iexact=signature.locality,
    ).count()
