"""Every page a visitor or a signer (a supporter without an account) sees, error pages included,
on a desktop and on a phone, in English and in Italian: axe-core finds no serious or critical
problem, every field has a label, and the page says which language it is in. Screenshots of
each go to test-artifacts/screenshots/ for review.

Pages of an organization's members (the workspace) are audited in test_accessibility_workspace.py;
the letter's co-sign and approval pages stay here, beside the letter's public pages."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar
from unittest import mock

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Route, expect

from accounts.models import Membership, Organization, User
from accounts.my_signatures import my_signatures_refs
from accounts.organization_emails import contact_confirmation_url
from accounts.privacy_emails import MY_SIGNATURES_TOKEN_PURPOSE
from letters.drafting import LETTER
from letters.emails import confirmation_url as letter_confirmation_url
from letters.models import (
    IndividualSignature,
    LetterUpdate,
    OpenLetter,
    OrganizationSignature,
    Statement,
)
from mechanisms.images import image_prepare, image_store
from mechanisms.tokens import token_make
from petitions.drafting.petition_kind import PETITION
from petitions.emails import confirmation_url, unsubscribe_url
from petitions.models import (
    Delivery,
    Petition,
    PetitionUpdate,
    Question,
    QuestionKind,
    Response,
    Signature,
    Target,
    Threshold,
    ThresholdRequest,
)
from petitions.services.questions import questions_publish
from petitions.thresholds import emails
from tests.admission import signing_saturated
from tests.e2e.helpers import (
    PASSWORD,
    accessibility_violations,
    audit,
    unlabelled_fields,
    visit,
)
from tests.factories import (
    IndividualSignatureFactory,
    OrganizationFactory,
    PendingOrganizationFactory,
    PetitionFactory,
    SignatureFactory,
    TargetFactory,
    UnconfirmedOrganizationFactory,
    signatures_confirmed_from,
)
from tests.images import fresh_media, photo_bytes, upload  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

T = TypeVar("T")


@dataclass
class Campaigns:
    open: Petition
    closed: Petition
    pending: Signature
    letter: OpenLetter
    # What some pages make at their first visit, for the three that follow (`_once`).
    made: dict[str, Any] = field(default_factory=dict)

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


# --- One visit: a page, in one language, on one device -------------------------------------------


@dataclass
class Visit:
    """What a page function needs: the browser's page, the campaigns, and the language it reads
    the site in ("en" or "it"), whose words it clicks."""

    page: Page
    campaigns: Campaigns
    language: str

    def at(self, path: str) -> str:
        """The path in this visit's language: "/en/p/x/" (or any language prefix) as "/it/p/x/"."""
        return _LANGUAGE_PREFIX.sub(f"/{self.language}/", _path(path) if "://" in path else path)

    def go(self, path: str, *, status: int = 200) -> None:
        visit(self.page, self.at(path), status=status)

    def words(self, english: str) -> str:
        """What the site says for `english` in this visit's language."""
        with translation.override(self.language):
            return gettext(english)

    def press(self, button: str) -> None:
        self.page.get_by_role("button", name=self.words(button), exact=True).click()

    def heading_is(self, english: str) -> None:
        heading = self.page.get_by_role("heading", level=1)
        expect(heading).to_have_text(self.words(english), timeout=WAIT)

    def errors_shown(self) -> None:
        expect(self.page.get_by_role("alert").first).to_be_visible(timeout=WAIT)

    def log_in(self, email: str) -> None:
        """The members' login form the page was sent to, filled by its fields' ids."""
        self.page.locator("#id_username").fill(email)
        self.page.locator("#id_password").fill(PASSWORD)
        self.press("Log in")


_LANGUAGE_PREFIX = re.compile(r"^/(en|it)/")
# As long as the browser context waits for a page (conftest): a busy CI machine answers a form
# slowly, and expect's own 5 seconds once failed a page here that was only late.
WAIT = 15_000


def _once(campaigns: Campaigns, key: str, make: Callable[[], T]) -> T:
    """Something a page needs, made at its first visit and shared by the other three: they run
    against the same database."""
    if key not in campaigns.made:
        campaigns.made[key] = make()
    return campaigns.made[key]


def _go(path: Callable[[Campaigns], str], *, status: int = 200) -> Callable[[Visit], None]:
    return lambda v: v.go(path(v.campaigns), status=status)


