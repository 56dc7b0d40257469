"""Every public page, on a desktop and on a phone, in both languages where the words differ:
axe-core finds no serious or critical problem, every field has a label. Screenshots of each go to
test-artifacts/screenshots/ for review."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from unittest import mock

import pytest
from django.core import signing
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Membership, Organization, User
from accounts.my_signatures import my_signatures_refs
from accounts.privacy_emails import MY_SIGNATURES_TOKEN_PURPOSE
from letters.models import (
    IndividualSignature,
    LetterUpdate,
    OpenLetter,
    OrganizationSignature,
    Statement,
)
from mechanisms.tokens import token_make
from petitions.emails import confirmation_url, unsubscribe_url
from petitions.models import Petition, PetitionUpdate, Signature, Target
from tests.e2e.helpers import (
    PASSWORD,
    accessibility_violations,
    audit,
    log_in,
    unlabelled_fields,
    visit,
)
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory

pytestmark = pytest.mark.e2e


@dataclass
class Campaigns:
    open: Petition
    closed: Petition
    pending: Signature
    letter: OpenLetter

    @property
    def confirm_path(self) -> str:
        return _path(confirmation_url(signature=self.pending))

    @property
    def unsubscribe_path(self) -> str:
        return _path(unsubscribe_url(signature=self.pending))


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def campaigns(transactional_db) -> Campaigns:
    sponsor = OrganizationFactory(name="Oakland Privacy")
    petition = PetitionFactory(
        title="Cancel the doorbell camera partnership in Oakland",
        signature_count=3,
        demand="End the police partnership with Amazon Ring.",
        body="## Why\n\nNobody **voted** for it.\n\n- no warrant\n- no hearing",
        ask_comment=True,
        offer_sponsor_opt_in=True,
    )
    petition.sponsors.add(sponsor, OrganizationFactory(name="Secure Justice"))
    petition.targets.add(
        Target.objects.create(
            name="Mayor and City Council of Oakland",
            title="Mayor of Oakland",
            level=Target.Level.LOCAL,
            country="US",
            region="CA",
            locality="Oakland",
            email="mayor@example.org",
        )
    )
    PetitionUpdate.objects.create(
        petition=petition,
        title="The council votes on Tuesday",
        body="Come to City Hall.",
        published_at=timezone.now(),
    )
    for display in ("full", "short", "withheld"):
        SignatureFactory(petition=petition, confirmed=True, display=display, counted=True)
    closed = PetitionFactory(
        title="No face recognition in the subway",
        status=Petition.Status.CLOSED,
        outcome="The transit authority **dropped** the plan.",
    )
    closed.sponsors.add(sponsor)
    pending = SignatureFactory(petition=petition, name="Maria Rossi", email="maria@example.org")
    return Campaigns(open=petition, closed=closed, pending=pending, letter=_letter(sponsor))


def _letter(lead: Organization) -> OpenLetter:
    letter = OpenLetter.objects.create(
        slug="end-ring-partnerships",
        title="Investigate and end police partnerships with Amazon Ring",
        summary="Officials should end these deals.",
        body="We, the undersigned, ask you to **end** these partnerships.",
        addressed_to="Local, state and federal officials",
        ask="End the partnerships.",
        status=OpenLetter.Status.PUBLISHED,
        published_at=timezone.now(),
        media_contact_name="Robin Castellanos",
        media_contact_phone="+1 555 0100",
        individuals_may_sign=True,
        names_may_be_withheld=True,
        withheld_label="Employee",
    )
    letter.lead_organizations.add(lead)
    signed = OrganizationSignature.objects.create(
        letter=letter, organization=lead, status=OrganizationSignature.Status.APPROVED
    )
    Statement.objects.create(
        signature=signed,
        speaker_name="Jamie Okafor",
        speaker_title="Deputy Director",
        text="End these deals.",
        status=Statement.Status.APPROVED,
    )
    waiting = OrganizationSignature.objects.create(
        letter=letter, organization=OrganizationFactory(name="Media Alliance")
    )
    Statement.objects.create(
        signature=waiting, speaker_name="Tracy R.", speaker_title="Director", text="Yes."
    )
    IndividualSignature.objects.create(
        letter=letter,
        name="Priya Raman",
        email="priya@example.org",
        canonical_email="priya@example.org",
        withhold_name=True,
        status=IndividualSignature.Status.CONFIRMED,
        confirmed_at=timezone.now(),
    )
    LetterUpdate.objects.create(letter=letter, text="Six more organizations joined.")
    lead_member = User.objects.create_user("lead@example.org", PASSWORD)
    Membership.objects.create(user=lead_member, organization=lead, role=Membership.Role.ADMIN)
    return letter


def _sign_with_errors(page: Page, campaigns: Campaigns) -> None:
    visit(page, campaigns.open.get_absolute_url())
    page.get_by_role("button", name="Sign the petition").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _confirmed(page: Page, campaigns: Campaigns) -> None:
    visit(page, campaigns.confirm_path)
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your signature is confirmed"
    )


def _confirm_after_closing(page: Page, campaigns: Campaigns) -> None:
    visit(page, campaigns.confirm_path)
    Petition.objects.filter(pk=campaigns.open.pk).update(status=Petition.Status.CLOSED)
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This petition closed before you confirmed"
    )


def _expired_link(page: Page, campaigns: Campaigns) -> None:
    eight_days_ago = time.time() - 8 * 24 * 3600
    with mock.patch.object(signing.time, "time", return_value=eight_days_ago):
        path = campaigns.confirm_path
    visit(page, path, status=400)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")


def _new_link_with_errors(page: Page, campaigns: Campaigns) -> None:
    visit(page, f"/en/p/{campaigns.open.slug}/new-link/")
    page.get_by_role("button", name="Email me a new link").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _unsubscribed(page: Page, campaigns: Campaigns) -> None:
    visit(page, campaigns.unsubscribe_path)
    page.get_by_role("button", name="Stop emailing me updates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Updates stopped")


def _draft_preview(page: Page, campaigns: Campaigns) -> None:
    draft = PetitionFactory(title="A campaign being written", status=Petition.Status.DRAFT)
    User.objects.create_superuser("editor@cosign.test", "a-long-password")
    visit(page, "/admin/login/")
    page.get_by_label("Email address").fill("editor@cosign.test")
    page.get_by_label("Password").fill("a-long-password")
    page.get_by_role("button", name="Log in").click()
    visit(page, draft.get_absolute_url())
    expect(page.get_by_text("Preview: this petition is a draft.")).to_be_visible()


def _letter_sign_with_errors(page: Page, campaigns: Campaigns) -> None:
    visit(page, campaigns.letter.get_absolute_url())
    page.get_by_role("button", name="Sign the letter").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _letter_cosign(page: Page, campaigns: Campaigns) -> None:
    visit(page, f"/en/letters/{campaigns.letter.slug}/cosign/")
    log_in(page, "lead@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign for your organization")


def _letter_manage(page: Page, campaigns: Campaigns) -> None:
    visit(page, f"/en/letters/{campaigns.letter.slug}/manage/")
    log_in(page, "lead@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Approve co-signers")


def _organization_join_with_errors(page: Page, campaigns: Campaigns) -> None:
    visit(page, "/en/organizations/join/")
    page.get_by_role("button", name="Register the organization").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _my_organizations(page: Page, campaigns: Campaigns) -> None:
    visit(page, "/en/organizations/")
    log_in(page, "lead@example.org")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def _organization_members(page: Page, campaigns: Campaigns) -> None:
    slug = campaigns.letter.lead_organizations.get().slug
    visit(page, f"/en/organizations/{slug}/members/")
    log_in(page, "lead@example.org")
    expect(page.get_by_role("button", name="Invite")).to_be_visible()


def _my_signatures_path(campaigns: Campaigns, *, suffix: str = "") -> str:
    """The emailed self-service link of the pending signer (Maria Rossi)."""
    refs = my_signatures_refs(canonical_email=campaigns.pending.canonical_email)
    token = token_make(purpose=MY_SIGNATURES_TOKEN_PURPOSE, value=refs)
    return f"/en/my-signatures/{token}/{suffix}"


def _my_signatures_errors(page: Page, campaigns: Campaigns) -> None:
    visit(page, "/en/my-signatures/")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _my_signatures_expired(page: Page, campaigns: Campaigns) -> None:
    two_days_ago = time.time() - 48 * 3600
    with mock.patch.object(signing.time, "time", return_value=two_days_ago):
        path = _my_signatures_path(campaigns)
    visit(page, path, status=400)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")


def _go(path: Callable[[Campaigns], str], *, status: int = 200):
    return lambda page, campaigns: visit(page, path(campaigns), status=status)


PAGES: dict[str, Callable[[Page, Campaigns], object]] = {
    "catalog": _go(lambda c: "/en/"),
    "catalog-italian": _go(lambda c: "/it/"),
    "catalog-filtered": _go(lambda c: "/en/?q=subway&status=closed"),
    "catalog-no-match": _go(lambda c: "/en/?q=zeppelin"),
    "catalog-bad-filter": _go(lambda c: "/en/?topic=astrology", status=400),
    "petition": _go(lambda c: c.open.get_absolute_url()),
    "petition-italian": _go(lambda c: f"/it/p/{c.open.slug}/"),
    "petition-closed": _go(lambda c: c.closed.get_absolute_url()),
    "petition-embed": _go(lambda c: f"/en/p/{c.open.slug}/embed/"),
    "petition-embed-closed": _go(lambda c: f"/en/p/{c.closed.slug}/embed/"),
    "sign-form-errors": _sign_with_errors,
    "check-inbox": _go(lambda c: f"/en/p/{c.open.slug}/check-your-inbox/"),
    "confirm": _go(lambda c: c.confirm_path),
    "confirmed": _confirmed,
    "confirm-after-closing": _confirm_after_closing,
    "link-broken": _go(lambda c: f"/en/p/{c.open.slug}/confirm/not-a-token/", status=400),
    "link-expired": _expired_link,
    "new-link": _go(lambda c: f"/en/p/{c.open.slug}/new-link/"),
    "new-link-errors": _new_link_with_errors,
    "unsubscribe": _go(lambda c: c.unsubscribe_path),
    "unsubscribed": _unsubscribed,
    "unsubscribe-broken": _go(lambda c: f"/en/p/{c.open.slug}/unsubscribe/nope/", status=400),
    "draft-preview": _draft_preview,
    "letter": _go(lambda c: c.letter.get_absolute_url()),
    "letter-sign-errors": _letter_sign_with_errors,
    "letter-press": _go(lambda c: f"/en/letters/{c.letter.slug}/press/"),
    "letter-check-inbox": _go(lambda c: f"/en/letters/{c.letter.slug}/check-your-inbox/"),
    "letter-cosign": _letter_cosign,
    "letter-manage": _letter_manage,
    "organization-join": _go(lambda c: "/en/organizations/join/"),
    "organization-join-errors": _organization_join_with_errors,
    "login": _go(lambda c: "/en/accounts/login/"),
    "my-organizations": _my_organizations,
    "organization-members": _organization_members,
    "not-found": _go(lambda c: "/en/p/no-such-campaign/", status=404),
    "form-only-address": _go(lambda c: f"/en/p/{c.open.slug}/sign/", status=405),
    "privacy": _go(lambda c: "/en/privacy/"),
    "privacy-italian": _go(lambda c: "/it/privacy/"),
    "my-signatures": _go(lambda c: "/en/my-signatures/"),
    "my-signatures-errors": _my_signatures_errors,
    "my-signatures-sent": _go(lambda c: "/en/my-signatures/sent/"),
    "my-signatures-list": _go(_my_signatures_path),
    "my-signatures-withdraw": _go(lambda c: _my_signatures_path(c, suffix="withdraw/?all=1")),
    "my-signatures-expired": _my_signatures_expired,
    "my-signatures-broken": _go(lambda c: "/en/my-signatures/not-a-token/", status=400),
}


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_public_page_is_accessible(browse, campaigns, name, device) -> None:
    page = browse(device=device)
    PAGES[name](page, campaigns)
    audit(page, name)


def test_the_checks_catch_a_field_without_a_label(browse, campaigns) -> None:
    """The audit above can fail: a page with an unlabelled field and text too faint to read."""
    page = browse()
    visit(page, campaigns.open.get_absolute_url())
    page.evaluate("""() => {
        document.querySelector("label[for=id_name]").remove();
        document.querySelector("h1").style.color = "#eee";
    }""")
    found = accessibility_violations(page)
    assert any(line.startswith("label (critical)") for line in found), found
    assert any(line.startswith("color-contrast (serious)") for line in found), found
    assert unlabelled_fields(page) == [page.locator("#id_name").evaluate("e => e.outerHTML")[:120]]
