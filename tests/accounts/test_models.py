import pytest
from django.db import IntegrityError

from accounts.models import Organization, User
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_email_is_the_login_and_case_insensitive_unique() -> None:
    user = User.objects.create_user("Maria@Example.org", "s3cret-passphrase")
    assert user.email == "maria@example.org"
    assert user.check_password("s3cret-passphrase")
    with pytest.raises(IntegrityError):
        User.objects.create(email="MARIA@example.org")


def test_create_superuser_is_staff() -> None:
    admin = User.objects.create_superuser("admin@cosign.test", "pw-long-enough")
    assert admin.is_staff and admin.is_superuser


def test_verified_organization_must_have_a_verification_date() -> None:
    with pytest.raises(IntegrityError):
        OrganizationFactory(verified_at=None)


def test_one_membership_per_user_and_organization() -> None:
    membership = MembershipFactory()
    assert membership.organization.is_verified
    with pytest.raises(IntegrityError):
        MembershipFactory(user=membership.user, organization=membership.organization)


def test_unverified_organization_is_not_verified() -> None:
    org = OrganizationFactory(verification=Organization.Verification.PENDING, verified_at=None)
    assert not org.is_verified
