"""Organizations on the letter pages: co-signing, the lead organizations' approval queue,
withdrawal, drafts, and the link between a letter and the petition it escalates."""

from __future__ import annotations

import re

import pytest
from django.template.defaultfilters import date as date_format
from django.urls import reverse
from django.utils import timezone

from letters.models import OpenLetter, OrganizationSignature, Statement
from petitions.models import Petition
from tests.factories import (
    MembershipFactory,
    OpenLetterFactory,
    OrganizationFactory,
    OrganizationSignatureFactory,
    PetitionFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

QUOTE = {
    "speaker_name": "Lee Marchetti",
    "speaker_title": "Executive Director",
    "statement": "A doorbell should not double as a police informant.",
}


def _url(letter: OpenLetter, view: str = "detail", **ids: int) -> str:
    return reverse(f"letters:{view}", kwargs={"slug": letter.slug, **ids})


def _organization_list(html: str) -> str:
    if 'id="signing-organizations"' not in html:
        return ""
    return html.split('id="signing-organizations"', 1)[1].split("</ul>", 1)[0]


def _options(html: str) -> list[str]:
    select = re.search(r'<select name="organization".*?</select>', html, re.S).group(0)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


# --- Co-signing --------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_login_page(client, letter, cosigner_org) -> None:
    for response in (
        client.get(_url(letter, "cosign")),
        client.post(_url(letter, "cosign"), {"organization": cosigner_org.pk}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    assert not OrganizationSignature.objects.exists()


def test_member_is_offered_only_their_own_organizations(
    client, letter, lead_org, cosigner_org, member
) -> None:
    MembershipFactory(user=member, organization=OrganizationFactory(name="Access Humboldt"))
    OrganizationFactory(name="Unrelated Group")
    client.force_login(member)

    response = client.get(_url(letter, "cosign"))

    assert response.status_code == 200
    assert _options(response.content.decode()) == ["Access Humboldt", "Media Alliance"]


def test_member_signs_with_a_statement_and_is_told_it_awaits_approval(
    client, letter, cosigner_org, member, django_capture_on_commit_callbacks
) -> None:
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(letter, "cosign"), {"organization": cosigner_org.pk} | QUOTE)

    assert response.status_code == 302
    assert response["Location"] == letter.get_absolute_url()
    page = client.get(response["Location"]).content.decode()
    assert (
        "Thank you. Media Alliance will appear on the letter once the lead organizations "
        "approve it." in page
    )
    signature = OrganizationSignature.objects.get()
    assert (signature.organization, signature.status) == (cosigner_org, "pending")
    assert signature.statement.status == Statement.Status.PENDING
    assert "Media Alliance" not in _organization_list(page)
    assert "Media Alliance: Awaiting approval" in page  # the member sees their own signature


def test_non_member_posting_another_organizations_id_is_refused(
    client, letter, lead_org, member
) -> None:
    client.force_login(member)
    response = client.post(_url(letter, "cosign"), {"organization": lead_org.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not OrganizationSignature.objects.exists()


def test_second_signature_by_an_organization_says_it_already_signed(
    client, letter, cosigner_org, member
) -> None:
    OrganizationSignatureFactory(letter=letter, organization=cosigner_org)
    client.force_login(member)
    response = client.post(_url(letter, "cosign"), {"organization": cosigner_org.pk} | QUOTE)
    assert response.status_code == 400
    assert "already signed" in response.content.decode()
    assert OrganizationSignature.objects.count() == 1
    assert not Statement.objects.exists()


def test_statement_without_a_speaker_is_refused(client, letter, cosigner_org, member) -> None:
    client.force_login(member)
    data = {"organization": cosigner_org.pk, "statement": QUOTE["statement"]}
    response = client.post(_url(letter, "cosign"), data)
    assert response.status_code == 400
    assert "A statement needs the name and title" in response.content.decode()
    assert not OrganizationSignature.objects.exists()


def test_closed_letter_takes_no_cosignature(client, cosigner_org, member) -> None:
    letter = OpenLetterFactory(status=OpenLetter.Status.CLOSED)
    client.force_login(member)
    response = client.post(_url(letter, "cosign"), {"organization": cosigner_org.pk})
    assert response.status_code == 409
    assert "This letter takes no more signatures." in response.content.decode()
    assert not OrganizationSignature.objects.exists()


# --- The lead organizations' queue -------------------------------------------------------------


@pytest.fixture
def waiting(letter, cosigner_org) -> OrganizationSignature:
    signature = OrganizationSignatureFactory(letter=letter, organization=cosigner_org)
    StatementFactory(signature=signature, speaker_name="Lee Marchetti", text="Quote to approve.")
    return signature


def test_lead_member_sees_the_queue_and_approves_a_cosigner(
    client, letter, lead_member, waiting
) -> None:
    client.force_login(lead_member)
    queue = client.get(_url(letter, "manage"))
    assert queue.status_code == 200
    html = queue.content.decode()
    assert "Approve Media Alliance" in html
    assert "Approve the statement by Lee Marchetti" in html
    assert "Quote to approve." in html
    assert "Approve co-signers and statements" in client.get(_url(letter)).content.decode()

    response = client.post(
        _url(letter, "decide_signature", signature_id=waiting.pk), {"decision": "approve"}
    )
    assert response.status_code == 302
    assert response["Location"] == _url(letter, "manage")
    assert "Approved." in client.get(response["Location"]).content.decode()
    client.post(
        _url(letter, "decide_statement", statement_id=waiting.statement.pk),
        {"decision": "approve"},
    )

    page = client.get(_url(letter)).content.decode()
    assert "Media Alliance" in _organization_list(page)
    assert "Quote to approve." in page


def test_rejecting_without_a_reason_says_so_and_leaves_it_pending(
    client, letter, lead_member, waiting
) -> None:
    client.force_login(lead_member)
    response = client.post(
        _url(letter, "decide_signature", signature_id=waiting.pk),
        {"decision": "reject", "reason": " "},
        follow=True,
    )
    assert "Say why the signature is rejected" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == OrganizationSignature.Status.PENDING

    client.post(
        _url(letter, "decide_signature", signature_id=waiting.pk),
        {"decision": "reject", "reason": "Not a coalition fit."},
    )
    waiting.refresh_from_db()
    assert (waiting.status, waiting.rejection_reason) == ("rejected", "Not a coalition fit.")


@pytest.mark.parametrize("user", ["member", "outsider"])
def test_queue_is_not_found_for_anyone_but_the_leads(
    request, client, letter, waiting, user
) -> None:
    client.force_login(request.getfixturevalue(user))
    assert client.get(_url(letter, "manage")).status_code == 404
    approve = {"decision": "approve"}
    signature_url = _url(letter, "decide_signature", signature_id=waiting.pk)
    statement_url = _url(letter, "decide_statement", statement_id=waiting.statement.pk)
    assert client.post(signature_url, approve).status_code == 404
    assert client.post(statement_url, approve).status_code == 404
    waiting.refresh_from_db()
    assert waiting.status == OrganizationSignature.Status.PENDING
    assert waiting.statement.status == Statement.Status.PENDING


def test_signature_of_another_letter_cannot_be_decided_through_this_one(
    client, letter, lead_member
) -> None:
    elsewhere = OrganizationSignatureFactory()
    client.force_login(lead_member)
    url = _url(letter, "decide_signature", signature_id=elsewhere.pk)
    assert client.post(url, {"decision": "approve"}).status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == OrganizationSignature.Status.PENDING


# --- Withdrawal --------------------------------------------------------------------------------


def test_member_withdraws_and_the_history_says_so_with_the_date(
    client, letter, cosigner_org, member
) -> None:
    signature = OrganizationSignatureFactory(
        letter=letter, organization=cosigner_org, approved=True
    )
    client.force_login(member)
    assert "Media Alliance" in _organization_list(client.get(_url(letter)).content.decode())

    response = client.post(_url(letter, "withdraw", signature_id=signature.pk))

    assert response.status_code == 302
    assert response["Location"] == _url(letter)
    page = client.get(_url(letter)).content.decode()
    assert "Media Alliance" not in _organization_list(page)
    signature.refresh_from_db()
    date = date_format(timezone.localtime(signature.withdrawn_at), "DATE_FORMAT")
    history = page.split('id="letter-history"', 1)[1].split("</ul>", 1)[0]
    assert f"Media Alliance withdrew its signature on {date}." in history
    assert "has withdrawn its signature" in page  # the message to the member


def test_outsider_cannot_withdraw_an_organizations_signature(
    client, letter, cosigner_org, outsider
) -> None:
    signature = OrganizationSignatureFactory(
        letter=letter, organization=cosigner_org, approved=True
    )
    client.force_login(outsider)
    assert client.post(_url(letter, "withdraw", signature_id=signature.pk)).status_code == 404
    signature.refresh_from_db()
    assert signature.status == OrganizationSignature.Status.APPROVED


# --- Drafts and petitions ----------------------------------------------------------------------


def test_draft_is_not_found_by_the_public_and_previewed_by_staff(client, staff) -> None:
    draft = OpenLetterFactory(status=OpenLetter.Status.DRAFT)
    for view in ("detail", "press", "press_text", "organizations_csv"):
        assert client.get(_url(draft, view)).status_code == 404, view

    client.force_login(staff)
    response = client.get(_url(draft))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview: this letter is a draft." in html
    assert '<meta name="robots" content="noindex">' in html


def test_petition_and_the_letter_escalating_it_link_to_each_other(client) -> None:
    petition = PetitionFactory(title="Ban facial recognition")
    letter = OpenLetterFactory(
        related_petition=petition, status=OpenLetter.Status.PUBLISHED, title="Coalition letter"
    )
    OpenLetterFactory(
        related_petition=petition, status=OpenLetter.Status.DRAFT, title="Unfinished draft letter"
    )

    petition_page = client.get(petition.get_absolute_url()).content.decode()
    assert f'href="{letter.get_absolute_url()}">Coalition letter</a>' in petition_page
    assert "Unfinished draft letter" not in petition_page

    letter_page = client.get(letter.get_absolute_url()).content.decode()
    assert f'href="{petition.get_absolute_url()}">Ban facial recognition</a>' in letter_page


def test_letter_does_not_link_to_a_draft_petition(client) -> None:
    petition = PetitionFactory(status=Petition.Status.DRAFT, title="Petition still in draft")
    letter = OpenLetterFactory(related_petition=petition)
    assert "Petition still in draft" not in client.get(_url(letter)).content.decode()
