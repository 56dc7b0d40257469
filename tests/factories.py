from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import Membership, Organization, User
from mechanisms.addresses import email_canonicalize
from petitions.models import Petition, Signature, Target, Topic


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery staple")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Digital Rights Group {n}")
    slug = factory.Sequence(lambda n: f"digital-rights-group-{n}")
    website = factory.LazyAttribute(lambda o: f"https://{o.slug}.example.org/")
    email_domain = factory.LazyAttribute(lambda o: f"{o.slug}.example.org")
    verification = Organization.Verification.VERIFIED
    verified_at = factory.LazyFunction(timezone.now)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.ADMIN


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    name = "Video surveillance"
    slug = "video-surveillance"


class PetitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Petition
        # targets are set on the saved row; nothing to save again afterwards.
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"cancel-camera-partnership-{n}")
    title = factory.Sequence(lambda n: f"Cancel the doorbell camera partnership no. {n}")
    summary = "Our city should not hand residents' doorbell footage to the police."
    body = "The partnership was signed without a public hearing.\n\nEnd it."
    addressed_to = "The Mayor and City Council"
    topic = factory.SubFactory(TopicFactory)
    status = Petition.Status.OPEN

    @factory.post_generation
    def targets(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.targets.set(extracted)


class TargetFactory(factory.django.DjangoModelFactory):
    """An official with a place and an email: by default the Mayor of Oakland."""

    class Meta:
        model = Target

    name = "Barbara Lee"
    title = "Mayor of Oakland"
    level = Target.Level.LOCAL
    country = "US"
    region = "CA"
    locality = "Oakland"
    email = "mayor@oakland.example.gov"


class SignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signature

    petition = factory.SubFactory(PetitionFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"signer{n}@example.net")
    canonical_email = factory.LazyAttribute(lambda s: email_canonicalize(s.email))
    postal_code = "94612"
    country = "US"

    class Params:
        confirmed = factory.Trait(
            status=Signature.Status.CONFIRMED, confirmed_at=factory.LazyFunction(timezone.now)
        )


# --- Accounts: organizations joining (issue 5) ----------------------------------------------------
class PendingOrganizationFactory(OrganizationFactory):
    """Registered, its contact's address confirmed, waiting for staff to verify it."""

    verification = Organization.Verification.PENDING
    verified_at = None
    contact_name = factory.Faker("name")
    contact_email = factory.LazyAttribute(lambda o: f"press@{o.email_domain}")
    contact_confirmed_at = factory.LazyFunction(timezone.now)


class UnconfirmedOrganizationFactory(PendingOrganizationFactory):
    """Registered, but its contact has not opened the confirmation link yet."""

    verification = Organization.Verification.UNVERIFIED
    contact_confirmed_at = None


# --- Open letters ------------------------------------------------------------------------------
# The letters models are named by label, so this block needs no import below the top of the file.


class OpenLetterFactory(factory.django.DjangoModelFactory):
    """An open letter taking signatures; `leads=[org, ...]` sets its lead organizations."""

    class Meta:
        model = "letters.OpenLetter"
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"end-doorbell-partnerships-{n}")
    title = factory.Sequence(lambda n: f"End the doorbell camera partnerships no. {n}")
    summary = "Police partnerships with doorbell camera companies were signed without a hearing."
    body = "We, the undersigned organizations, ask you to end these partnerships.\n\nEnd them."
    addressed_to = "Local, state and federal officials"
    ask = "End police partnerships with doorbell camera companies."
    status = "open"

    @factory.post_generation
    def leads(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create and extracted:
            self.lead_organizations.set(extracted)


class OrganizationSignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "letters.OrganizationSignature"

    letter = factory.SubFactory(OpenLetterFactory)
    organization = factory.SubFactory(OrganizationFactory)
    status = "pending"

    class Params:
        approved = factory.Trait(status="approved", decided_at=factory.LazyFunction(timezone.now))
        withdrawn = factory.Trait(
            status="withdrawn", withdrawn_at=factory.LazyFunction(timezone.now)
        )


class StatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "letters.Statement"

    signature = factory.SubFactory(OrganizationSignatureFactory)
    speaker_name = factory.Sequence(lambda n: f"Spokesperson {n}")
    speaker_title = "Executive Director"
    text = "Communities deserve a vote before they are watched."
    status = "pending"

    class Params:
        approved = factory.Trait(status="approved", decided_at=factory.LazyFunction(timezone.now))


class IndividualSignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "letters.IndividualSignature"

    letter = factory.SubFactory(OpenLetterFactory, individuals_may_sign=True)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"expert{n}@example.net")
    canonical_email = factory.LazyAttribute(lambda s: email_canonicalize(s.email))

    class Params:
        confirmed = factory.Trait(
            status="confirmed", confirmed_at=factory.LazyFunction(timezone.now)
        )


class LetterUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "letters.LetterUpdate"

    letter = factory.SubFactory(OpenLetterFactory)
    text = "Six more organizations have joined the letter."
    published_at = factory.LazyFunction(timezone.now)


def signatures_confirmed_from(
    *, petition: Petition, places: list[tuple[str, str, int, int]]
) -> None:
    """Confirmed signatures for the charts and maps: (country, region, how many, days ago) each;
    the public count is set to their total."""
    for country, region, how_many, days_ago in places:
        for _ in range(how_many):
            SignatureFactory(
                petition=petition,
                confirmed=True,
                confirmed_at=timezone.now() - timedelta(days=days_ago),
                country=country,
                region=region,
            )
    total = sum(how_many for _country, _region, how_many, _days in places)
    Petition.objects.filter(pk=petition.pk).update(signature_count=total)
