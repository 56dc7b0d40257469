"""Demo data for an organization's workspace with `make run`: a member login for Oakland Privacy,
and two weeks of confirmed signatures on the demo petition through three links (its own, Fight
for the Future's and the petition's), a good share of them opted in to Oakland Privacy, so its
dashboard and its supporters' list have something to show.

Every name and address here is invented; the domains use the reserved `.test` top-level domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import override

from accounts.models import Membership, Organization, User
from mechanisms.addresses import email_canonicalize
from petitions.demo_signatures import DEMO_PETITION, demo_password
from petitions.drafting import services as drafting
from petitions.drafting.models import CampaignInvitation
from petitions.drafting.petition_kind import PETITION
from petitions.forms import SignatureForm
from petitions.models import Petition, Signature, SponsorOptIn, Target, Topic
from petitions.services import petition_counts_update
from petitions.services.consent import consent_wording_ids

WORKSPACE_ORGANIZATION = "oakland-privacy"
OTHER_SOURCE = "fight-for-the-future"
MEMBER_EMAIL = "organizer@oaklandprivacy.test"
DAYS = 14

FIRST_NAMES = (
    "Ana", "Ben", "Chloe", "Dario", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jamal", "Keiko",
    "Luis", "Mira", "Nadia", "Omar", "Paula", "Quinn", "Rosa", "Tariq", "Uma", "Vera", "Wen",
)  # fmt: skip
LAST_NAMES = ("Alvarez", "Brooks", "Chen", "Diaz", "Evans", "Fischer", "Gupta", "Hughes")
POSTAL_CODES = ("94612", "94607", "94610", "94618", "94705", "94110")


@dataclass(frozen=True)
class DemoWorkspace:
    created: int
    opted_in: int
    login_message: str


# (name, email) of each workspace demo signer.
SIGNERS = [
    (f"{first} {last}", f"{first}.{last}@supporters.test".lower())
    for last in LAST_NAMES
    for first in FIRST_NAMES[: 6 + len(last) % 5]
]


def demo_workspace_seed() -> DemoWorkspace:
    """Add the workspace's demo signatures once (a second run adds nothing) and its login."""
    petition = Petition.objects.get(slug=DEMO_PETITION)
    organization = Organization.objects.get(slug=WORKSPACE_ORGANIZATION)
    sources = [organization, Organization.objects.get(slug=OTHER_SOURCE), None]
    # The words the English form shows for this organization's box (SignatureForm.clean).
    with override("en"):
        form = SignatureForm(action="/", petition=petition, sponsors=[organization])
        wording = f"{form.fields['sponsor_opt_ins'].label}: {organization.name}"
    wording_id = consent_wording_ids(wordings={organization.pk: wording}, language="en")[
        organization.pk
    ]
    now = timezone.now()
    created = opted_in = 0
    for n, (name, email) in enumerate(SIGNERS):
        # Spread over the last two weeks, more of them lately, as a campaign grows.
        ago = timedelta(hours=DAYS * 24 * (1 - ((n + 1) / len(SIGNERS)) ** 0.5))
        signed_at = now - ago - timedelta(minutes=30)
        source = sources[n % 3] if n % 5 else sources[0]
        signature, new = Signature.objects.get_or_create(
            petition=petition,
            canonical_email=email_canonicalize(email),
            defaults={
                "name": name,
                "email": email,
                "postal_code": POSTAL_CODES[n % len(POSTAL_CODES)],
                "country": "US",
                "display": Signature.Display.SHORT,
                "status": Signature.Status.CONFIRMED,
                "created_at": signed_at,
                "confirmed_at": signed_at + timedelta(minutes=12),
                "confirmation_sent_at": signed_at,
                "source": source,
            },
        )
        created += new
        if new and n % 3 != 1:
            SponsorOptIn.objects.create(
                signature=signature,
                organization=organization,
                created_at=signed_at,
                wording_id=wording_id,
            )
            opted_in += 1
    petition_counts_update()
    return DemoWorkspace(
        created=created, opted_in=opted_in, login_message=_member_seed(organization)
    )


def _member_seed(organization: Organization) -> str:
    """An administrator of the organization: they see its dashboard, members and supporters."""
    if User.objects.filter(email__iexact=MEMBER_EMAIL).exists():
        return f"Organization login ({organization.name}): {MEMBER_EMAIL} (existing)"
    password, shown = demo_password()
    user = User.objects.create_user(MEMBER_EMAIL, password, full_name="Demo organizer")
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.ADMIN)
    return f"Organization login ({organization.name}): {MEMBER_EMAIL} / {shown}"


DRAFT_TITLE = "Require a council vote before any police surveillance partnership"


def demo_draft_seed(*, organization: Organization) -> bool:
    """Oakland Privacy's draft petition, being written: two versions, an official from the
    directory, and Fight for the Future invited as co-sponsor. Returns whether it was new."""
    if Petition.objects.filter(organization=organization, title_en=DRAFT_TITLE).exists():
        return False
    user = User.objects.filter(email__iexact=MEMBER_EMAIL).first()
    draft = Petition(
        topic=Topic.objects.filter(slug="video-surveillance").first(),
        title_en=DRAFT_TITLE,
        summary_en=(
            "Our police department can sign a data-sharing deal with a camera company without "
            "a public hearing. Ask the council to make every such deal wait for a vote."
        ),
        demand_en="Put every police surveillance partnership to a public council vote.",
        addressed_to_en="The Mayor and City Council of Oakland",
        body_en=(
            "## What we ask\n\nAn ordinance under which no city department joins a "
            "surveillance partnership until the council has held a hearing and voted on it.\n"
        ),
    )
    drafting.draft_create(kind=PETITION, campaign=draft, organization=organization, user=user)
    italian: dict[str, str] = {
        "title_it": "Un voto del consiglio prima di ogni accordo di sorveglianza",
        "summary_it": (
            "La nostra polizia può firmare un accordo con un'azienda di telecamere senza "
            "un'udienza pubblica. Chiedi al consiglio comunale che ogni accordo del genere "
            "aspetti un voto."
        ),
        "demand_it": "Ogni accordo di sorveglianza della polizia vada al voto del consiglio.",
        "addressed_to_it": "Il sindaco e il consiglio comunale di Oakland",
        "body_it": (
            "## Cosa chiediamo\n\nUn'ordinanza per cui nessun ufficio comunale entra in un "
            "accordo di sorveglianza prima che il consiglio abbia tenuto un'udienza e votato.\n"
        ),
    }
    # A second version: the Italian text, added after the English one.
    for field, text in italian.items():
        setattr(draft, field, text)
    drafting.draft_save(kind=PETITION, campaign=draft, organization=organization, user=user)
    council = Target.objects.filter(active=True, locality__iexact="Oakland").first()
    if council is not None:
        drafting.draft_targets_change(
            kind=PETITION,
            campaign_id=draft.pk,
            organization=organization,
            user=user,
            add=council.pk,
        )
    partner = Organization.objects.filter(slug=OTHER_SOURCE).first()
    if partner is not None and partner.is_verified:
        drafting.invitation_create(
            kind=PETITION,
            campaign_id=draft.pk,
            organization=organization,
            invited=partner,
            role=CampaignInvitation.Role.CO_SPONSOR,
            user=user,
        )
    return True
