from __future__ import annotations

import factory
from django.utils import timezone

from accounts.emails import email_canonicalize
from accounts.models import Membership, Organization, User
from petitions.models import Petition, Signature, Topic


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
    website = factory.LazyAttribute(lambda o: f"https://{o.slug}.example.org")
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

    slug = factory.Sequence(lambda n: f"cancel-camera-partnership-{n}")
    title = factory.Sequence(lambda n: f"Cancel the doorbell camera partnership no. {n}")
    summary = "Our city should not hand residents' doorbell footage to the police."
    body = "The partnership was signed without a public hearing.\n\nEnd it."
    addressed_to = "The Mayor and City Council"
    topic = factory.SubFactory(TopicFactory)
    status = Petition.Status.OPEN


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
