"""Every model is in the admin and its pages render for staff."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import MembershipFactory, SignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = User.objects.create_superuser("moderator@cosign.test", "a-long-password")
    client.force_login(admin)
    return client


def test_every_admin_page_renders(staff_client) -> None:
    membership = MembershipFactory()
    signature = SignatureFactory(confirmed=True)
    objects = {
        "accounts_user": membership.user,
        "accounts_organization": membership.organization,
        "accounts_membership": membership,
        "petitions_topic": signature.petition.topic,
        "petitions_petition": signature.petition,
        "petitions_signature": signature,
    }
    for name, obj in objects.items():
        changelist = staff_client.get(reverse(f"admin:{name}_changelist"))
        assert changelist.status_code == 200, name
        change = staff_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert change.status_code == 200, name
    search = staff_client.get(reverse("admin:petitions_signature_changelist"), {"q": "example"})
    assert search.status_code == 200


def test_staff_cannot_type_in_signatures_or_edit_counts(staff_client) -> None:
    signature = SignatureFactory()
    assert staff_client.get(reverse("admin:petitions_signature_add")).status_code == 403
    page = staff_client.get(
        reverse("admin:petitions_petition_change", args=[signature.petition.pk])
    )
    assert 'name="signature_count"' not in page.content.decode()


def test_admin_requires_staff(client) -> None:
    response = client.get(reverse("admin:petitions_signature_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_add_a_user_by_email_and_it_can_log_in(staff_client, client) -> None:
    page = staff_client.get(reverse("admin:accounts_user_add"))
    assert page.status_code == 200
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Member@Example.org",
            "full_name": "New Member",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(full_name="New Member")
    assert user.email == "new.member@example.org"
    # Logging in does not depend on how the address is capitalized.
    assert client.login(username="NEW.MEMBER@Example.ORG", password="a-long-enough-passphrase")


def test_signature_email_cannot_be_swapped_in_the_admin(staff_client) -> None:
    signature = SignatureFactory(email="maria@example.org")
    page = staff_client.get(reverse("admin:petitions_signature_change", args=[signature.pk]))
    assert 'name="email"' not in page.content.decode()
    assert 'name="name"' in page.content.decode()