# --- Signing a petition ------------------------------------------------------------------------


def _sign_with_errors(v: Visit) -> None:
    v.go(v.campaigns.open.get_absolute_url())
    v.press("Sign the petition")
    v.errors_shown()


def _pending(v: Visit) -> Signature:
    """A signature waiting for its confirmation: a new one per visit, as confirming spends it."""
    return SignatureFactory(petition=v.campaigns.open, name="Maria Rossi", language=v.language)


def _confirmed(v: Visit) -> None:
    v.go(confirmation_url(signature=_pending(v)))
    v.press("Confirm my signature")
    v.heading_is("Thank you, your signature is confirmed")


def _confirm_after_closing(v: Visit) -> None:
    petition = v.campaigns.open
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.OPEN)
    v.go(confirmation_url(signature=_pending(v)))
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.CLOSED)
    try:
        v.press("Confirm my signature")
        v.heading_is("This petition closed before you confirmed")
    finally:
        Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.OPEN)


def _expired_link(v: Visit) -> None:
    eight_days_ago = time.time() - 8 * 24 * 3600
    with mock.patch.object(signing.time, "time", return_value=eight_days_ago):
        path = v.campaigns.confirm_path
    v.go(path, status=400)
    v.heading_is("This link has expired")


def _new_link_with_errors(v: Visit) -> None:
    v.go(f"/en/p/{v.campaigns.open.slug}/new-link/")
    v.press("Email me a new link")
    v.errors_shown()


def _unsubscribed(v: Visit) -> None:
    v.go(unsubscribe_url(signature=_pending(v)))
    v.press("Stop emailing me updates")
    v.heading_is("Updates stopped")


def _sign_while_busy(v: Visit) -> None:
    """The page a signer gets when every sign slot is taken (mechanisms.admission): 503."""
    v.go(v.campaigns.open.get_absolute_url())
    form = v.page.locator("#sign form")
    form.locator("#id_name").fill("Maria Rossi")
    form.locator("#id_email").fill("maria.busy@example.org")
    form.locator("input[name=display]").first.check()
    with signing_saturated(), v.page.expect_response(lambda r: r.request.method == "POST") as sent:
        v.press("Sign the petition")
        assert sent.value.status == 503
        v.heading_is("So many people are signing right now")


def _draft_preview(v: Visit) -> None:
    def make() -> Petition:
        User.objects.create_superuser("editor@cosign.test", "a-long-password")
        return PetitionFactory(title="A campaign being written", status=Petition.Status.DRAFT)

    draft = _once(v.campaigns, "draft", make)
    # The admin has no language prefix: its login form is in the browser's language, English.
    visit(v.page, "/admin/login/")
    v.page.get_by_label("Email address").fill("editor@cosign.test")
    v.page.get_by_label("Password").fill("a-long-password")
    v.page.get_by_role("button", name="Log in").click()
    v.go(draft.get_absolute_url())
    preview = (
        "Preview: this petition is a draft. Only staff can see this page, and it takes no "
        "signatures."
    )
    expect(v.page.get_by_role("status").first).to_have_text(v.words(preview), timeout=WAIT)


# --- A petition with everything its page can show -----------------------------------------------

QUESTIONS: list[dict[str, object]] = [
    {
        "kind": QuestionKind.SINGLE,
        "label_en": "How do you get to work?",
        "label_it": "Come vai al lavoro?",
        "choices_en": "Bus\nBike\nCar",
        "choices_it": "Autobus\nBici\nAuto",
        "required": True,
    },
    {"kind": QuestionKind.YES_NO, "label_en": "Do you live in the city?", "required": True},
    {"kind": QuestionKind.NUMBER, "label_en": "Cameras on your street", "min_value": 0},
    {"kind": QuestionKind.TEXT, "label_en": "Your street", "max_length": 40},
    {"kind": QuestionKind.MULTIPLE, "label_en": "What worries you?", "choices_en": "Faces\nPlates"},
]


def _ask(owner: dict[str, object], kind: object, campaign_id: int) -> None:
    for position, spec in enumerate(QUESTIONS):
        Question.objects.create(
            key=f"q{position}x{campaign_id}", position=position, **owner, **spec
        )
    questions_publish(kind=kind, campaign_id=campaign_id)


