from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Membership, Organization
from letters import selectors, services
from letters.forms import CosignForm
from letters.models import (
    STATEMENT_MAX_LENGTH,
    OpenLetter,
    OrganizationSignature,
    Statement,
)
from tests.factories import (
    MembershipFactory,
    OpenLetterFactory,
    OrganizationFactory,
    OrganizationSignatureFactory,
    StatementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

QUOTE = {
    "speaker_name": "Lee Marchetti",
    "speaker_title": "Executive Director",
    "statement": "A doorbell should not double as a police informant.",
}


def _recipients(outbox) -> list[str]:
    return sorted(address for message in outbox for address in message.to)


# --- Co-signing --------------------------------------------------------------------------------


def test_member_signs_for_their_organization_and_each_lead_member_gets_one_email(
    letter, lead_org, lead_member, cosigner_org, member, django_capture_on_commit_callbacks, outbox
) -> None:
    second_lead = OrganizationFactory()
    letter.lead_organizations.add(second_lead)
    colleague = MembershipFactory(organization=lead_org, user__email="colleague@fftf.test").user
    # A person in both lead organizations is told once.
    MembershipFactory(organization=second_lead, user=lead_member)
    other = MembershipFactory(organization=second_lead, user__email="other@lead.test").user

    with django_capture_on_commit_callbacks(execute=True):
        signature = services.letter_cosign(letter=letter, organization=cosigner_org, user=member)

    assert signature.status == OrganizationSignature.Status.PENDING
    assert signature.signed_by == member
    assert signature.decided_at is None
    assert _recipients(outbox) == sorted([lead_member.email, colleague.email, other.email])
    assert all(len(message.to) == 1 for message in outbox)
    assert "Media Alliance" in outbox[0].subject


def test_signing_with_a_statement_stores_it_pending(letter, cosigner_org, member) -> None:
    signature = services.letter_cosign(
        letter=letter, organization=cosigner_org, user=member, **QUOTE
    )
    statement = Statement.objects.get(signature=signature)
    assert statement.status == Statement.Status.PENDING
    assert (statement.speaker_name, statement.speaker_title, statement.text) == (
        QUOTE["speaker_name"],
        QUOTE["speaker_title"],
        QUOTE["statement"],
    )


def test_lead_organization_signature_is_approved_at_once(
    letter, lead_org, lead_member, django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        signature = services.letter_cosign(letter=letter, organization=lead_org, user=lead_member)
    assert signature.status == OrganizationSignature.Status.APPROVED
    assert signature.decided_at is not None
    assert outbox == []  # nothing waits for anyone's approval


def test_non_member_cannot_sign_and_nothing_is_written(
    letter, cosigner_org, outsider, django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        services.letter_cosign(letter=letter, organization=cosigner_org, user=outsider, **QUOTE)
    assert not OrganizationSignature.objects.exists()
    assert not Statement.objects.exists()
    assert outbox == []


def test_member_of_one_organization_cannot_sign_for_another(letter, member) -> None:
    stranger_org = OrganizationFactory()
    with pytest.raises(PermissionDenied):
        services.letter_cosign(letter=letter, organization=stranger_org, user=member)
    assert not OrganizationSignature.objects.exists()


def test_staff_may_sign_for_any_organization(letter, cosigner_org, staff) -> None:
    signature = services.letter_cosign(letter=letter, organization=cosigner_org, user=staff)
    assert signature.organization == cosigner_org
    assert signature.signed_by == staff


def test_second_signature_by_the_same_organization_is_already_signed(
    letter, cosigner_org, member
) -> None:
    services.letter_cosign(letter=letter, organization=cosigner_org, user=member)
    colleague = MembershipFactory(organization=cosigner_org).user
    with pytest.raises(services.AlreadySigned):
        services.letter_cosign(letter=letter, organization=cosigner_org, user=colleague, **QUOTE)
    assert OrganizationSignature.objects.filter(letter=letter).count() == 1
    assert not Statement.objects.exists()


def test_withdrawn_organization_cannot_sign_again(letter, cosigner_org, member) -> None:
    OrganizationSignatureFactory(letter=letter, organization=cosigner_org, withdrawn=True)
    with pytest.raises(services.AlreadySigned):
        services.letter_cosign(letter=letter, organization=cosigner_org, user=member)
    assert OrganizationSignature.objects.get().status == OrganizationSignature.Status.WITHDRAWN


def test_statement_over_the_limit_is_refused_and_nothing_is_written(
    letter, cosigner_org, member, outbox
) -> None:
    too_long = QUOTE | {"statement": "x" * (STATEMENT_MAX_LENGTH + 1)}
    with pytest.raises(ValidationError):
        services.letter_cosign(letter=letter, organization=cosigner_org, user=member, **too_long)
    assert not OrganizationSignature.objects.exists()
    assert not Statement.objects.exists()
    assert outbox == []


def test_statement_of_exactly_the_limit_is_accepted(letter, cosigner_org, member) -> None:
    exact = QUOTE | {"statement": "x" * STATEMENT_MAX_LENGTH}
    services.letter_cosign(letter=letter, organization=cosigner_org, user=member, **exact)
    assert len(Statement.objects.get().text) == STATEMENT_MAX_LENGTH


@pytest.mark.parametrize("status", [OpenLetter.Status.DRAFT, OpenLetter.Status.CLOSED])
def test_draft_or_closed_letter_takes_no_signature(status, cosigner_org, member) -> None:
    letter = OpenLetterFactory(status=status)
    with pytest.raises(services.LetterNotOpen):
        services.letter_cosign(letter=letter, organization=cosigner_org, user=member)
    assert not OrganizationSignature.objects.exists()


def test_published_letter_still_takes_signatures(cosigner_org, member) -> None:
    letter = OpenLetterFactory(status=OpenLetter.Status.PUBLISHED)
    services.letter_cosign(letter=letter, organization=cosigner_org, user=member)
    assert OrganizationSignature.objects.filter(letter=letter).count() == 1


# --- Approval ----------------------------------------------------------------------------------


@pytest.mark.parametrize("decider", ["lead_member", "staff"])
def test_lead_member_or_staff_approves_a_cosignature(request, decider, letter) -> None:
    user = request.getfixturevalue(decider)
    signature = OrganizationSignatureFactory(letter=letter)

    decided = services.cosignature_decide(signature_id=signature.pk, user=user, approve=True)

    assert decided.status == OrganizationSignature.Status.APPROVED
    assert decided.decided_by == user
    assert decided.decided_at is not None


@pytest.mark.parametrize("decider", ["member", "outsider"])
def test_non_lead_member_or_outsider_cannot_decide(request, decider, letter) -> None:
    user = request.getfixturevalue(decider)
    signature = OrganizationSignatureFactory(letter=letter)
    statement = StatementFactory(signature=signature)

    with pytest.raises(PermissionDenied):
        services.cosignature_decide(signature_id=signature.pk, user=user, approve=True)
    with pytest.raises(PermissionDenied):
        services.statement_decide(statement_id=statement.pk, user=user, approve=True)

    signature.refresh_from_db()
    statement.refresh_from_db()
    assert signature.status == OrganizationSignature.Status.PENDING
    assert statement.status == Statement.Status.PENDING


@pytest.mark.parametrize("reason", ["", "   "])
def test_rejecting_needs_a_reason(letter, lead_member, reason) -> None:
    signature = OrganizationSignatureFactory(letter=letter)
    statement = StatementFactory(signature=signature)

    with pytest.raises(ValidationError):
        services.cosignature_decide(
            signature_id=signature.pk, user=lead_member, approve=False, reason=reason
        )
    with pytest.raises(ValidationError):
        services.statement_decide(
            statement_id=statement.pk, user=lead_member, approve=False, reason=reason
        )

    signature.refresh_from_db()
    statement.refresh_from_db()
    assert signature.status == OrganizationSignature.Status.PENDING
    assert statement.status == Statement.Status.PENDING


def test_rejection_keeps_the_reason(letter, lead_member) -> None:
    signature = OrganizationSignatureFactory(letter=letter)
    decided = services.cosignature_decide(
        signature_id=signature.pk, user=lead_member, approve=False, reason="  Not a coalition fit. "
    )
    assert decided.status == OrganizationSignature.Status.REJECTED
    assert decided.rejection_reason == "Not a coalition fit."


def test_deciding_twice_leaves_the_first_decision(letter, lead_member, staff) -> None:
    signature = OrganizationSignatureFactory(letter=letter)
    statement = StatementFactory(signature=signature)
    first = services.cosignature_decide(signature_id=signature.pk, user=lead_member, approve=True)
    services.statement_decide(statement_id=statement.pk, user=lead_member, approve=True)

    second = services.cosignature_decide(
        signature_id=signature.pk, user=staff, approve=False, reason="Changed our mind."
    )
    again = services.statement_decide(
        statement_id=statement.pk, user=staff, approve=False, reason="Changed our mind."
    )

    assert second.status == OrganizationSignature.Status.APPROVED
    assert (second.decided_by, second.decided_at) == (lead_member, first.decided_at)
    assert second.rejection_reason == ""
    assert again.status == Statement.Status.APPROVED
    assert again.rejection_reason == ""


# --- Withdrawal --------------------------------------------------------------------------------


def test_member_withdraws_and_the_row_stays_dated(letter, cosigner_org, member) -> None:
    signature = OrganizationSignatureFactory(
        letter=letter, organization=cosigner_org, approved=True
    )

    withdrawn = services.cosignature_withdraw(signature_id=signature.pk, user=member)

    assert withdrawn.pk == signature.pk
    assert withdrawn.status == OrganizationSignature.Status.WITHDRAWN
    assert withdrawn.withdrawn_at is not None
    assert OrganizationSignature.objects.filter(letter=letter).count() == 1
    assert selectors.letter_organizations_public(letter=letter) == []
    assert selectors.letter_withdrawals(letter=letter) == [withdrawn]


def test_withdrawing_twice_keeps_the_first_date(letter, cosigner_org, member) -> None:
    signature = OrganizationSignatureFactory(
        letter=letter, organization=cosigner_org, approved=True
    )
    first = services.cosignature_withdraw(signature_id=signature.pk, user=member)
    second = services.cosignature_withdraw(signature_id=signature.pk, user=member)
    assert second.withdrawn_at == first.withdrawn_at


@pytest.mark.parametrize("user", ["outsider", "lead_member"])
def test_only_the_organization_can_withdraw_its_signature(
    request, user, letter, cosigner_org
) -> None:
    signature = OrganizationSignatureFactory(
        letter=letter, organization=cosigner_org, approved=True
    )
    with pytest.raises(PermissionDenied):
        services.cosignature_withdraw(signature_id=signature.pk, user=request.getfixturevalue(user))
    signature.refresh_from_db()
    assert signature.status == OrganizationSignature.Status.APPROVED
    assert signature.withdrawn_at is None


@pytest.mark.parametrize(
    "status", [OrganizationSignature.Status.PENDING, OrganizationSignature.Status.REJECTED]
)
def test_signature_that_was_never_public_does_not_enter_the_public_history(
    letter, cosigner_org, member, status
) -> None:
    signature = OrganizationSignatureFactory(
        letter=letter, organization=cosigner_org, status=status
    )
    services.cosignature_withdraw(signature_id=signature.pk, user=member)
    assert selectors.letter_withdrawals(letter=letter) == []


# --- Publication -------------------------------------------------------------------------------


def test_letter_is_published_once_and_each_member_of_an_approved_organization_is_told_once(
    letter, lead_org, lead_member, cosigner_org, member, django_capture_on_commit_callbacks, outbox
) -> None:
    OrganizationSignatureFactory(letter=letter, organization=lead_org, approved=True)
    OrganizationSignatureFactory(letter=letter, organization=cosigner_org, approved=True)
    MembershipFactory(organization=cosigner_org, user=lead_member)  # in two signing organizations
    MembershipFactory(organization=cosigner_org, user__is_active=False)
    for status in ("pending", "rejected"):
        signature = OrganizationSignatureFactory(letter=letter, status=status)
        MembershipFactory(organization=signature.organization)
    withdrawn = OrganizationSignatureFactory(letter=letter, withdrawn=True)
    MembershipFactory(organization=withdrawn.organization)
    elsewhere = OrganizationSignatureFactory(approved=True)  # approved on another letter
    MembershipFactory(organization=elsewhere.organization)
    now = timezone.now() - timedelta(hours=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.letter_publish(letter_id=letter.pk, now=now) is True

    letter.refresh_from_db()
    assert letter.status == OpenLetter.Status.PUBLISHED
    assert letter.published_at == now
    assert _recipients(outbox) == sorted([lead_member.email, member.email])
    assert all(len(message.to) == 1 for message in outbox)
    assert f"/en/letters/{letter.slug}/press/" in outbox[0].body

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.letter_publish(letter_id=letter.pk) is False
    assert callbacks == []
    letter.refresh_from_db()
    assert letter.published_at == now
    assert len(outbox) == 2


def test_closed_letter_is_not_published(outbox) -> None:
    letter = OpenLetterFactory(status=OpenLetter.Status.CLOSED)
    assert services.letter_publish(letter_id=letter.pk) is False
    letter.refresh_from_db()
    assert (letter.status, letter.published_at) == (OpenLetter.Status.CLOSED, None)


# --- Verification ------------------------------------------------------------------------------


def test_unverified_organization_appears_only_once_verified(
    letter, lead_member, django_capture_on_commit_callbacks
) -> None:
    unverified = OrganizationFactory(
        name="New Privacy Group", verification=Organization.Verification.PENDING, verified_at=None
    )
    user = MembershipFactory(organization=unverified).user
    signature = services.letter_cosign(letter=letter, organization=unverified, user=user)
    services.cosignature_decide(signature_id=signature.pk, user=lead_member, approve=True)
    StatementFactory(signature=signature, approved=True)

    assert selectors.letter_organizations_public(letter=letter) == []
    assert selectors.letter_statements_public(letter=letter) == []

    Organization.objects.filter(pk=unverified.pk).update(
        verification=Organization.Verification.VERIFIED, verified_at=timezone.now()
    )

    rows = selectors.letter_organizations_public(letter=letter)
    assert [row.organization.name for row in rows] == ["New Privacy Group"]
    assert len(selectors.letter_statements_public(letter=letter)) == 1


def test_rejected_organization_is_told_the_reason(
    letter, lead_member, cosigner_org, member, django_capture_on_commit_callbacks, outbox
) -> None:
    signature = OrganizationSignatureFactory(letter=letter, organization=cosigner_org)
    with django_capture_on_commit_callbacks(execute=True):
        services.cosignature_decide(
            signature_id=signature.pk, user=lead_member, approve=False, reason="Not our coalition."
        )
    assert [message.to for message in outbox] == [[member.email]]
    assert "Not our coalition." in outbox[0].body


def test_an_organization_staff_rejected_cannot_sign(letter, cosigner_org, member) -> None:
    Organization.objects.filter(pk=cosigner_org.pk).update(
        verification=Organization.Verification.REJECTED, verified_at=None
    )
    cosigner_org.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.letter_cosign(letter=letter, organization=cosigner_org, user=member)
    assert not OrganizationSignature.objects.exists()


def test_staff_without_the_letters_permissions_cannot_sign_or_approve(letter, cosigner_org) -> None:
    plain_staff = UserFactory(email="editor@cosign.test", is_staff=True)
    with pytest.raises(PermissionDenied):
        services.letter_cosign(letter=letter, organization=cosigner_org, user=plain_staff)
    assert not services.user_leads(user=plain_staff, letter=letter)


@pytest.mark.parametrize("role", [Membership.Role.VIEWER, Membership.Role.DATA_STEWARD])
def test_a_viewer_or_data_steward_does_not_act_for_their_organization(
    letter, cosigner_org, lead_org, role, django_capture_on_commit_callbacks, outbox
) -> None:
    """Putting the organization's name on a letter, withdrawing it and approving co-signers as
    a lead are for its administrators and editors; in either organization of the pair."""
    cosigner = MembershipFactory(organization=cosigner_org, role=role).user
    lead = MembershipFactory(organization=lead_org, role=role).user
    for user, organization in ((cosigner, cosigner_org), (lead, lead_org)):
        assert not services.user_may_sign_for(user=user, organization=organization)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
            services.letter_cosign(letter=letter, organization=organization, user=user, **QUOTE)
        form = CosignForm(user=user, action="/")
        assert list(form.organizations) == []
    assert not OrganizationSignature.objects.exists()
    assert outbox == []

    signature = OrganizationSignatureFactory(letter=letter, organization=cosigner_org)
    assert not services.user_leads(user=lead, letter=letter)
    with pytest.raises(PermissionDenied):
        services.cosignature_decide(signature_id=signature.pk, user=lead, approve=True)
    with pytest.raises(PermissionDenied):
        services.cosignature_withdraw(signature_id=signature.pk, user=cosigner)
    signature.refresh_from_db()
    assert signature.status == OrganizationSignature.Status.PENDING


def test_an_editor_acts_for_their_organization_only(letter, cosigner_org, lead_org) -> None:
    editor = MembershipFactory(organization=cosigner_org, role=Membership.Role.EDITOR).user
    lead_editor = MembershipFactory(organization=lead_org, role=Membership.Role.EDITOR).user
    assert list(CosignForm(user=editor, action="/").organizations) == [cosigner_org]
    assert services.user_leads(user=lead_editor, letter=letter)
    assert not services.user_leads(user=editor, letter=letter)
    signature = services.letter_cosign(letter=letter, organization=cosigner_org, user=editor)
    assert signature.organization == cosigner_org
    with pytest.raises(PermissionDenied):
        services.letter_cosign(letter=letter, organization=lead_org, user=editor)
