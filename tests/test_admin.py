"""Every model is in the admin and its pages render for staff."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from petitions.models import Petition, PetitionMilestone, PetitionUpdate, Target
from tests.factories import MembershipFactory, PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = User.objects.create_superuser("moderator@cosign.test", "a-long-password")
    client.force_login(admin)
    return client


def test_every_admin_page_renders(staff_client) -> None:
    membership = MembershipFactory()
    signature = SignatureFactory(confirmed=True)
    update = PetitionUpdate.objects.create(
        petition=signature.petition, title_en="Hearing set", body_en="Tuesday."
    )
    milestone = PetitionMilestone.objects.create(petition=signature.petition, goal=100)
    objects = {
        "accounts_user": membership.user,
        "accounts_organization": membership.organization,
        "accounts_membership": membership,
        "petitions_topic": signature.petition.topic,
        "petitions_petition": signature.petition,
        "petitions_signature": signature,
        "petitions_petitionupdate": update,
        "petitions_petitionmilestone": milestone,
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


def test_staff_author_a_petition_in_both_languages(staff_client) -> None:
    sponsor = MembershipFactory().organization
    mayor = Target.objects.create(
        name="Office of the Mayor", title="Sindaco di Roma", level="local",
        country="IT", region="RM", locality="Roma", email="sindaco@example.org",
    )  # fmt: skip
    response = staff_client.post(
        reverse("admin:petitions_petition_add"),
        {
            "slug": "stop-the-scan",
            "language": "en",
            "sponsors": [sponsor.pk],
            "title_en": "Stop the scan",
            "title_it": "Fermate la scansione",
            "summary_en": "No face scans at the stadium.",
            "summary_it": "Niente scansioni del volto allo stadio.",
            "demand_en": "Remove the cameras.",
            "status": "draft",
            "postal_code_required": "on",
            "countries": ["IT", "SM"],
            "delivery_schedule": "weekly",
            "targets": [mayor.pk],
            "updates-TOTAL_FORMS": "0",
            "updates-INITIAL_FORMS": "0",
            "questions-TOTAL_FORMS": "0",
            "questions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    petition = Petition.objects.get(slug="stop-the-scan")
    assert (petition.title_en, petition.title_it) == ("Stop the scan", "Fermate la scansione")
    assert [c.code for c in petition.countries] == ["IT", "SM"]
    assert list(petition.sponsors.all()) == [sponsor]
    # Staff choose who receives the signatures, and how often.
    assert (list(petition.targets.all()), petition.delivery_schedule) == ([mayor], "weekly")
    change = staff_client.get(reverse("admin:petitions_petition_change", args=[petition.pk]))
    # The preview link opens the draft, which only staff can see.
    assert f'href="{petition.get_absolute_url()}"' in change.content.decode()
    assert ">Preview<" in change.content.decode()
    assert staff_client.get(petition.get_absolute_url()).status_code == 200


def test_publish_action_emails_consenting_signers_once(
    staff_client, outbox, django_capture_on_commit_callbacks
) -> None:
    petition = PetitionFactory()
    SignatureFactory(petition=petition, confirmed=True, consent_updates=True, email="a@example.org")
    SignatureFactory(petition=petition, confirmed=True, consent_updates=False)
    update = PetitionUpdate.objects.create(
        petition=petition, title_en="We delivered the signatures", body_en="Thank you."
    )
    url = reverse("admin:petitions_petitionupdate_changelist")
    data = {"action": "publish", "_selected_action": [update.pk]}

    with django_capture_on_commit_callbacks(execute=True):
        first = staff_client.post(url, data, follow=True)
    assert "Published 1 update." in first.content.decode()
    assert [m.to for m in outbox] == [["a@example.org"]]
    update.refresh_from_db()
    assert update.published_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        again = staff_client.post(url, data, follow=True)
    assert "already published and was not sent again" in again.content.decode()
    assert len(outbox) == 1
