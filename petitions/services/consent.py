"""The words a signer agreed to when they let an organization contact them, kept once per
distinct text (petitions.models.ConsentWording) and pointed at by each opt-in."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import partial

from django.db import transaction

from petitions.models import ConsentWording

# This process's known wordings, text to id: a viral petition's opt-ins all say the same few
# things, so the sign POST looks them up without a query. Filled only once a row is committed.
_known: dict[str, int] = {}


def _digest(*, language: str, text: str) -> str:
    return hashlib.sha256(f"{language}\x00{text}".encode()).hexdigest()


def consent_wording_ids(*, wordings: Mapping[int, str], language: str) -> dict[int, int]:
    """For each organization id, the id of the wording row holding its text in `language`,
    made if new."""
    found: dict[int, int] = {}
    for organization_id, text in wordings.items():
        digest = _digest(language=language, text=text)
        wording_id = _known.get(digest)
        if wording_id is None:
            wording, _created = ConsentWording.objects.get_or_create(
                digest=digest, defaults={"text": text, "language": language}
            )
            wording_id = wording.pk
            # Not before commit: a rolled-back row must not be pointed at later.
            transaction.on_commit(partial(_known.__setitem__, digest, wording_id))
        found[organization_id] = wording_id
    return found


def consent_wordings_forget() -> None:
    """Forget the ids this process knows (tests: each test's rows are rolled back)."""
    _known.clear()
