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
            "In the staff administration (Django's own admin), the search box of the pickers "
            "for a petition's sponsors and officials (Select2) has no label, and in sorted lists "
            "the keyboard reaches the link that changes the sort order before the column's name, "
            "though it is drawn after it. Its pages staff do not use every day have not all been "
            "checked."
        ),
        criteria="1.3.1, 2.4.3, 4.1.2",
        why=_(
            "These pages are third-party code used by a few trained staff members; we report "
            "what we find to Django and fix it in our own templates where we can."
        ),
        fixed_by=date(2027, 3, 31),
    ),
    KnownException(
        slug="api-docs",
        what=_(
            "In the interactive documentation of the API (Swagger UI, at /api/v1/docs/), the "
            "table of an opened operation's responses does not mark its header cells, so a "
            "screen reader does not say which column a cell belongs to."
        ),
        criteria="1.3.1",
        why=_(
            "It is a third-party component for developers. The same description of the API is "
            "available as a machine-readable schema at /api/v1/schema/, which any tool can read."
        ),
        fixed_by=date(2027, 9, 30),
    ),
    KnownException(
        slug="language-of-parts",
        what=_(
            "A campaign not yet translated is shown in the language it was written in, and its "
            "passages say so; but a page's title cannot mark part of itself, so such a "
            "campaign's name in the title of a page in the other language is read in the "
            "page's language. Organizations' statements on open letters do not record their "
            "language, so it is not declared either."
        ),
        criteria="3.1.2",
        why=_(
            "Declaring a statement's language needs a new field that organizations fill in; the "
            "title can only be fixed by translating every campaign, which we ask campaigners to do."
        ),
        fixed_by=date(2027, 6, 30),
    ),
)
