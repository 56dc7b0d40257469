"""Bring every stored address to the current canonical form, merging signatures that turn out
to be one mailbox's. The migrations that changed the form ran this once; run it again after
changing mechanisms.addresses."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.models import Organization, User
from letters.models import IndividualSignature
from mechanisms import canonical_emails
from petitions.models import Petition, Signature


class Command(BaseCommand):
    help = (
        "Recompute canonical emails of petition and letter signatures (merging duplicates) and "
        "normalize account and organization addresses; prints progress and a summary."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        write = self.stdout.write
        summaries = [
            canonical_emails.signatures_canonical_refresh(
                model=Signature,
                scope="petition",
                write=write,
                on_removed=canonical_emails.petition_count_release(petition_model=Petition),
            ),
            canonical_emails.signatures_canonical_refresh(
                model=IndividualSignature, scope="letter", write=write
            ),
            canonical_emails.users_email_refresh(model=User, write=write),
            canonical_emails.organizations_email_refresh(model=Organization, write=write),
        ]
        for summary in summaries:
            for line in summary.lines():
                write(line)
        merged = sum(len(summary.merged) for summary in summaries)
        flagged = sum(len(summary.flagged) for summary in summaries)
        style = self.style.WARNING if flagged else self.style.SUCCESS
        write(style(f"Done: {merged} duplicates merged, {flagged} left for staff (flagged above)."))
