"""Demo signers for trying moderation with `make run`: real-looking supporters, a spam wave that got
through and was counted, and a few signatures the abuse signals held for review.

Every name and address here is invented; the domains use the reserved `.test` top-level domain.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from mechanisms.addresses import email_canonicalize
from mechanisms.models import AbuseFlag
from petitions.models import Petition, Signature
from petitions.services import petition_counts_update

DEMO_PETITION = "cancel-police-doorbell-partnerships"
MODERATOR_EMAIL = "moderator@cosign.test"
MODERATOR_GROUP = "Moderator"

# (name, email, postal code, display)
SUPPORTERS = [
    ("Maribel Ortega", "maribel.ortega@mail.test", "94612", Signature.Display.FULL),
    ("Desmond Clarke", "dclarke@mail.test", "94607", Signature.Display.SHORT),
    ("Yuki Tanaka", "yuki.t@mail.test", "60614", Signature.Display.SHORT),
    ("Priya Raman", "priya.raman@mail.test", "10027", Signature.Display.WITHHELD),
    ("Samuel Okafor", "sam.okafor@mail.test", "98122", Signature.Display.FULL),
    ("Lucía Fernández", "lucia.f@mail.test", "94110", Signature.Display.SHORT),
]
# A wave from one throwaway domain that slipped past the signals and was counted: what a moderator
# searches for ("@bulk-signups.test") and marks as spam, lowering the public count.
SPAM_WAVE = [(f"Jon Smith{n}", f"jsmith{n}@bulk-signups.test") for n in range(1, 9)]
# Held by the abuse signals; not counted until a moderator decides.
HELD = [
    ("Jane Doe", "jane.doe1@throwaway-inbox.test", [AbuseFlag.DISPOSABLE_EMAIL]),
    ("Jane D0e", "jane.doe2@throwaway-inbox.test", [AbuseFlag.NEAR_DUPLICATE]),
    ("JANE DOE", "jane.doe3@throwaway-inbox.test", [AbuseFlag.NEAR_DUPLICATE, AbuseFlag.IP_BURST]),
    ("Robert Liang", "rliang@mail.test", [AbuseFlag.TOO_FAST, AbuseFlag.NO_PROOF_OF_WORK]),
]


@dataclass(frozen=True)
class DemoSigners:
    created: int
    count: int
    moderator_message: str


def demo_signers_seed() -> DemoSigners:
    """Add the demo signers once (a second run adds nothing) and a moderator login."""
    petition = Petition.objects.get(slug=DEMO_PETITION)
    now = timezone.now()
    created = 0
    rows = [(n, e, pc, d, "") for n, e, pc, d in SUPPORTERS]
    rows += [(n, e, "", Signature.Display.FULL, "") for n, e in SPAM_WAVE]
    rows += [
        (n, e, "", Signature.Display.FULL, " ".join(flag.value for flag in flags))
        for n, e, flags in HELD
    ]
    for minutes, (name, email, postal_code, display, flags) in enumerate(rows):
        _, new = Signature.objects.get_or_create(
            petition=petition,
            canonical_email=email_canonicalize(email),
            defaults={
                "name": name,
                "email": email,
                "postal_code": postal_code,
                "country": "US",
                "display": display,
                "status": Signature.Status.CONFIRMED,
                "created_at": now - timedelta(hours=2, minutes=-minutes),
                "confirmed_at": now - timedelta(hours=1, minutes=-minutes),
                "confirmation_sent_at": now - timedelta(hours=2, minutes=-minutes),
                "flags": flags,
                "held": bool(flags),
            },
        )
        created += new
    petition_counts_update()
    petition.refresh_from_db()
    return DemoSigners(
        created=created, count=petition.signature_count, moderator_message=_moderator_seed()
    )


def _moderator_seed() -> str:
    """A staff login in the Moderator group (not a superuser), to moderate as staff really do."""
    if User.objects.filter(email__iexact=MODERATOR_EMAIL).exists():
        return f"Moderator login: {MODERATOR_EMAIL} (existing)"
    password, shown = demo_password()
    user = User.objects.create_user(
        MODERATOR_EMAIL, password, full_name="Demo moderator", is_staff=True
    )
    group = Group.objects.filter(name=MODERATOR_GROUP).first()
    if group is not None:
        user.groups.add(group)
    return f"Moderator login: {MODERATOR_EMAIL} / {shown}"


def demo_password() -> tuple[str, str]:
    """A new demo login's password (DEMO_ADMIN_PASSWORD, or a random one), and how to print it:
    never the one from the environment, which its owner knows."""
    from_env = os.environ.get("DEMO_ADMIN_PASSWORD")
    password = from_env or secrets.token_urlsafe(12)
    shown = "the password in DEMO_ADMIN_PASSWORD" if from_env else f"{password} (shown only now)"
    return password, shown
