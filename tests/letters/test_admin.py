"""The letters admin: its pages, the approve / reject / publish actions, and the demo letters."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import Organization, User
from letters import selectors
from letters.models import (
    IndividualSignature,
    LetterDelivery,
    LetterUpdate,
    OpenLetter,
    OrganizationSignature,
    Statement,
)
from tests.factories import (
    IndividualSignatureFactory,
    LetterUpdateFactory,
    MembershipFactory,
    OpenLetterFactory,
    OrganizationSignatureFactory,
    StatementFactory,
    TargetFactory,
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


# --- Decisions only through the actions, and every action in the audit log ---------------------


def _logged(obj) -> list[str]:
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).values_list("change_message", flat=True)
    )


def test_decisions_are_read_only_in_the_cosignature_and_statement_change_forms(
    client, moderator, letter
) -> None:
    """Moderators may change these rows, but a status typed in the form would skip the email
    to the organization, who decided, and the audit log: decisions go through the actions."""
    statement = StatementFactory(signature__letter=letter)
    signature = statement.signature
    client.force_login(moderator)
    for url in (
        reverse("admin:letters_organizationsignature_change", args=[signature.pk]),
        reverse("admin:letters_statement_change", args=[statement.pk]),
    ):
        page = client.get(url)
        assert page.status_code == 200
        form_fields = page.context["adminform"].form.fields
        assert "status" not in form_fields
        assert "rejection_reason" not in form_fields
    # A crafted POST changes nothing either: read-only fields are not taken from the request.
    saved = client.post(
        reverse("admin:letters_statement_change", args=[statement.pk]),
        {
            "speaker_name": statement.speaker_name,
            "speaker_title": statement.speaker_title,
            "text": statement.text,
            "status": "approved",
        },
    )
    assert saved.status_code == 302
    assert Statement.objects.get(pk=statement.pk).status == Statement.Status.PENDING


def test_statement_decisions_from_the_admin_are_in_the_audit_log(staff_client, letter) -> None:
    url = reverse("admin:letters_statement_changelist")
    to_approve, to_reject = StatementFactory.create_batch(2, signature__letter=letter)
    _action(staff_client, url, "approve", [to_approve])
    _action(staff_client, url, "reject", [to_reject], apply="1", reason="Off topic.")
    _action(staff_client, url, "approve", [to_approve])  # decided already: not logged again
    assert _logged(to_approve) == ["Approved."]
    assert _logged(to_reject) == ["Rejected. Reason: Off topic."]


def test_publishing_a_letter_from_the_admin_is_in_the_audit_log(campaign_editor) -> None:
    letter = OpenLetterFactory(status=OpenLetter.Status.OPEN)
    client = Client()
    client.force_login(campaign_editor)
    for _ in range(2):  # the second finds it published and logs nothing
        _action(client, reverse("admin:letters_openletter_changelist"), "publish", [letter])
    letter.refresh_from_db()
    assert letter.status == OpenLetter.Status.PUBLISHED
    entries = LogEntry.objects.filter(user=campaign_editor)
    assert [(e.object_id, e.change_message) for e in entries] == [
        (str(letter.pk), "Published, and the signing organizations told.")
    ]


def test_retrying_letter_deliveries_logs_the_failed_ones_it_retried(staff_client, letter) -> None:
    target = TargetFactory()
    failed, sent = (
        LetterDelivery.objects.create(
            letter=letter, target=target, occasion=occasion, status=status
        )
        for occasion, status in (("published", "failed"), ("update-1", "pending"))
    )
    response = _action(
        staff_client,
        reverse("admin:letters_letterdelivery_changelist"),
        "retry_failed",
        [failed, sent],
    )
    assert LetterDelivery.objects.get(pk=failed.pk).status == LetterDelivery.Status.PENDING
    assert _logged(failed) == ["Failed delivery sent again."]
    assert _logged(sent) == []
    page = staff_client.get(response["Location"]).content.decode()
    assert "1 delivery will be sent again." in page
    assert "1 delivery had not failed and was left alone." in page


def test_publishing_a_published_letter_again_says_it_was_left_alone(staff_client) -> None:
    letter = OpenLetterFactory(status=OpenLetter.Status.PUBLISHED)
    response = _action(
        staff_client, reverse("admin:letters_openletter_changelist"), "publish", [letter]
    )
    page = staff_client.get(response["Location"]).content.decode()
    assert "Published 0 letters." in page
    assert "1 letter was already published or closed, and was left as it was." in page


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
