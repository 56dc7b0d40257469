"""The people around an open letter: a lead organization and its member, a co-signing
organization and its member, an outsider with an account, and a staff moderator."""

from __future__ import annotations

import pytest

from accounts.models import Organization, User
from letters.models import OpenLetter
from tests.factories import MembershipFactory, OpenLetterFactory, OrganizationFactory, UserFactory


@pytest.fixture
def lead_org(db) -> Organization:
    return OrganizationFactory(name="Fight for the Future")


@pytest.fixture
def lead_member(lead_org) -> User:
    return MembershipFactory(organization=lead_org, user__email="lead@fightforthefuture.test").user


@pytest.fixture
def letter(lead_org) -> OpenLetter:
    return OpenLetterFactory(leads=[lead_org])


@pytest.fixture
def cosigner_org(db) -> Organization:
    return OrganizationFactory(name="Media Alliance")


@pytest.fixture
def member(cosigner_org) -> User:
    return MembershipFactory(
        organization=cosigner_org, user__email="director@mediaalliance.test"
    ).user


@pytest.fixture
def outsider(db) -> User:
    return UserFactory(email="outsider@example.com")


@pytest.fixture
def staff(db) -> User:
    # Staff whose role covers letters (issue 7 brings the moderator group): here a superuser.
    return UserFactory(email="moderator@cosign.test", is_staff=True, is_superuser=True)
