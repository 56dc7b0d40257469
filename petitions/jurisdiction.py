"""Where a signer lives, from their country and postal code.

US ZIP codes resolve offline from the data the zipcodes package ships; other countries from the
PostalArea table, loaded with `manage.py import_postal_codes`. Whatever a signer typed, the answer
is a Place or None, never an exception: an unknown code is kept on the signature and only keeps it
from reaching local and state targets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import zipcodes

from petitions.models import PostalArea

# ASCII digits only: \d would let Arabic-Indic digits through to zipcodes, which rejects them.
_ZIP = re.compile(r"[0-9]{5}(?:-[0-9]{4})?")
_COUNTRY = re.compile(r"[A-Z]{2}")
# PostalArea.postal_code's length; nothing longer can be stored, so nothing longer can match.
POSTAL_CODE_MAX_LENGTH = 20


@dataclass(frozen=True)
class Place:
    country: str
    region: str
    locality: str


def postal_code_normalize(postal_code: str) -> str:
    """The form postal codes are stored and matched in: upper-case, runs of spaces made one."""
    return " ".join(postal_code.split()).upper()


def _spellings(code: str) -> list[str]:
    """The code as typed, and, typed without its space, the usual places of one: before the
    last three characters (UK: SW1A1AA is SW1A 1AA) or the last two (NL: 1012AB is 1012 AB)."""
    if " " in code or len(code) < 5:
        return [code]
    return [code, f"{code[:-3]} {code[-3:]}", f"{code[:-2]} {code[-2:]}"]


def postal_code_resolve(*, country: str, postal_code: str) -> Place | None:
    """The place of a postal code, or None when it is unknown, malformed or missing.

    `country` is an ISO code ("US", "DE"); when it is blank, a code shaped like a US ZIP (94612
    or 94612-1234) is taken as one, since the US is the only country the data covers without a
    country to go on.
    """
    if not isinstance(postal_code, str):
        return None
    code = postal_code_normalize(postal_code)
    country = str(country or "").strip().upper()
    # Odd input stops here: control characters (PostgreSQL refuses NUL in a query) or a code
    # longer than any stored one.
    if not code or len(code) > POSTAL_CODE_MAX_LENGTH or not code.isprintable():
        return None
    if country == "US" or (not country and _ZIP.fullmatch(code)):
        return _zip_resolve(code)
    if not _COUNTRY.fullmatch(country):
        return None
    area = (
        PostalArea.objects.filter(country=country, postal_code__in=_spellings(code))
        .order_by("postal_code")
        .values_list("region", "locality")
        .first()
    )
    if area is None:
        return None
    region, locality = area
    return Place(country=country, region=region, locality=locality)


def _zip_resolve(code: str) -> Place | None:
    if not _ZIP.fullmatch(code):
        return None
    try:
        matches = zipcodes.matching(code)
    except (TypeError, ValueError):
        return None
    if not matches:
        return None
    first = matches[0]
    region = str(first.get("state") or "").upper()
    locality = str(first.get("city") or "")
    if not region or not locality:
        return None
    # The data gives military (APO/FPO) codes the country of the base; they are US addresses.
    return Place(country="US", region=region, locality=locality)