def _full_petition(campaigns: Campaigns) -> Petition:
    """A petition showing all its page can: an image, the chart and maps of where signatures
    come from, thresholds reached and awaited, a response, a delivery, an update, an open letter
    it belongs to, and sign-form questions of every kind."""
    image = image_store(prepared=image_prepare(upload=upload(photo_bytes((1200, 800)))))
    petition = PetitionFactory(
        title="No face recognition on Oakland's buses",
        demand="Ban face recognition on buses.",
        image=image,
        image_alt_en="Riders wait at a bus stop under a camera",
        image_alt_it="Passeggeri aspettano alla fermata sotto una telecamera",
    )
    target = TargetFactory(title="Mayor of Oakland", email="mayor@example.org")
    petition.targets.add(target)
    signed = [("US", "CA", 12, 4), ("US", "NY", 6, 2), ("FR", "", 5, 1), ("IT", "", 5, 0)]
    signatures_confirmed_from(petition=petition, places=signed)
    Threshold.objects.create(petition=petition, count=20, days_to_respond=21)
    Threshold.objects.create(petition=petition, count=100, days_to_respond=30)
    _threshold_request(petition, target, count=20)
    update = PetitionUpdate.objects.create(
        petition=petition, title="The mayor answered", body="Read it.", published_at=timezone.now()
    )
    Response.objects.create(
        petition=petition, target=target, text="We will **study** it.", update=update
    )
    Delivery.objects.create(
        petition=petition,
        target=target,
        period="goal-25",
        total_count=25,
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
    )
    OpenLetter.objects.filter(pk=campaigns.letter.pk).update(related_petition=petition)
    _ask({"petition": petition}, PETITION, petition.pk)
    return Petition.objects.get(pk=petition.pk)


def _full_petition_page(v: Visit) -> None:
    petition = _once(v.campaigns, "full", lambda: _full_petition(v.campaigns))
    v.go(petition.get_absolute_url())
    expect(v.page.locator("#pictures")).to_be_visible(timeout=WAIT)
    # What is folded away is read too: the numbers under each picture, the embed code.
    v.page.evaluate("() => document.querySelectorAll('details').forEach((d) => d.open = true)")


def _questions_with_errors(v: Visit) -> None:
    petition = _once(v.campaigns, "full", lambda: _full_petition(v.campaigns))
    v.go(petition.get_absolute_url())
    v.press("Sign the petition")
    v.errors_shown()


# --- A target's answer through its link (petitions.thresholds) ------------------------------------


def _threshold_request(petition: Petition, target: Target, *, count: int) -> str:
    """A target asked to respond at `count` signatures; the path of their answer link."""
    fields = emails.link_fields()
    request = ThresholdRequest.objects.create(
        petition=petition,
        target=target,
        count=count,
        days_to_respond=21,
        reached_at=timezone.now(),
        signatures_at_reach=count,
        notice=ThresholdRequest.Notice.ASKED,
        asked_at=timezone.now(),
        due_at=timezone.now() + timedelta(days=21),
        link_expires_at=timezone.now() + timedelta(days=35),
        **fields,
    )
    return _path(emails.answer_url(request=request, language="en"))


_asked = itertools.count(1000)


def _answer_link(v: Visit, **changes: object) -> str:
    """A new request per visit: answering one changes what its link shows."""
    petition = v.campaigns.open
    target = petition.targets.get()
    path = _threshold_request(petition, target, count=next(_asked))
    if changes:
        newest = ThresholdRequest.objects.filter(petition=petition).latest("pk")
        ThresholdRequest.objects.filter(pk=newest.pk).update(**changes)
    return path


def _threshold_answer(v: Visit) -> None:
    v.go(_answer_link(v))


def _threshold_answer_preview(v: Visit) -> None:
    v.go(_answer_link(v))
    v.page.locator("#id_answer").fill("The council will vote on **Monday**.")
    v.press("Preview")
    expect(v.page.locator(".campaign-text strong")).to_have_text("Monday", timeout=WAIT)


def _threshold_answer_sent(v: Visit) -> None:
    v.go(_answer_link(v))
    v.page.locator("#id_answer").fill("The council will vote on Monday.")
    v.press("Send my answer")
    expect(v.page.locator("#answer-received")).to_be_visible(timeout=WAIT)


