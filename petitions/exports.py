"""Reads for staff exports: a petition's signatures as CSV, streamed.

The rows come from a server-side cursor (`.iterator()` on PostgreSQL) a chunk at a time and go
out as they are written, so memory stays flat however many people signed. Every cell passes
through `csv_cell`, so a name like `=HYPERLINK(...)` reaches the spreadsheet as text.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from django.utils.translation import gettext

from mechanisms.admin_moderation import flag_labels
from mechanisms.spreadsheet import csv_lines
from petitions.models import PaperSignature, Signature

# Rows fetched per round trip from the server-side cursor.
EXPORT_CHUNK_SIZE = 2000

_COLUMNS = (
    "name",
    "email",
    "display",
    "postal_code",
    "country",
    "locality",
    "status",
    "held",
    "flags",
    "created_at",
    "confirmed_at",
    "language",
    "consent_updates",
)


def _header() -> list[str]:
    return [
        gettext("Name"),
        gettext("Email"),
        gettext("Name shown as"),
        gettext("Postal code"),
        gettext("Country"),
        gettext("Locality"),
        gettext("Status"),
        gettext("Held for review"),
        gettext("Flags"),
        gettext("Signed at"),
        gettext("Confirmed at"),
        gettext("Language"),
        gettext("Consents to updates"),
    ]


def petition_signatures_csv(
    *, petition_id: int, chunk_size: int = EXPORT_CHUNK_SIZE
) -> Iterator[str]:
    """The lines of a CSV file of every signature of a petition, oldest first, header first."""
    return csv_lines(
        header=_header(),
        rows=itertools.chain(
            _signature_rows(petition_id, chunk_size), _paper_rows(petition_id, chunk_size)
        ),
    )


def _signature_rows(petition_id: int, chunk_size: int) -> Iterator[list[object]]:
    displays = {key: str(label) for key, label in Signature.Display.choices}
    statuses = {key: str(label) for key, label in Signature.Status.choices}
    yes, no = gettext("yes"), gettext("no")
    rows = (
        Signature.objects.filter(petition_id=petition_id)
        .order_by("pk")
        .values_list(*_COLUMNS)
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        values = dict(zip(_COLUMNS, row, strict=True))
        cells = [
            values["name"],
            values["email"],
            displays.get(values["display"], values["display"]),
            values["postal_code"],
            values["country"],
            values["locality"],
            statuses.get(values["status"], values["status"]),
            yes if values["held"] else no,
            flag_labels(values["flags"]),
            values["created_at"].isoformat(),
            values["confirmed_at"].isoformat() if values["confirmed_at"] else "",
            values["language"],
            yes if values["consent_updates"] else no,
        ]
        yield cells


def _paper_rows(petition_id: int, chunk_size: int) -> Iterator[list[object]]:
    """The petition's paper signatures after the online ones, marked as paper in the status;
    "confirmed at" is when their batch was counted."""
    no = gettext("no")
    rows = (
        PaperSignature.objects.filter(petition_id=petition_id)
        .select_related("batch")
        .order_by("pk")
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        if row.duplicate:
            status = gettext("On paper, not counted: also signed online")
        elif row.batch.counted_at:
            status = gettext("On paper, counted")
        else:
            status = gettext("On paper, being typed in")
        yield [
            row.name,
            row.email,
            gettext("Not listed (paper)"),
            row.postal_code,
            row.country.code or "",
            row.locality,
            status,
            no,
            "",
            row.created_at.isoformat(),
            row.batch.counted_at.isoformat() if row.batch.counted_at else "",
            "",
            no,
        ]
