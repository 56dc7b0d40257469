"""One mailbox, one signature, however its domain is spelt (issue 14, finding 2).

`voter@bücher.example` and `voter@xn--bcher-kva.example` are one mailbox. Everywhere an address
identifies a person (petition and letter signatures, organization contacts and members, the
"your signatures" link, cooldowns) the two spellings, and the others a mail server treats as
the same (case, full-width forms, a trailing dot), must be one.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.core.management import call_command

from accounts import services as account_services
from accounts.models import Organization, User
from letters import services as letter_services
from letters.models import IndividualSignature
from mechanisms import canonical_emails
from mechanisms.addresses import (
    email_address_normalize,
    email_canonicalize,
    email_delivery_address,
)
from mechanisms.domains import domain_normalize
from mechanisms.validators import validate_deliverable_email
from petitions import services as petition_services
from petitions.models import Petition, Signature
from tests.factories import (
    IndividualSignatureFactory,
    MembershipFactory,
    OpenLetterFactory,
    OrganizationFactory,
    PetitionFactory,
    SignatureFactory,
)

pytestmark = pytest.mark.django_db

SPELLINGS = [
    "voter@bücher.example",
    "voter@xn--bcher-kva.example",
    "Voter@BÜCHER.Example",
    "voter@XN--BCHER-KVA.EXAMPLE.",
    # Full-width letters and dot, as some keyboards type them: UTS #46 maps them.
    "voter@\uff42\u00fc\uff43\uff48\uff45\uff52\uff0eexample",
    # Decomposed ü (u + combining diaeresis): NFC makes it the same letter.
    "voter@bu\u0308cher.example",
    # Quoted local parts, which mail software unquotes: mail to them reaches voter@.
    '"voter"@bücher.example',
    '"vo\\ter"@bücher.example',
    '"\\v\\o\\t\\e\\r"@bücher.example',
    # Characters mail software maps to nothing (zero-width joiners, soft hyphens): Django's
    # mailer drops them, so mail goes to the same domain.
    "voter@bü\u200dcher.example",
    "voter@bü\u200ccher.example",
    "voter@bü\u1806cher.example",
    "voter@bü\u00adcher.example",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_an_internationalized_domain_is_one_canonical_address(
    spelling: str,
) -> None:
    assert email_canonicalize(spelling) == "voter@xn--bcher-kva.example"
    assert email_address_normalize(spelling) == "voter@xn--bcher-kva.example"
    # And mail goes to that very domain.
    assert email_delivery_address(spelling).endswith("@xn--bcher-kva.example")


def _my_signatures_link(email: str, callbacks) -> None:
    """Ask for the "your signatures" link as the page does, and run the send it queues."""
    with callbacks(execute=True):
        account_services.my_signatures_link_request(email=email, language="en")


def test_mail_goes_to_the_domain_addresses_are_compared_by(
    django_capture_on_commit_callbacks, outbox
) -> None:
    # Django alone encodes domains by IDNA 2003, which sends faß.de to fass.de, another domain.
    SignatureFactory(email="hans@faß.de", confirmed=True)
    _my_signatures_link("hans@faß.de", django_capture_on_commit_callbacks)
    assert outbox[0].to == ["hans@xn--fa-hia.de"]
    assert email_canonicalize("hans@faß.de") == "hans@xn--fa-hia.de"


@pytest.mark.parametrize("address", ["a@☃.example", "a@xn--n3h.example", "a@xn--zz.example"])
def test_an_address_whose_domain_idna_2008_refuses_is_refused(address: str) -> None:
    # IDNA 2003 takes the snowman; mail would go where no comparison could follow it.
    with pytest.raises(ValidationError) as error:
        validate_deliverable_email(address)
    assert error.value.code == "undeliverable"


def test_spellings_of_one_mailbox_share_one_cooldown(django_capture_on_commit_callbacks, outbox):
    for number, spelling in enumerate(SPELLINGS):
        with django_capture_on_commit_callbacks(execute=True):
            account_services.organization_register(
                name=f"Group {number}",
                website="https://bücher.example",
                contact_name="Someone",
                contact_email=spelling,
            )
    assert len(outbox) == 1


def test_the_local_part_is_compared_in_its_composed_form_and_case() -> None:
    assert email_canonicalize("E\u0301lise@example.org") == email_canonicalize("élise@example.org")
    assert email_canonicalize("ÉLISE@example.org") == "élise@example.org"


def test_the_domain_follows_idna_2008_not_python_s_idna_2003() -> None:
    # IDNA 2003 (Python's codec) maps ß to ss: another domain than mail servers use today.
    assert domain_normalize("Straße.de") == "xn--strae-oqa.de"
    # A name IDNA refuses is compared as typed, lower-cased.
    assert domain_normalize("A_B.Example") == "a_b.example"


def test_a_petition_counts_one_signature_for_both_spellings(django_capture_on_commit_callbacks):
    petition = PetitionFactory()
    fields = {"petition": petition, "name": "Voter", "postal_code": "94612", "country": "US"}
    with django_capture_on_commit_callbacks(execute=True):
        first = petition_services.signature_create(email="voter@bücher.example", **fields)
        again = petition_services.signature_create(email="voter@xn--bcher-kva.example", **fields)
    assert first == again
    assert Signature.objects.filter(petition=petition).count() == 1


def test_a_letter_counts_one_signature_for_both_spellings(django_capture_on_commit_callbacks):
    letter = OpenLetterFactory(individuals_may_sign=True)
    with django_capture_on_commit_callbacks(execute=True):
        first = letter_services.individual_signature_create(
            letter=letter, name="Voter", email="voter@bücher.example"
        )
        again = letter_services.individual_signature_create(
            letter=letter, name="Voter", email="VOTER@xn--bcher-kva.example"
        )
    assert first == again
    assert IndividualSignature.objects.filter(letter=letter).count() == 1


def test_a_letter_signed_from_an_employers_domain_takes_any_spelling_of_it() -> None:
    letter = OpenLetterFactory(individuals_may_sign=True, individual_email_domains="bücher.example")
    letter_services.individual_email_check(letter=letter, email="staff@xn--bcher-kva.example")
    letter_services.individual_email_check(letter=letter, email="staff@Dept.BÜCHER.example")
    with pytest.raises(ValidationError):
        letter_services.individual_email_check(letter=letter, email="staff@bucher.example")


def test_an_organizations_domain_is_one_whatever_its_spelling(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = account_services.organization_register(
            name="Bücherhalle",
            website="https://bücher.example",
            contact_name="Voter",
            contact_email="press@bücher.example",
        )
        account_services.organization_contact_confirm(organization_id=first.pk)
    first.refresh_from_db()
    assert (first.email_domain, first.contact_email) == (
        "xn--bcher-kva.example",
        "press@xn--bcher-kva.example",
    )
    with pytest.raises(ValidationError) as error:
        account_services.organization_register(
            name="Another Bücherhalle",
            website="https://xn--bcher-kva.example",
            contact_name="Someone",
            contact_email="info@XN--BCHER-KVA.example",
        )
    assert "already on Cosign" in str(error.value)


def test_a_member_is_one_account_whatever_the_spelling_and_logs_in_with_either() -> None:
    organization = OrganizationFactory()
    membership = account_services.membership_invite(
        organization=organization, email="voter@bücher.example"
    )
    with pytest.raises(account_services.AlreadyMember):
        account_services.membership_invite(
            organization=organization, email="Voter@xn--bcher-kva.example"
        )
    user = membership.user
    user.set_password("a-long-password-for-tests")
    user.save()
    assert User.objects.count() == 1
    for spelling in ("voter@bücher.example", "VOTER@xn--bcher-kva.example."):
        assert authenticate(username=spelling, password="a-long-password-for-tests") == user


def test_the_your_signatures_link_finds_signatures_made_with_the_other_spelling(
    django_capture_on_commit_callbacks, outbox
) -> None:
    SignatureFactory(email="voter@bücher.example", confirmed=True)
    _my_signatures_link("voter@xn--bcher-kva.example", django_capture_on_commit_callbacks)
    assert [message.to for message in outbox] == [["voter@xn--bcher-kva.example"]]
    # And the cooldown holds for the other spelling too.
    _my_signatures_link("VOTER@bücher.example", django_capture_on_commit_callbacks)
    assert len(outbox) == 1


def test_a_password_link_is_one_per_mailbox_whatever_the_spelling(
    django_capture_on_commit_callbacks, outbox
) -> None:
    MembershipFactory(user__email="voter@xn--bcher-kva.example")
    with django_capture_on_commit_callbacks(execute=True):
        account_services.password_link_request(email="voter@bücher.example", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        account_services.password_link_request(email="voter@xn--bcher-kva.example", language="en")
    assert [message.to for message in outbox] == [["voter@xn--bcher-kva.example"]]


# --- Rows stored before the change -------------------------------------------------------------


def _stored_the_old_way(signature: Signature | IndividualSignature, email: str) -> None:
    # What email_canonicalize made of it before: only the domain lower-cased.
    local, _, domain = email.rpartition("@")
    type(signature).objects.filter(pk=signature.pk).update(
        email=email, canonical_email=f"{local.lower()}@{domain.lower()}"
    )


def test_the_refresh_merges_signatures_that_were_one_mailbox_and_fixes_the_count() -> None:
    petition = PetitionFactory()
    kept = SignatureFactory(petition=petition, email="voter@xn--bcher-kva.example", confirmed=True)
    twin = SignatureFactory(petition=petition, email="placeholder@example.org", confirmed=True)
    _stored_the_old_way(twin, "voter@bücher.example")
    other = SignatureFactory(petition=petition, email="placeholder2@example.org", confirmed=True)
    _stored_the_old_way(other, "someone@Bücher.example")
    Signature.objects.update(counted=True)
    Petition.objects.filter(pk=petition.pk).update(signature_count=3)

    out = StringIO()
    call_command("canonical_emails_refresh", stdout=out)

    assert set(Signature.objects.values_list("pk", "canonical_email")) == {
        (kept.pk, "voter@xn--bcher-kva.example"),
        (other.pk, "someone@xn--bcher-kva.example"),
    }
    petition.refresh_from_db()
    assert petition.signature_count == 2
    printed = out.getvalue()
    assert f"merged: kept #{kept.pk}, removed #{twin.pk}" in printed
    assert "Signatures: 3 checked, 1 rewritten, 1 duplicates merged, 0 flagged" in printed
    assert "Done: 1 duplicates merged" in printed


def test_the_refresh_keeps_the_confirmed_one_of_two_letter_signatures() -> None:
    letter = OpenLetterFactory(individuals_may_sign=True)
    pending = IndividualSignatureFactory(letter=letter, email="voter@xn--bcher-kva.example")
    confirmed = IndividualSignatureFactory(
        letter=letter, email="placeholder@example.org", confirmed=True
    )
    _stored_the_old_way(confirmed, "voter@bücher.example")

    summary = canonical_emails.signatures_canonical_refresh(
        model=IndividualSignature, scope="letter", write=lambda line: None
    )

    assert summary.merged == [(confirmed.pk, pending.pk)]
    assert list(IndividualSignature.objects.values_list("pk", flat=True)) == [confirmed.pk]


def test_the_refresh_flags_accounts_it_would_have_to_merge() -> None:
    first = User.objects.create_user("voter@xn--bcher-kva.example")
    second = User.objects.create_user("placeholder@example.org")
    User.objects.filter(pk=second.pk).update(email="voter@bücher.example")
    lines: list[str] = []
    summary = canonical_emails.users_email_refresh(model=User, write=lines.append)
    assert summary.flagged == [(second.pk, f"its address is account #{first.pk}'s")]
    second.refresh_from_db()
    assert second.email == "voter@bücher.example"
    assert lines, "progress is printed"


def test_the_refresh_rewrites_organizations_addresses() -> None:
    organization = OrganizationFactory(
        contact_email="placeholder@example.org", email_domain="placeholder.example"
    )
    Organization.objects.filter(pk=organization.pk).update(
        contact_email="Press@Bücher.example", email_domain="bücher.example"
    )
    canonical_emails.organizations_email_refresh(model=Organization, write=lambda line: None)
    organization.refresh_from_db()
    assert (organization.contact_email, organization.email_domain) == (
        "press@xn--bcher-kva.example",
        "xn--bcher-kva.example",
    )
