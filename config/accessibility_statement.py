"""What the accessibility statement (/accessibility/) says that changes as the site does: the
parts of the site known not to meet WCAG 2.2 AA, each with its reason and the date by which it
will, and when the statement was prepared. Update this list when a part is fixed or a new barrier
is found; the page and its tests read it from here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# When the statement was prepared, and when it was last reviewed against the site.
PREPARED_ON = date(2026, 12, 7)
REVIEWED_ON = date(2026, 12, 7)
# The statement promises an answer to feedback within this many days (the EU model's practice;
# Italy's AgID guidelines ask for 30).
RESPONSE_DAYS = 30


@dataclass(frozen=True)
class KnownException:
    """One part of the site that does not meet WCAG 2.2 AA yet."""

    slug: str  # the anchor of its entry on the page
    what: Promise
    criteria: str  # the WCAG 2.2 success criteria it fails, by number (not translated)
    why: Promise
    fixed_by: date


# ---- KNOWN EXCEPTIONS: the one place to add, change or remove one. ----------------------------
KNOWN_EXCEPTIONS: tuple[KnownException, ...] = (
    KnownException(
        slug="paper-sheet",
        what=_(
            "The printable paper petition sheet (a PDF) is not a tagged PDF: a screen reader "
            "reads its text, but not its headings or the table of numbered lines as a table."
        ),
        criteria="1.3.1",
        why=_(
            "The library that draws the sheet (fpdf2) does not yet write tagged PDF. The sheet "
            "is meant to be printed and filled in by hand; everything it says is also on the "
            "petition's page, which is accessible."
        ),
        fixed_by=date(2027, 6, 30),
    ),
    KnownException(
        slug="admin",
        what=_(
            "The staff administration is Django's own admin. We checked the pages staff use "
            "every day; its other pages, which come unchanged from Django and its add-ons, have "
            "not all been checked and may have barriers we have not found."
        ),
        criteria="1.3.1, 2.4.7, 4.1.2",
        why=_(
            "These pages are third-party code used by a few trained staff members; we report "
            "what we find to Django and fix it in our own templates where we can."
        ),
        fixed_by=date(2027, 3, 31),
    ),
    KnownException(
        slug="api-docs",
        what=_(
            "The interactive documentation of the API (Swagger UI, at /api/v1/docs/) has not "
            "been checked, and may have barriers for people using a keyboard or a screen reader."
        ),
        criteria="2.1.1, 4.1.2",
        why=_(
            "It is a third-party component for developers. The same description of the API is "
            "available as a machine-readable schema at /api/v1/schema/, which any tool can read."
        ),
        fixed_by=date(2027, 9, 30),
    ),
)
