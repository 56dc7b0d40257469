"""Writes for petitions, one module per idea: signing and confirming (signing), the batched
count (counting), opening, closing, milestones and updates (campaigns), delivering to targets
(deliveries) and moderating signatures (moderation).

The names of signing and counting are also importable from here, as they were before the split.
"""

from petitions.services.counting import (
    Recount,
    petition_counts_subtract,
    petition_counts_update,
    petition_recount,
)
from petitions.services.signing import (
    PetitionNotOpen,
    signature_confirm,
    signature_create,
    signature_new_link_request,
    signature_notice_request,
    signature_place_resolve,
    signer_email_request,
)

__all__ = [
    "PetitionNotOpen",
    "Recount",
    "petition_counts_subtract",
    "petition_counts_update",
    "petition_recount",
    "signature_confirm",
    "signature_create",
    "signature_new_link_request",
    "signature_notice_request",
    "signature_place_resolve",
    "signer_email_request",
]