def _threshold_answer_errors(v: Visit) -> None:
    v.go(_answer_link(v))
    v.page.locator("#id_answer").fill("")
    v.press("Send my answer")
    v.errors_shown()


def _threshold_link_expired(v: Visit) -> None:
    yesterday = timezone.now() - timedelta(days=1)
    v.go(_answer_link(v, link_expires_at=yesterday), status=410)


# --- Letters ---------------------------------------------------------------------------------


def _letter_sign_with_errors(v: Visit) -> None:
    v.go(v.campaigns.letter.get_absolute_url())
    v.press("Sign the letter")
    v.errors_shown()


def _letter_questions_with_errors(v: Visit) -> None:
    letter = v.campaigns.letter
    _once(v.campaigns, "letter-questions", lambda: _ask({"letter": letter}, LETTER, letter.pk))
    v.go(letter.get_absolute_url())
    expect(v.page.get_by_text("Cameras on your street")).to_be_visible(timeout=WAIT)
    v.press("Sign the letter")
    v.errors_shown()


def _letter_pending(v: Visit) -> IndividualSignature:
    return IndividualSignatureFactory(letter=v.campaigns.letter, language=v.language)


def _letter_confirm(v: Visit) -> None:
    v.go(letter_confirmation_url(signature=_letter_pending(v)))
    v.heading_is("Confirm your signature")


def _letter_confirmed(v: Visit) -> None:
    v.go(letter_confirmation_url(signature=_letter_pending(v)))
    v.press("Confirm my signature")
    v.heading_is("Thank you, your signature is confirmed")


def _letter_cosign(v: Visit) -> None:
    v.go(f"/en/letters/{v.campaigns.letter.slug}/cosign/")
    v.log_in("lead@example.org")
    v.heading_is("Sign for your organization")


def _letter_manage(v: Visit) -> None:
    v.go(f"/en/letters/{v.campaigns.letter.slug}/manage/")
    v.log_in("lead@example.org")
    v.heading_is("Approve co-signers")


# --- Organizations and accounts ----------------------------------------------------------------


def _organization_join_with_errors(v: Visit) -> None:
    v.go("/en/organizations/join/")
    v.press("Register the organization")
    v.errors_shown()


_domains = itertools.count(1)


def _unconfirmed(domain: str | None = None) -> Organization:
    return UnconfirmedOrganizationFactory(email_domain=domain or f"group{next(_domains)}.example")


def _organization_confirm(v: Visit) -> None:
    organization = _once(v.campaigns, "unconfirmed", _unconfirmed)
    v.go(contact_confirmation_url(organization=organization))
    v.heading_is("Confirm your address")


def _organization_confirmed(v: Visit) -> None:
    v.go(contact_confirmation_url(organization=_unconfirmed()))
    v.page.locator("main form [type=submit]").click()
    expect(v.page.locator("main form")).to_have_count(0, timeout=WAIT)


def _organization_taken(v: Visit) -> None:
    """Confirming after another organization of the same domain registered: 409."""
    mine = _unconfirmed()
    PendingOrganizationFactory(name="The other one", email_domain=mine.email_domain)
    v.go(contact_confirmation_url(organization=mine))
    with v.page.expect_response(lambda r: r.request.method == "POST") as sent:
        v.page.locator("main form [type=submit]").click()
    assert sent.value.status == 409


def _my_organizations(v: Visit) -> None:
    v.go("/en/organizations/")
    v.log_in("lead@example.org")
    expect(v.page.get_by_role("heading", level=1)).to_be_visible(timeout=WAIT)


def _organization_members(v: Visit) -> None:
    slug = v.campaigns.letter.lead_organizations.get().slug
    v.go(f"/en/organizations/{slug}/members/")
    v.log_in("lead@example.org")
    expect(v.page.get_by_role("button", name=v.words("Invite"))).to_be_visible(timeout=WAIT)


def _login_with_errors(v: Visit) -> None:
    v.go("/en/accounts/login/")
    v.page.locator("#id_username").fill("lead@example.org")
    v.page.locator("#id_password").fill("not the password")
    v.press("Log in")
    v.errors_shown()


def _password_link_with_errors(v: Visit) -> None:
    v.go("/en/accounts/password/")
    v.page.locator("main form [type=submit]").click()
    v.errors_shown()


