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
    MAX_CONFIRMATION_ATTEMPTS,
    PetitionNotOpen,
    signature_confirm,
    signature_confirmation_send,
    signature_confirmations_resend_lost,
    signature_create,
    signature_new_link_request,
    signature_new_link_send,
    signature_notice_request,
    signature_notice_send,
    signature_place_resolve,
    signature_signer_mail,
)

__all__ = [
    "MAX_CONFIRMATION_ATTEMPTS",
    "PetitionNotOpen",
    "Recount",
    "petition_counts_subtract",
    "petition_counts_update",
    "petition_recount",
    "signature_confirm",
    "signature_confirmation_send",
    "signature_confirmations_resend_lost",
    "signature_create",
    "signature_new_link_request",
    "signature_new_link_send",
    "signature_notice_request",
    "signature_notice_send",
    "signature_place_resolve",
    "signature_signer_mail",
]
