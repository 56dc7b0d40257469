"""The public letter page, and individuals signing it and confirming by email."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import quote

import pytest
from django.urls import reverse

from accounts.models import Organization, User
from letters import services
from letters.models import IndividualSignature, LetterUpdate, OpenLetter
from tests.factories import (
    IndividualSignatureFactory,
    OpenLetterFactory,
    OrganizationFactory,
    OrganizationSignatureFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

SIGNER = {
    "name": "Dana Whitfield",
    "email": "dana@amazon.com",
    "title": "Software Engineer",
    "affiliation": "",
}


def _url(letter: OpenLetter, view: str = "detail") -> str:
    return reverse(f"letters:{view}", kwargs={"slug": letter.slug})


def _items(html: str, list_id: str) -> list[str]:
    """The inner HTML of each <li> of the list with this id."""
    section = html.split(f'id="{list_id}"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<li>(.*?)</li>", section, re.S)


def _text(fragment: str) -> str:
    return re.sub(r"<[^>]+>", "", fragment).strip()


def _organization_names(html: str) -> list[str]:
    return [_text(item).split(" ✓", 1)[0] for item in _items(html, "signing-organizations")]


def _sign(letter: OpenLetter, organization: Organization | None = None, **kw: object) -> None:
    OrganizationSignatureFactory(
        letter=letter, organization=organization or OrganizationFactory(), **kw
    )


def test_letter_page_counts_public_organizations_and_confirmed_individuals(
    client, letter, lead_org
) -> None:
    _sign(letter, lead_org, approved=True)
    _sign(letter, approved=True)
    _sign(letter, approved=True)
    _sign(letter)  # awaiting approval
    _sign(letter, status="rejected")
    _sign(letter, withdrawn=True)
    unverified = OrganizationFactory(
        verification=Organization.Verification.PENDING, verified_at=None
    )
    _sign(letter, unverified, approved=True)
    IndividualSignatureFactory.create_batch(2, letter=letter, confirmed=True)
    IndividualSignatureFactory(letter=letter)  # not confirmed

    response = client.get(_url(letter))

    assert response.status_code == 200
    assert "Signed by 3 organizations and 2 individuals</p>" in response.content.decode()


def test_letter_page_says_one_organization_in_the_singular(client, letter, lead_org) -> None:
    _sign(letter, lead_org, approved=True)
    assert "Signed by 1 organization</p>" in client.get(_url(letter)).content.decode()


def test_organizations_are_listed_leads_first_then_alphabetically_ignoring_case(client) -> None:
    zebra, access = (
        OrganizationFactory(name="Zebra Coalition"),
        OrganizationFactory(name="access now"),
    )
    letter = OpenLetterFactory(leads=[zebra, access])
    for name in ("civic tech", "Beta Group", "alpha Network"):
        _sign(letter, OrganizationFactory(name=name, website=""), approved=True)
    _sign(letter, zebra, approved=True)
    _sign(letter, access, approved=True)

    html = client.get(_url(letter)).content.decode()

    assert _organization_names(html) == [
        "access now",
        "Zebra Coalition",
        "alpha Network",
        "Beta Group",
        "civic tech",
    ]
    items = _items(html, "signing-organizations")
    assert all('title="Verified by Cosign"' in item for item in items)
    assert ["lead" in _text(item).split("verified", 1)[1] for item in items] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert '<a href="https://' in items[0]  # linked to its website


def test_only_approved_statements_of_public_organizations_are_shown(client, letter) -> None:
    approved = OrganizationSignatureFactory(letter=letter, approved=True)
    StatementFactory(signature=approved, approved=True, text="Approved words.", speaker_name="Ann")
    other = OrganizationSignatureFactory(letter=letter, approved=True)
    StatementFactory(signature=other, text="Words awaiting approval.")
    rejected = OrganizationSignatureFactory(letter=letter, approved=True)
    StatementFactory(signature=rejected, text="Rejected words.", status="rejected")
    pending_org = OrganizationSignatureFactory(letter=letter)
    StatementFactory(signature=pending_org, approved=True, text="Words of a pending signer.")

    html = client.get(_url(letter)).content.decode()

    assert "Approved words." in html
    assert f"Ann, Executive Director, <cite>{approved.organization.name}</cite>" in html
    for hidden in ("Words awaiting approval.", "Rejected words.", "Words of a pending signer."):
        assert hidden not in html


def test_updates_and_corrections_are_shown_with_their_date(client, letter) -> None:
    LetterUpdate.objects.create(
        letter=letter,
        text_en="Six more organizations have joined.",
        published_at=datetime(2019, 10, 8, 16, 0, tzinfo=UTC),
    )
    LetterUpdate.objects.create(
        letter=letter,
        kind=LetterUpdate.Kind.CORRECTION,
        text_en="The count of departments was 405.",
        published_at=datetime(2019, 10, 9, 16, 0, tzinfo=UTC),
    )

    html = client.get(_url(letter)).content.decode()

    assert "<strong>Update Oct. 8:</strong>" in html
    assert "Six more organizations have joined." in html
    assert "<strong>Correction Oct. 9:</strong>" in html
    assert html.index("Update Oct. 8:") < html.index("Correction Oct. 9:")


def test_letter_page_has_share_links_and_meta_for_link_previews(client, letter, settings) -> None:
    html = client.get(_url(letter)).content.decode()
    url = f"{settings.SITE_URL}/en/letters/{letter.slug}/"

    assert f'<link rel="canonical" href="{url}">' in html
    assert f'<meta property="og:title" content="{letter.title}">' in html
    assert f'<meta property="og:url" content="{url}">' in html
    assert f"https://www.facebook.com/sharer/sharer.php?u={quote(url, safe='')}" in html
    assert "https://bsky.app/intent/compose?text=" in html
    assert f'href="/en/letters/{letter.slug}/press/"' in html


# --- Names withheld ----------------------------------------------------------------------------

SECRETS = ("Priya Hiddenname", "priya.hiddenname", "Principal Quietude Scientist", "Team Nine")


@pytest.fixture
def employee_letter(lead_org) -> OpenLetter:
    letter = OpenLetterFactory(
        leads=[lead_org],
        individuals_may_sign=True,
        names_may_be_withheld=True,
        individual_email_domains="amazon.com",
        withheld_label="Employee",
        media_contact_name="Robin Castellanos",
    )
    OrganizationSignatureFactory(letter=letter, organization=lead_org, approved=True)
    IndividualSignatureFactory(
        letter=letter,
        name="Priya Hiddenname",
        email="priya.hiddenname@amazon.com",
        title="Principal Quietude Scientist",
        affiliation="Team Nine",
        withhold_name=True,
        confirmed=True,
    )
    IndividualSignatureFactory(
        letter=letter, name="Ana Visible", title="Product Manager", confirmed=True
    )
    return letter


@pytest.mark.parametrize("viewer", [None, "lead_member"])
def test_withheld_name_email_and_title_appear_on_no_public_page(
    request, client, employee_letter, viewer
) -> None:
    if viewer:
        client.force_login(request.getfixturevalue(viewer))
    detail = client.get(_url(employee_letter)).content.decode()
    assert "Employee, name withheld</li>" in detail
    assert "Ana Visible, Product Manager" in detail

    for view in ("detail", "press", "press_text", "organizations_csv"):
        response = client.get(_url(employee_letter, view))
        assert response.status_code == 200, view
        page = response.content.decode().lower()
        for secret in SECRETS:
            assert secret.lower() not in page, (view, secret)


def test_staff_see_withheld_names_in_the_admin(client, employee_letter) -> None:
    client.force_login(User.objects.create_superuser("admin@cosign.test", "a-long-password"))
    response = client.get(reverse("admin:letters_individualsignature_changelist"))
    html = response.content.decode()
    assert "Priya Hiddenname" in html
    assert "priya.hiddenname@amazon.com" in html


# --- Individuals signing -----------------------------------------------------------------------


def _confirm_path(outbox, settings) -> str:
    link = next(word for word in outbox[-1].body.split() if "/confirm/" in word)
    return link.removeprefix(settings.SITE_URL)


def test_individual_signs_confirms_by_email_and_then_appears_on_the_letter(
    client, employee_letter, django_capture_on_commit_callbacks, outbox, settings
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(employee_letter, "sign"), SIGNER)
    assert response.status_code == 302
    assert response["Location"] == f"/en/letters/{employee_letter.slug}/check-your-inbox/"
    assert client.get(response["Location"]).status_code == 200
    assert [message.to for message in outbox] == [["dana@amazon.com"]]
    signature = IndividualSignature.objects.get(email="dana@amazon.com")
    assert signature.status == IndividualSignature.Status.PENDING
    path = _confirm_path(outbox, settings)

    shown = client.get(path)
    assert shown.status_code == 200
    assert 'value="Confirm my signature"' in shown.content.decode()
    signature.refresh_from_db()
    assert signature.status == IndividualSignature.Status.PENDING
    assert "Dana Whitfield" not in client.get(_url(employee_letter)).content.decode()

    confirmed = client.post(path, {"name": SIGNER["name"]})
    assert confirmed.status_code == 200
    assert "your signature is confirmed" in confirmed.content.decode()
    signature.refresh_from_db()
    assert signature.status == IndividualSignature.Status.CONFIRMED
    page = client.get(_url(employee_letter)).content.decode()
    assert "Dana Whitfield, Software Engineer" in page
    assert "and 3 individuals" in page


@pytest.mark.parametrize(
    "damage",
    [lambda path: path[:-6] + "/", lambda path: path.replace("/confirm/", "/confirm/x")],
)
def test_tampered_confirmation_link_gets_a_400_page_and_confirms_nothing(
    client, employee_letter, django_capture_on_commit_callbacks, outbox, settings, damage
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(employee_letter, "sign"), SIGNER)
    response = client.post(damage(_confirm_path(outbox, settings)))
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    signature = IndividualSignature.objects.get(email="dana@amazon.com")
    assert signature.status == IndividualSignature.Status.PENDING


def test_link_for_another_letter_confirms_nothing(
    client, employee_letter, django_capture_on_commit_callbacks, outbox, settings
) -> None:
    other = OpenLetterFactory(individuals_may_sign=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(employee_letter, "sign"), SIGNER)
    path = _confirm_path(outbox, settings).replace(employee_letter.slug, other.slug)
    assert client.post(path).status_code == 400
    signature = IndividualSignature.objects.get(email="dana@amazon.com")
    assert signature.status == IndividualSignature.Status.PENDING


def test_address_outside_the_letters_domain_gets_the_message_beside_the_email_field(
    client, employee_letter, outbox
) -> None:
    response = client.post(_url(employee_letter, "sign"), SIGNER | {"email": "dana@gmail.com"})
    assert response.status_code == 400
    html = response.content.decode()
    message = re.search(r'id="error_1_id_email"[^>]*>(.*?)</', html, re.S)
    assert message is not None
    assert "This letter is signed from an address at amazon.com." in message.group(1)
    assert not IndividualSignature.objects.filter(email="dana@gmail.com").exists()
    assert outbox == []


def test_letter_without_individual_signers_has_no_form_and_refuses_a_post(client, letter) -> None:
    assert 'name="email"' not in client.get(_url(letter)).content.decode()
    response = client.post(_url(letter, "sign"), SIGNER | {"email": "dana@example.org"})
    assert response.status_code == 409
    assert not IndividualSignature.objects.filter(email="dana@amazon.com").exists()


def test_the_mailbox_owner_decides_on_withholding_at_confirmation(
    client, employee_letter, outbox, settings, django_capture_on_commit_callbacks
) -> None:
    """Someone who knows an employee's address pre-files their real name, shown publicly; the
    employee's own choice on the confirmation page is what counts."""
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(employee_letter, "sign"), SIGNER | {"name": "Dana Realname"})
    path = _confirm_path(outbox, settings)
    response = client.post(path, {"name": "Dana W.", "withhold_name": "on"})
    assert response.status_code == 200
    signature = IndividualSignature.objects.get(email="dana@amazon.com")
    assert (signature.name, signature.withhold_name) == ("Dana W.", True)
    page = client.get(_url(employee_letter)).content.decode()
    assert "Realname" not in page
    assert "Employee, name withheld" in page