def _password_set_path(campaigns: Campaigns) -> str:
    user = User.objects.get(email="lead@example.org")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/en/accounts/set-password/{uid}/{default_token_generator.make_token(user)}/"


def _password_set(v: Visit) -> None:
    v.go(_password_set_path(v.campaigns))
    expect(v.page.locator("#id_new_password1")).to_be_visible(timeout=WAIT)


def _password_set_with_errors(v: Visit) -> None:
    v.go(_password_set_path(v.campaigns))
    v.page.locator("#id_new_password1").fill("short")
    v.page.locator("#id_new_password2").fill("other")
    v.press("Set my password")
    v.errors_shown()


def _my_signatures_path(campaigns: Campaigns, *, suffix: str = "") -> str:
    """The emailed self-service link of the pending signer (Maria Rossi)."""
    refs = my_signatures_refs(canonical_email=campaigns.pending.canonical_email)
    token = token_make(purpose=MY_SIGNATURES_TOKEN_PURPOSE, value=refs)
    return f"/en/my-signatures/{token}/{suffix}"


def _my_signatures_errors(v: Visit) -> None:
    v.go("/en/my-signatures/")
    v.press("Email me a link")
    v.errors_shown()


def _my_signatures_expired(v: Visit) -> None:
    two_days_ago = time.time() - 48 * 3600
    with mock.patch.object(signing.time, "time", return_value=two_days_ago):
        path = _my_signatures_path(v.campaigns)
    v.go(path, status=400)
    v.heading_is("This link has expired")


# --- Error pages -------------------------------------------------------------------------------


def _bad_request(v: Visit) -> None:
    """Django's own 400 (templates/400.html), for a request it finds suspicious."""
    with mock.patch("config.views.petition_catalog", side_effect=SuspiciousOperation):
        v.go("/en/", status=400)


def _forbidden(v: Visit) -> None:
    """A viewer of an organization opens its API tokens, which only administrators manage."""
    slug = v.campaigns.letter.lead_organizations.get().slug
    _once(v.campaigns, "viewer", lambda: _member("viewer@example.org", Membership.Role.VIEWER))
    path = f"/{v.language}/organizations/{slug}/api-tokens/"
    v.go(path)
    with v.page.expect_response(
        lambda r: r.url.endswith(path) and r.request.method == "GET"
    ) as got:
        v.log_in("viewer@example.org")
    assert got.value.status == 403


def _member(email: str, role: str) -> User:
    user = User.objects.create_user(email, PASSWORD)
    organization = Organization.objects.get(name="Oakland Privacy")
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


def _csrf_failure(v: Visit) -> None:
    """A form sent without the cookie that proves it came from our page (blocked, or expired)."""
    v.go("/en/my-signatures/")
    v.page.context.clear_cookies(name="csrftoken")
    v.page.locator("#id_email").fill("maria@example.org")
    with v.page.expect_response(lambda r: r.request.method == "POST") as sent:
        v.press("Email me a link")
    assert sent.value.status == 403
    v.heading_is("Please send the form again")


def _server_error(v: Visit) -> None:
    """templates/500.html, from a view that fails inside the live server (same process). The
    watch fails a test on any 500 it sees, so the answer is checked here and handed to the
    browser as a 200: the page audited is the very one the server sent."""
    statuses: list[int] = []

    def relay(route: Route) -> None:
        answer = route.fetch()
        statuses.append(answer.status)
        route.fulfill(response=answer, status=200)

    v.page.route(re.compile(r"/(en|it)/$"), relay)
    with mock.patch("config.views.petition_catalog", side_effect=RuntimeError("broken")):
        v.go("/en/")
    v.page.unroute_all()
    assert statuses == [500], statuses
    v.heading_is("Something went wrong on our side")


