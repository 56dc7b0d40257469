from __future__ import annotations

import os
import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Membership, Organization, User
from letters.demo_content import LEAD_MEMBER_EMAIL, LETTERS
from letters.models import (
    IndividualSignature,
    LetterUpdate,
    OpenLetter,
    OrganizationSignature,
    Statement,
)
from mechanisms.addresses import email_canonicalize
from petitions.models import Petition, Target, Topic

# Fields of a demo letter's entry that are not the letter's own columns.
_NOT_FIELDS = {
    "slug", "body", "leads", "signers", "topic", "related_petition", "statements", "updates",
    "individuals", "targets",
}  # fmt: skip


class Command(BaseCommand):
    help = "Create the demo open letters (after seed_demo); safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            new = 0
            for item in LETTERS:
                created = self._seed_letter(item)
                new += created
                letter = OpenLetter.objects.get(slug=item["slug"])
                self.stdout.write(
                    f"{letter.slug}: {letter.organization_signatures.count()} organizations, "
                    f"{letter.individual_signatures.count()} individuals"
                    f"{' (new)' if created else ''}."
                )
            lead_message = self._seed_lead_member()
        self.stdout.write(lead_message)
        self.stdout.write(self.style.SUCCESS(f"Demo letters: {len(LETTERS)} ({new} new)."))

    def _seed_lead_member(self) -> str:
        """A login for a member of the coalition letter's lead organization, so the demo can
        approve co-signers as a lead organization does, not only as staff."""
        email = LEAD_MEMBER_EMAIL
        if User.objects.filter(email__iexact=email).exists():
            return f"Lead organization login: {email} (existing)"
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user = User.objects.create_user(email, password, full_name="Demo lead member")
        lead = OpenLetter.objects.get(slug=LETTERS[0]["slug"]).lead_organizations.first()
        if lead is None:
            raise CommandError(f"The letter {LETTERS[0]['slug']} has no lead organization.")
        Membership.objects.create(user=user, organization=lead, role=Membership.Role.ADMIN)
        shown = (
            "the password in DEMO_ADMIN_PASSWORD"
            if os.environ.get("DEMO_ADMIN_PASSWORD")
            else (f"{password} (shown only now)")
        )
        return f"Lead organization login ({lead}): {email} / {shown}"

    def _organization(self, name: str) -> Organization:
        existing = Organization.objects.filter(name__iexact=name).first()
        if existing:
            return existing
        return Organization.objects.create(
            name=name,
            slug=slugify(name)[:100],
            verification=Organization.Verification.VERIFIED,
            verified_at=timezone.now(),
        )

    def _target(self, title: str) -> Target:
        """A target the petitions demo made, or the company one only letters address."""
        target = Target.objects.filter(title=title).first()
        if target is None:
            target = Target.objects.create(
                name=title, title=title, level=Target.Level.COMPANY, email="ceo@example.org"
            )
        return target

    def _seed_letter(self, item: dict[str, Any]) -> bool:
        """Create one letter with its signers; an existing one is left as it is."""
        if OpenLetter.objects.filter(slug=item["slug"]).exists():
            return False
        fields = {key: value for key, value in item.items() if key not in _NOT_FIELDS}
        letter = OpenLetter.objects.create(
            slug=item["slug"],
            body="\n\n".join(item["body"]),
            topic=Topic.objects.filter(slug=item["topic"]).first(),
            related_petition=Petition.objects.filter(slug=item.get("related_petition")).first(),
            **fields,
        )
        letter.lead_organizations.set([self._organization(name) for name in item["leads"]])
        letter.targets.set([self._target(title) for title in item.get("targets", ())])
        signed_at = letter.published_at or timezone.now()
        signatures = {}
        for name in dict.fromkeys((*item["leads"], *item["signers"])):
            organization = self._organization(name)
            signatures[name] = OrganizationSignature.objects.create(
                letter=letter,
                organization=organization,
                status=OrganizationSignature.Status.APPROVED,
                created_at=signed_at,
                decided_at=signed_at,
            )
        for org, speaker, title, text in item.get("statements", ()):
            Statement.objects.create(
                signature=signatures[org],
                speaker_name=speaker,
                speaker_title=title,
                text=text,
                status=Statement.Status.APPROVED,
                decided_at=signed_at,
            )
        for published_at, kind, text in item.get("updates", ()):
            LetterUpdate.objects.create(
                letter=letter, published_at=published_at, kind=kind, text=text
            )
        for n, (name, title, affiliation, withheld) in enumerate(item.get("individuals", ())):
            email = f"demo.signer{n}@{letter.required_domains[0]}"
            IndividualSignature.objects.create(
                letter=letter,
                name=name,
                email=email,
                canonical_email=email_canonicalize(email),
                title=title,
                affiliation=affiliation,
                withhold_name=withheld,
                status=IndividualSignature.Status.CONFIRMED,
                confirmed_at=timezone.now(),
            )
        return True