def test_confirming_after_the_letter_closed_is_refused(
    client, employee_letter, outbox, settings, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(employee_letter, "sign"), SIGNER)
    path = _confirm_path(outbox, settings)
    OpenLetter.objects.filter(pk=employee_letter.pk).update(status=OpenLetter.Status.CLOSED)
    assert client.post(path, {"name": "Dana Whitfield"}).status_code == 409
    signature = IndividualSignature.objects.get(email="dana@amazon.com")
    assert signature.status == IndividualSignature.Status.PENDING


def test_a_signature_withdrawn_while_its_confirmation_is_posted_gets_the_broken_link_page(
    client, employee_letter, django_capture_on_commit_callbacks, outbox, settings
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(employee_letter, "sign"), SIGNER)
    path = _confirm_path(outbox, settings)
    real = services.individual_signature_confirm

    def withdraw_then_go_on(**kwargs):
        # The signer withdraws it from "your signatures" between the link check and the write.
        IndividualSignature.objects.filter(email="dana@amazon.com").delete()
        return real(**kwargs)

    with mock.patch.object(services, "individual_signature_confirm", withdraw_then_go_on):
        response = client.post(path, {"name": SIGNER["name"]})

    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert not IndividualSignature.objects.filter(email="dana@amazon.com").exists()
