"""The letters admin: its pages, the approve / reject / publish actions, and the demo letters."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Organization, User
from letters import selectors
from letters.models import (
    IndividualSignature,
    LetterUpdate,
    OpenLetter,
    OrganizationSignature,
    Statement,
)
from tests.factories import (
    IndividualSignatureFactory,
    LetterUpdateFactory,
    MembershipFactory,
    OrganizationSignatureFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

SIGNATURES = reverse("admin:letters_organizationsignature_changelist")


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_superuser("moderator@cosign.test", "a-long-password"))
    return client


def _action(client, url: str, action: str, objects: list, **data: str):
    return client.post(
        url, {"action": action, ACTION_CHECKBOX_NAME: [obj.pk for obj in objects], **data}
    )


def _statuses(signatures: list[OrganizationSignature]) -> list[str]:
    return [OrganizationSignature.objects.get(pk=s.pk).status for s in signatures]


def test_every_letters_admin_page_renders(staff_client, letter, lead_org) -> None:
    signature = OrganizationSignatureFactory(letter=letter, organization=lead_org, approved=True)
    statement = StatementFactory(signature=signature)
    individual = IndividualSignatureFactory(letter=letter, withhold_name=True, confirmed=True)
    LetterUpdateFactory(letter=letter)
    objects = {
        "letters_openletter": letter,
        "letters_organizationsignature": signature,
        "letters_statement": statement,
        "letters_individualsignature": individual,
    }
    for name, obj in objects.items():
        changelist = staff_client.get(reverse(f"admin:{name}_changelist"))
        assert changelist.status_code == 200, name
        search = staff_client.get(reverse(f"admin:{name}_changelist"), {"q": "x"})
        assert search.status_code == 200, name
        change = staff_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert change.status_code == 200, name
    assert staff_client.get(reverse("admin:letters_openletter_add")).status_code == 200


def test_staff_cannot_type_in_an_individual_signature(staff_client) -> None:
    response = staff_client.get(reverse("admin:letters_individualsignature_add"))
    assert response.status_code == 403


def test_approve_action_approves_pending_signatures_and_skips_decided_ones(
    staff_client, letter
) -> None:
    pending = OrganizationSignatureFactory.create_batch(2, letter=letter)
    rejected = OrganizationSignatureFactory(
        letter=letter, status="rejected", rejection_reason="Not a fit."
    )

    response = _action(staff_client, SIGNATURES, "approve", [*pending, rejected])

    assert response.status_code == 302
    assert _statuses([*pending, rejected]) == ["approved", "approved", "rejected"]
    assert OrganizationSignature.objects.get(pk=rejected.pk).rejection_reason == "Not a fit."
    page = staff_client.get(response["Location"]).content.decode()
    assert "Approved 2." in page
    assert "1 was already decided and was left as it is." in page


def test_reject_action_asks_for_a_reason_then_rejects_with_it(staff_client, letter) -> None:
    pending = OrganizationSignatureFactory.create_batch(2, letter=letter)

    asked = _action(staff_client, SIGNATURES, "reject", pending)

    assert asked.status_code == 200
    html = asked.content.decode()
    assert "Rejecting 2 items:" in html
    assert '<textarea name="reason"' in html
    assert '<input type="hidden" name="apply" value="1">' in html
    assert _statuses(pending) == ["pending", "pending"]

    done = _action(staff_client, SIGNATURES, "reject", pending, apply="1", reason="Not a fit.")

    assert done.status_code == 302
    assert _statuses(pending) == ["rejected", "rejected"]
    reasons = OrganizationSignature.objects.values_list("rejection_reason", flat=True)
    assert set(reasons) == {"Not a fit."}
    assert "Rejected 2." in staff_client.get(done["Location"]).content.decode()


def test_reject_action_without_a_reason_asks_again_and_rejects_nothing(
    staff_client, letter
) -> None:
    pending = OrganizationSignatureFactory.create_batch(2, letter=letter)

    response = _action(staff_client, SIGNATURES, "reject", pending, apply="1", reason="")

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert _statuses(pending) == ["pending", "pending"]


def test_statement_actions_approve_and_reject_with_a_reason(staff_client, letter) -> None:
    url = reverse("admin:letters_statement_changelist")
    to_approve, to_reject = StatementFactory.create_batch(2, signature__letter=letter)

    _action(staff_client, url, "approve", [to_approve])
    _action(staff_client, url, "reject", [to_reject], apply="1", reason="Off topic.")

    assert Statement.objects.get(pk=to_approve.pk).status == Statement.Status.APPROVED
    rejected = Statement.objects.get(pk=to_reject.pk)
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "Off topic.")


def test_publish_action_publishes_and_emails_the_signing_organizations(
    staff_client,
    letter,
    lead_org,
    lead_member,
    cosigner_org,
    member,
    django_capture_on_commit_callbacks,
    outbox,
) -> None:
    OrganizationSignatureFactory(letter=letter, organization=lead_org, approved=True)
    OrganizationSignatureFactory(letter=letter, organization=cosigner_org, approved=True)
    waiting = OrganizationSignatureFactory(letter=letter)
    MembershipFactory(organization=waiting.organization, user__email="waiting@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        response = _action(
            staff_client, reverse("admin:letters_openletter_changelist"), "publish", [letter]
        )

    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.status == OpenLetter.Status.PUBLISHED
    assert letter.published_at is not None
    assert sorted(message.to[0] for message in outbox) == sorted([lead_member.email, member.email])
    assert all(message.subject == f"Published: {letter.title}" for message in outbox)
    assert "Published 1 letter." in staff_client.get(response["Location"]).content.decode()


# --- Demo letters ------------------------------------------------------------------------------


@pytest.fixture
def _no_demo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)


def _seed_letters() -> str:
    out = io.StringIO()
    call_command("seed_letters", stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    models = (
        OpenLetter,
        OrganizationSignature,
        Statement,
        IndividualSignature,
        LetterUpdate,
        Organization,
    )
    return tuple(model.objects.count() for model in models)


@pytest.mark.usefixtures("_no_demo_env")
def test_seed_letters_creates_the_three_demo_letters_once(client) -> None:
    call_command("seed_demo", stdout=io.StringIO())

    output = _seed_letters()

    assert "Demo letters: 3 (3 new)." in output
    assert OpenLetter.objects.count() == 3

    coalition = OpenLetter.objects.get(slug="end-police-doorbell-partnerships")
    assert len(selectors.letter_organizations_public(letter=coalition)) == 30
    assert [org.name for org in coalition.lead_organizations.all()] == ["Fight for the Future"]
    statements = selectors.letter_statements_public(letter=coalition)
    assert len(statements) == 3
    assert coalition.media_contact_name
    assert coalition.media_contact_email
    assert coalition.media_contact_phone
    assert coalition.updates.count() == 1
    assert coalition.related_petition.slug == "cancel-police-doorbell-partnerships"

    employees = OpenLetter.objects.get(slug="we-wont-build-it")
    people = selectors.letter_individuals_public(letter=employees)
    withheld = [person for person in people if person.withhold_name]
    assert len(people) == 5
    assert 0 < len(withheld) < len(people)
    assert all(person.email.endswith("@amazon.com") for person in people)
    page = client.get(employees.get_absolute_url()).content.decode()
    assert "Employee, name withheld" in page
    assert all(person.name not in page for person in withheld)

    ceo = OpenLetter.objects.get(slug="stop-selling-face-recognition")
    assert ceo.related_petition.slug == "ban-facial-recognition"
    assert ceo.related_petition.title in client.get(ceo.get_absolute_url()).content.decode()

    for letter in OpenLetter.objects.all():
        for view in ("letters:detail", "letters:press", "letters:organizations_csv"):
            url = reverse(view, kwargs={"slug": letter.slug})
            assert client.get(url).status_code == 200, url

    first = _counts()
    again = _seed_letters()
    assert _counts() == first
    assert "Demo letters: 3 (0 new)." in again


def test_seeded_letters_address_their_targets() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_letters", stdout=io.StringIO())
    coalition = OpenLetter.objects.get(slug="end-police-doorbell-partnerships")
    assert {"U.S. Congress", "Mayor of Oakland"} <= set(
        coalition.targets.values_list("title", flat=True)
    )
    ceo = OpenLetter.objects.get(slug="stop-selling-face-recognition")
    assert list(ceo.targets.values_list("title", "level")) == [("Amazon's CEO", "company")]