PAGES: dict[str, Callable[[Visit], object]] = {
    "catalog": _go(lambda c: "/en/"),
    "catalog-filtered": _go(lambda c: "/en/?q=subway&status=closed"),
    "catalog-no-match": _go(lambda c: "/en/?q=zeppelin"),
    "catalog-bad-filter": _go(lambda c: "/en/?topic=astrology", status=400),
    "petition": _go(lambda c: c.open.get_absolute_url()),
    "petition-from-sponsor": _go(lambda c: f"/en/p/{c.open.slug}/from/oakland-privacy/"),
    "petition-closed": _go(lambda c: c.closed.get_absolute_url()),
    "petition-everything": _full_petition_page,
    "petition-embed": _go(lambda c: f"/en/p/{c.open.slug}/embed/"),
    "petition-embed-closed": _go(lambda c: f"/en/p/{c.closed.slug}/embed/"),
    "sign-form-errors": _sign_with_errors,
    "sign-questions-errors": _questions_with_errors,
    "sign-busy": _sign_while_busy,
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
    "threshold-answer": _threshold_answer,
    "threshold-answer-preview": _threshold_answer_preview,
    "threshold-answer-errors": _threshold_answer_errors,
    "threshold-answer-sent": _threshold_answer_sent,
    "threshold-link-broken": _go(lambda c: f"/en/p/{c.open.slug}/respond/nope/", status=404),
    "threshold-link-expired": _threshold_link_expired,
    "letter": _go(lambda c: c.letter.get_absolute_url()),
    "letter-sign-errors": _letter_sign_with_errors,
    "letter-questions-errors": _letter_questions_with_errors,
    "letter-check-inbox": _go(lambda c: f"/en/letters/{c.letter.slug}/check-your-inbox/"),
    "letter-confirm": _letter_confirm,
    "letter-confirmed": _letter_confirmed,
    "letter-link-broken": _go(lambda c: f"/en/letters/{c.letter.slug}/confirm/nope/", status=400),
    "letter-press": _go(lambda c: f"/en/letters/{c.letter.slug}/press/"),
    "letter-cosign": _letter_cosign,
    "letter-manage": _letter_manage,
    "organization-join": _go(lambda c: "/en/organizations/join/"),
    "organization-join-errors": _organization_join_with_errors,
    "organization-check-inbox": _go(lambda c: "/en/organizations/join/check-your-inbox/"),
    "organization-confirm": _organization_confirm,
    "organization-confirmed": _organization_confirmed,
    "organization-link-broken": _go(lambda c: "/en/organizations/confirm/nope/", status=400),
    "organization-taken": _organization_taken,
    "login": _go(lambda c: "/en/accounts/login/"),
    "login-errors": _login_with_errors,
    "password-link": _go(lambda c: "/en/accounts/password/"),
    "password-link-errors": _password_link_with_errors,
    "password-link-sent": _go(lambda c: "/en/accounts/password/sent/"),
    "password-set": _password_set,
    "password-set-errors": _password_set_with_errors,
    "password-set-broken": _go(lambda c: "/en/accounts/set-password/MQ/nope/", status=400),
    "password-set-done": _go(lambda c: "/en/accounts/set-password/done/"),
    "my-organizations": _my_organizations,
    "organization-members": _organization_members,
    "privacy": _go(lambda c: "/en/privacy/"),
    "my-signatures": _go(lambda c: "/en/my-signatures/"),
    "my-signatures-errors": _my_signatures_errors,
    "my-signatures-sent": _go(lambda c: "/en/my-signatures/sent/"),
    "my-signatures-list": _go(_my_signatures_path),
    "my-signatures-withdraw": _go(lambda c: _my_signatures_path(c, suffix="withdraw/?all=1")),
    "my-signatures-expired": _my_signatures_expired,
    "my-signatures-broken": _go(lambda c: "/en/my-signatures/not-a-token/", status=400),
    "error-400": _bad_request,
    "error-403": _forbidden,
    "error-403-csrf": _csrf_failure,
    "error-404": _go(lambda c: "/en/p/no-such-campaign/", status=404),
    "error-405": _go(lambda c: f"/en/p/{c.open.slug}/sign/", status=405),
    "error-500": _server_error,
}

# Each page four times, against one database (building the campaigns costs the most).
COMBINATIONS = [(language, device) for language in ("en", "it") for device in ("desktop", "phone")]


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.usefixtures("fresh_media")
def test_public_page_is_accessible(browse, campaigns, name) -> None:
    failed = []
    for language, device in COMBINATIONS:
        page = browse(device=device)
        try:
            PAGES[name](Visit(page, campaigns, language))
            # The page really is in that language, as a screen reader is told to read it.
            expect(page.locator("html")).to_have_attribute("lang", language)
            audit(page, f"{name}-{language}")
        except (AssertionError, PlaywrightError) as error:
            failed.append(f"{name}, {language}, {device}: {error}")
    assert not failed, "\n\n".join(failed)


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
