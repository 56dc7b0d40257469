"""Reads for an organization's supporters: the signers who ticked that it may contact them, as its
data stewards list and download them (issue 18, item 4).

Only people who can still be asked: a confirmed signature that no moderator holds or removed and
whose data retention has not removed. A withdrawn signature is deleted with its opt-ins, so it
is gone from here too. Nobody who did not tick this organization is ever in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from mechanisms.spreadsheet import csv_lines
from petitions.exports import EXPORT_CHUNK_SIZE
from petitions.models import Petition, Signature, SponsorOptIn

# What an organization receives of each supporter, in the file's order. The privacy page lists
# these labels, so what it says is what the code sends.
SUPPORTER_COLUMNS = (
    ("name", _("Name")),
    ("email", _("Email")),
    ("postal_code", _("Postal code")),
    ("country", _("Country")),
    ("campaign", _("Campaign")),
    ("source", _("Came through the link of")),
    ("consented_at", _("Consent given at")),
    ("wording", _("Consent wording")),
)


def supporters_of(
    *,
    organization: Organization,
    petition: Petition | None = None,
    since: date | None = None,
    until: date | None = None,
    as_of: datetime | None = None,
) -> QuerySet[SponsorOptIn]:
    """The organization's supporters, oldest consent first; `since` and `until` are whole days
    of the consent, in the site's time zone (compared as dates, so any date the form takes is
    safe). `as_of` leaves out anyone who consented or confirmed later: a download streams exactly
    the people its record counted, however many sign meanwhile."""
    rows = SponsorOptIn.objects.filter(
        organization=organization,
        signature__status=Signature.Status.CONFIRMED,
        signature__held=False,
        signature__anonymized_at__isnull=True,
    )
    if petition is not None:
        rows = rows.filter(signature__petition=petition)
    if since is not None:
        rows = rows.filter(created_at__date__gte=since)
    if until is not None:
        rows = rows.filter(created_at__date__lte=until)
    if as_of is not None:
        rows = rows.filter(created_at__lte=as_of, signature__confirmed_at__lte=as_of)
    return rows.select_related(
        "signature", "signature__petition", "signature__source", "wording"
    ).order_by("created_at", "pk")


def supporter_cells(opt_in: SponsorOptIn) -> list[str]:
    signature = opt_in.signature
    return [
        signature.name,
        signature.email,
        signature.postal_code,
        signature.country.code or "",
        signature.petition.title,
        signature.source.name if signature.source else "",
        timezone.localtime(opt_in.created_at).isoformat(),
        opt_in.wording.text if opt_in.wording else "",
    ]


def supporters_csv(
    *, rows: QuerySet[SponsorOptIn], chunk_size: int = EXPORT_CHUNK_SIZE
) -> Iterator[str]:
    """The lines of the CSV file, header first: every cell quoted and made safe for spreadsheets
    (mechanisms.spreadsheet), read from a server-side cursor a chunk at a time."""
    return csv_lines(
        header=[label for _key, label in SUPPORTER_COLUMNS],
        rows=(supporter_cells(opt_in) for opt_in in rows.iterator(chunk_size=chunk_size)),
    )
