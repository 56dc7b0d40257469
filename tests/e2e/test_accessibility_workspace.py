"""Every page organization members and staff use, on a desktop and on a phone, in English and in
Italian: axe-core finds no serious or critical problem (and, on our own pages, every field has a
label). The workspace (organizations, members, API tokens, webhooks, dashboards, supporters,
drafting, paper signatures), the second factor, the API's documentation, and the admin pages
staff use every day, with the forms' error states, where problems hide.

One test per group of pages: each builds its database once and opens the group's pages in four
browsers (desktop and phone, English and Italian), each logged in once. All the findings of a
group are gathered before the test fails, each named by page, device and language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from accounts.models import (
    ApiToken,
    Membership,
    Organization,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from accounts.roles import MODERATOR
from letters.drafting import LETTER
from letters.models import OpenLetter
from petitions.drafting import services as drafting
from petitions.drafting.petition_kind import PETITION
from petitions.models import (
    ConsentWording,
    PaperBatch,
    Petition,
    Question,
    Signature,
    SponsorOptIn,
    Threshold,
)
from petitions.services import paper
from tests.conftest import staff_in_role
from tests.e2e.helpers import (
    PASSWORD,
    accessibility_violations,
    audit,
    screenshot,
    unlabelled_fields,
    visit,
)
from tests.factories import (
    IndividualSignatureFactory,
    OpenLetterFactory,
    OrganizationFactory,
    OrganizationSignatureFactory,
    PendingOrganizationFactory,
    PetitionFactory,
    SignatureFactory,
    StatementFactory,
    TargetFactory,
)

pytestmark = pytest.mark.e2e

DEVICES = ("desktop", "phone")
LANGUAGES = ("en", "it")
ADMIN = "tracy@oaklandprivacy.example"
STAFF = "staff@cosign.example"
MODERATOR_EMAIL = "moderator@cosign.example"
ERRORS = ".invalid-feedback, .errorlist, .alert-danger, .errornote"


@dataclass
class World:
    organization: Organization
    admin: User
    staff: User
    moderator: User
    petition: Petition
    draft: Petition
    submitted: Petition
    letter: OpenLetter
    letter_draft: OpenLetter
    batch: PaperBatch
    question: Question
    signature: Signature
    pending_organization: Organization

    @property
    def org(self) -> str:
        return self.organization.slug


@pytest.fixture
def world(transactional_db, settings) -> World:
    # The second factor has its own pages below and its own journey (test_two_factor_journey).
    settings.STAFF_REQUIRE_2FA = False
    organization = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    admin = User.objects.create_user(ADMIN, PASSWORD, full_name="Tracy Rosenberg")
    Membership.objects.create(user=admin, organization=organization, role=Membership.Role.ADMIN)
    colleague = User.objects.create_user("lia@oaklandprivacy.example", PASSWORD, full_name="Lia")
    Membership.objects.create(
        user=colleague, organization=organization, role=Membership.Role.EDITOR
    )
    staff = User.objects.create_superuser(STAFF, PASSWORD)
    moderator = staff_in_role(MODERATOR, MODERATOR_EMAIL)

    target = TargetFactory()
    petition = PetitionFactory(
        title="End the Ring partnership in Oakland",
        demand="End the partnership.",
        organization=organization,
        review="approved",
        targets=[target],
        offer_sponsor_opt_in=True,
    )
    petition.sponsors.add(organization)
    wording = ConsentWording.objects.create(
        text="Oakland Privacy may email me", language="en", digest="x"
    )
    signature = SignatureFactory(
        petition=petition, name="Rosa Parks", confirmed=True, counted=True, display="full"
    )
    SponsorOptIn.objects.create(signature=signature, organization=organization, wording=wording)
    SignatureFactory(petition=petition, name="Held Spam", held=True, flags="ip_burst")
    Threshold.objects.create(petition=petition, target=target, count=100, days_to_respond=21)
    batch = paper.paper_batch_create(
        petition=petition, organization=organization, user=admin, sheet_reference="Stall 1"
    )
    paper.paper_row_add(
        batch=batch,
        row=paper.PaperRow(sheet=1, line=1, name="Anna Rossi", postal_code="94612", country="US"),
    )

    draft = drafting.draft_create(
        kind=PETITION,
        campaign=Petition(
            title_en="No face recognition on buses",
            summary_en="Transit cameras should not identify riders.",
            demand_en="Ban face recognition on buses.",
            addressed_to_en="AC Transit's board",
            body_en="Riders are **not** suspects.",
            language="en",
        ),
        organization=organization,
        user=admin,
    )
    draft.body_en = "Riders are **not** suspects.\n\n- no warrant"
    drafting.draft_save(kind=PETITION, campaign=draft, organization=organization, user=admin)
    question = Question.objects.create(
        petition=draft, key="qstreet", kind="text", label_en="Your street"
    )
    submitted = drafting.draft_create(
        kind=PETITION,
        campaign=Petition(
            title_en="Stop the drones over Oakland",
            summary_en="Police drones watch backyards.",
            demand_en="Ground the drones.",
            addressed_to_en="Oakland City Council",
            body_en="Nobody voted for them.",
            language="en",
        ),
        organization=organization,
        user=admin,
    )
    drafting.draft_submit(
        kind=PETITION, campaign_id=submitted.pk, organization=organization, user=admin
    )
    submitted.refresh_from_db()

    letter = OpenLetterFactory(
        title="End the doorbell camera partnerships",
        leads=[organization],
        individuals_may_sign=True,
        published_at=timezone.now(),
    )
    approved = OrganizationSignatureFactory(letter=letter, organization=organization, approved=True)
    StatementFactory(signature=approved, approved=True)
    waiting = OrganizationSignatureFactory(
        letter=letter, organization=OrganizationFactory(name="Media Alliance")
    )
    StatementFactory(signature=waiting)
    IndividualSignatureFactory(letter=letter, name="Priya Raman", confirmed=True)
    letter_draft = drafting.draft_create(
        kind=LETTER,
        campaign=OpenLetter(
            title_en="Stop selling face search to police",
            summary_en="Face search companies sell our photos to police.",
            body_en="We ask you to stop.",
            addressed_to_en="Face search companies",
            ask_en="Stop selling face search to police.",
        ),
        organization=organization,
        user=admin,
    )

    ApiToken.objects.create(
        organization=organization,
        name="Our CRM",
        scope=ApiToken.Scope.READ_CAMPAIGNS,
        prefix="abc123",
        digest="0" * 64,
        created_by=admin,
    )
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url="https://crm.oaklandprivacy.example/hook",
        events=[WebhookEndpoint.Event.SIGNATURE_CONFIRMED],
        secret="whsec_test",
        created_by=admin,
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=WebhookEndpoint.Event.SIGNATURE_CONFIRMED,
        message_id="msg_1",
        payload={"type": "signature.confirmed"},
        state=WebhookDelivery.State.SENT,
        attempts=1,
        last_status=200,
        sent_at=timezone.now() - timedelta(minutes=5),
    )
    return World(
        organization=organization,
        admin=admin,
        staff=staff,
        moderator=moderator,
        petition=petition,
        draft=draft,
        submitted=submitted,
        letter=letter,
        letter_draft=letter_draft,
        batch=batch,
        question=question,
        signature=signature,
        pending_organization=PendingOrganizationFactory(name="Surveillance Watch"),
    )


# --- Opening pages in four browsers ---------------------------------------------------------------
Step = Callable[[Page, World, str], object]


def _logged_in(page: Page, site: str, user: User | None, language: str) -> None:
    """The browser carries `user`'s session (made here, as a login would) and, for the pages
    without a language in their address (the admin), the language cookie a visitor's choice
    sets."""
    cookies = {"django_language": language}
    if user is not None:
        client = Client()
        client.force_login(user)
        cookies["sessionid"] = client.cookies["sessionid"].value
    page.context.add_cookies(
        [{"name": name, "value": value, "url": site} for name, value in cookies.items()]
    )


def _run(
    browse,
    site: str,
    world: World,
    pages: dict[str, Step],
    *,
    user: User | None,
    admin: bool = False,
) -> None:
    """Open each page in each of the four browsers; gather every finding, then fail with all."""
    found: list[str] = []
    for device in DEVICES:
        for language in LANGUAGES:
            page = browse(device=device)
            _logged_in(page, site, user, language)
            for name, step in pages.items():
                label = f"{name} ({device}, {language})"
                try:
                    step(page, world, language)
                    lang = page.locator("html").get_attribute("lang")
                    assert lang == language, f"{label}: <html lang={lang!r}>, not {language!r}"
                    if admin:
                        _admin_audit(page, name, language)
                        _forgive_admin_styles(browse)
                    else:
                        _audit(page, name, language)
                except AssertionError as error:
                    found.append(f"{label}: {error}")
    assert not found, "\n".join(found)


def _audit(page: Page, name: str, language: str) -> None:
    """helpers.audit, with its screenshot for review taken of the English pages only: the
    Italian ones have the same layout, and a phone's full-page screenshot takes longer than
    axe-core's whole check."""
    if language == "en":
        audit(page, name)
        return
    found = accessibility_violations(page)
    assert found == [], f"axe-core findings: {found}"
    unlabelled = unlabelled_fields(page)
    assert unlabelled == [], f"fields without a label: {unlabelled}"


# KNOWN EXCEPTION, not ours to mend now: the Select2 4.0.13 that Django's admin bundles for
# `autocomplete_fields` (a petition's sponsors and targets...) leaves its search box without a label
# and puts a <span> straight inside a <ul> (axe-core's label and list rules). axe-core skips the
# widget's own markup, and only on the pages named here; everything else on them is checked.
# Listed on the accessibility statement.
SELECT2 = ".select2-container"
SELECT2_PAGES = frozenset({"admin-petition"})
_ADMIN_STYLE = "Applying inline style violates"


def _admin_audit(page: Page, name: str, language: str) -> None:
    """axe-core's check of an admin page. Not helpers.audit's own field check: Django's admin
    names its navigation filter by aria-label alone, which axe accepts."""
    if language == "en":
        screenshot(page, name)
    if name in SELECT2_PAGES:
        expect(page.locator(SELECT2).first).to_be_attached()
        found = accessibility_violations(page, exclude=(SELECT2,))
    else:
        found = accessibility_violations(page)
    assert found == [], f"axe-core findings: {found}"


def _forgive_admin_styles(browse) -> None:
    """KNOWN EXCEPTION, not an accessibility finding: Django admin's own scripts on its change
    forms (Select2, and the date and time shortcuts) write style attributes, which our
    Content-Security-Policy refuses, each refusal a console error. The forms still work. Those
    console errors (and only those) are dropped from what the admin browser reported; every
    other problem the watcher sees still fails the test."""
    browse.forgive(_ADMIN_STYLE)


def _go(path: Callable[[World, str], str], *, status: int = 200) -> Step:
    return lambda page, world, language: visit(page, path(world, language), status=status)


def _submit_empty(page: Page, form: str, button: str = "[type=submit]") -> None:
    """Send a form as it is (the browser's own checks off, as a browser without them would),
    and wait for the page that answers with its errors."""
    located = page.locator(form).first
    located.evaluate("form => { form.noValidate = true; }")
    located.locator(button).first.click()
    expect(page.locator(ERRORS).first).to_be_visible()


def _then_empty(
    path: Callable[[World, str], str], form: str, button: str = "[type=submit]"
) -> Step:
    def step(page: Page, world: World, language: str) -> None:
        visit(page, path(world, language))
        _submit_empty(page, form, button)

    return step


# --- The organization's pages -----------------------------------------------------------------
def _org(path: str = "") -> Callable[[World, str], str]:
    return lambda world, language: f"/{language}/organizations/{world.org}/{path}"


ORGANIZATION_PAGES: dict[str, Step] = {
    "my-organizations": _go(lambda w, lang: f"/{lang}/organizations/"),
    "members": _go(_org("members/")),
    "members-invite-errors": _then_empty(
        _org("members/"), "section[aria-labelledby=invite-title] form"
    ),
    "api-tokens": _go(_org("api-tokens/")),
    "api-tokens-errors": _then_empty(_org("api-tokens/"), "form[novalidate]"),
    "webhooks": _go(_org("webhooks/")),
    "webhooks-errors": _then_empty(_org("webhooks/"), "form[novalidate]"),
}


def test_organization_pages_are_accessible(browse, site, world) -> None:
    _run(browse, site, world, ORGANIZATION_PAGES, user=world.admin)


# --- Dashboards and supporters ----------------------------------------------------------------
DASHBOARD_PAGES: dict[str, Step] = {
    "petition-dashboards": _go(_org("petitions/")),
    "petition-dashboard": _go(lambda w, lang: _org(f"petitions/{w.petition.slug}/")(w, lang)),
    "supporters": _go(_org("supporters/")),
    "supporters-errors": _go(
        lambda w, lang: _org("supporters/?since=not-a-date&petition=0")(w, lang), status=400
    ),
    "supporter-exports": _go(_org("supporters/exports/")),
    "letter-dashboards": _go(_org("letters/")),
    "letter-dashboard": _go(lambda w, lang: _org(f"letters/{w.letter.slug}/")(w, lang)),
}


def test_dashboard_pages_are_accessible(browse, site, world) -> None:
    _run(browse, site, world, DASHBOARD_PAGES, user=world.admin)


# --- Drafting -----------------------------------------------------------------------------------
def _draft(path: str = "", kind: str = "petition") -> Callable[[World, str], str]:
    def build(world: World, language: str) -> str:
        pk = world.draft.pk if kind == "petition" else world.letter_draft.pk
        return _org(f"campaigns/{kind}/{pk}/{path}")(world, language)

    return build


def _preview(page: Page, world: World, language: str) -> None:
    visit(page, _draft()(world, language))
    page.locator("button[name=preview]").click()
    expect(page.locator("#preview, [aria-labelledby=preview-title]").first).to_be_visible()


def _thresholds_errors(page: Page, world: World, language: str) -> None:
    visit(page, _org(f"campaigns/petition/{world.petition.pk}/thresholds/")(world, language))
    # The form comes filled in with a suggestion: emptied, as a person might.
    page.locator("form:has(button[name=add]) input[type=number]").first.fill("")
    _submit_empty(page, "form:has(button[name=add])", "button[name=add]")


DRAFTING_PAGES: dict[str, Step] = {
    "drafting-list": _go(_org("campaigns/")),
    "drafting-new-petition": _go(_org("campaigns/new/petition/")),
    "drafting-new-petition-errors": _then_empty(
        _org("campaigns/new/petition/"), "form:has(button[name=save])", "button[name=save]"
    ),
    "drafting-new-letter": _go(_org("campaigns/new/letter/")),
    "drafting-campaign": _go(_draft()),
    "drafting-preview": _preview,
    "drafting-campaign-submitted": _go(
        lambda w, lang: _org(f"campaigns/petition/{w.submitted.pk}/")(w, lang)
    ),
    "drafting-letter": _go(_draft(kind="letter")),
    "drafting-history": _go(_draft("history/")),
    "drafting-version": _go(_draft("history/1/")),
    "drafting-image": _go(_draft("image/")),
    "drafting-image-errors": _then_empty(_draft("image/"), "form[enctype]"),
    "drafting-questions": _go(_draft("questions/")),
    "drafting-questions-errors": _then_empty(_draft("questions/"), "form[novalidate]"),
    "drafting-question-change": _go(lambda w, lang: _draft(f"questions/{w.question.pk}/")(w, lang)),
    "drafting-letter-questions": _go(_draft("questions/", kind="letter")),
    "drafting-propose-target": _go(_draft("targets/propose/")),
    "drafting-propose-target-errors": _then_empty(_draft("targets/propose/"), "form[novalidate]"),
    "drafting-update-new": _go(
        lambda w, lang: _org(f"campaigns/petition/{w.petition.pk}/updates/new/")(w, lang)
    ),
    "drafting-update-new-errors": _then_empty(
        lambda w, lang: _org(f"campaigns/petition/{w.petition.pk}/updates/new/")(w, lang),
        "form:has(button[name=save])",
        "button[name=save]",
    ),
    "thresholds": _go(
        lambda w, lang: _org(f"campaigns/petition/{w.petition.pk}/thresholds/")(w, lang)
    ),
    "thresholds-errors": _thresholds_errors,
}


def test_drafting_pages_are_accessible(browse, site, world) -> None:
    _run(browse, site, world, DRAFTING_PAGES, user=world.admin)


# --- Paper signatures ---------------------------------------------------------------------------
def _paper(path: str = "") -> Callable[[World, str], str]:
    return lambda world, language: _org(f"paper/{world.petition.slug}/{path}")(world, language)


BAD_CSV = (
    b"sheet,line,name,postal_code,country,email\n"
    b"1,1,,94612,US,not-an-email\n"
    b"1,1,Marco Bianchi,94612,ZZ,marco@example.it\n"
)


def _csv_with_errors(page: Page, world: World, language: str) -> None:
    visit(page, _paper()(world, language))
    form = page.locator("form[action$='/import/']")
    form.locator("input[type=file]").set_input_files(
        {"name": "sheets.csv", "mimeType": "text/csv", "buffer": BAD_CSV}
    )
    form.locator("[type=submit]").click()
    expect(page.locator(ERRORS).first).to_be_visible()


PAPER_PAGES: dict[str, Step] = {
    "paper": _go(_paper()),
    "paper-csv-empty": _then_empty(_paper(), "form[action$='/import/']"),
    "paper-csv-errors": _csv_with_errors,
    "paper-batch": _go(lambda w, lang: _paper(f"batches/{w.batch.pk}/")(w, lang)),
    "paper-batch-line-errors": _then_empty(
        lambda w, lang: _paper(f"batches/{w.batch.pk}/")(w, lang),
        "form:has(input[name=name])",
    ),
}


def test_paper_pages_are_accessible(browse, site, world) -> None:
    _run(browse, site, world, PAPER_PAGES, user=world.admin)


# --- The second factor (staff) ------------------------------------------------------------------
def test_second_factor_pages_are_accessible(browse, site, world) -> None:
    pages: dict[str, Step] = {
        "two-factor-setup": _go(lambda w, lang: f"/{lang}/accounts/two-factor/setup/"),
        "two-factor-setup-errors": _then_empty(
            lambda w, lang: f"/{lang}/accounts/two-factor/setup/", "form:has(input[name=code])"
        ),
    }
    _run(browse, site, world, pages, user=world.staff)
    # Another member of staff, with an app set up: the code page.
    TOTPDevice.objects.create(user=world.moderator, name="Authenticator app", confirmed=True)
    pages = {
        "two-factor-verify": _go(lambda w, lang: f"/{lang}/accounts/two-factor/verify/"),
        "two-factor-verify-errors": _then_empty(
            lambda w, lang: f"/{lang}/accounts/two-factor/verify/", "form:has(input[name=code])"
        ),
    }
    _run(browse, site, world, pages, user=world.moderator)


# --- The admin ------------------------------------------------------------------------------------
def _action(path: str, action: str) -> Step:
    """A changelist, its first row ticked and a bulk action chosen: the page that asks why."""

    def step(page: Page, world: World, language: str) -> None:
        visit(page, path)
        page.locator("input[name=_selected_action]").first.check()
        page.locator("select[name=action]").select_option(action)
        page.locator("button[name=index]").click()
        expect(page.locator("input[name=apply]")).to_be_attached()

    return step


def _action_empty(path: str, action: str) -> Step:
    def step(page: Page, world: World, language: str) -> None:
        _action(path, action)(page, world, language)
        _submit_empty(page, "form:has(input[name=apply])")

    return step


def _admin_login_errors(page: Page, world: World, language: str) -> None:
    visit(page, "/admin/login/")
    _submit_empty(page, "#login-form")


def _review_errors(page: Page, world: World, language: str) -> None:
    visit(page, f"/admin/petitions/petition/{world.submitted.pk}/review/")
    page.locator("input[name=_return]").click()
    expect(page.locator(ERRORS).first).to_be_visible()


ADMIN_LOGIN_PAGES: dict[str, Step] = {
    "admin-login": _go(lambda w, lang: "/admin/login/"),
    "admin-login-errors": _admin_login_errors,
}

ADMIN_PAGES: dict[str, Step] = {
    "admin-index": _go(lambda w, lang: "/admin/"),
    "admin-signatures": _go(lambda w, lang: "/admin/petitions/signature/"),
    "admin-signature": _go(lambda w, lang: f"/admin/petitions/signature/{w.signature.pk}/change/"),
    "admin-flagged-signatures": _go(lambda w, lang: "/admin/petitions/flaggedsignature/"),
    "admin-signatures-reject": _action("/admin/petitions/signature/", "reject_with_reason"),
    "admin-signatures-reject-errors": _action_empty(
        "/admin/petitions/signature/", "reject_with_reason"
    ),
    "admin-letter-individual-signatures": _go(
        lambda w, lang: "/admin/letters/individualsignature/"
    ),
    "admin-letter-organization-signatures": _go(
        lambda w, lang: "/admin/letters/organizationsignature/"
    ),
    "admin-letter-organization-signatures-reject": _action(
        "/admin/letters/organizationsignature/", "reject"
    ),
    "admin-letter-statements": _go(lambda w, lang: "/admin/letters/statement/"),
    "admin-organizations": _go(lambda w, lang: "/admin/accounts/organization/"),
    "admin-organization": _go(
        lambda w, lang: f"/admin/accounts/organization/{w.pending_organization.pk}/change/"
    ),
    "admin-organizations-reject": _action("/admin/accounts/organization/", "reject_with_reason"),
    "admin-organizations-reject-errors": _action_empty(
        "/admin/accounts/organization/", "reject_with_reason"
    ),
    "admin-petitions": _go(lambda w, lang: "/admin/petitions/petition/"),
    "admin-petition": _go(lambda w, lang: f"/admin/petitions/petition/{w.petition.pk}/change/"),
    "admin-petition-reviews": _go(lambda w, lang: "/admin/petitions/petitionreview/"),
    "admin-petition-review": _go(
        lambda w, lang: f"/admin/petitions/petition/{w.submitted.pk}/review/"
    ),
    "admin-petition-review-errors": _review_errors,
    "admin-letters": _go(lambda w, lang: "/admin/letters/openletter/"),
    "admin-targets": _go(lambda w, lang: "/admin/petitions/target/"),
    "admin-target": _go(
        lambda w, lang: f"/admin/petitions/target/{w.petition.targets.get().pk}/change/"
    ),
    "admin-outbox": _go(lambda w, lang: "/admin/mechanisms/outboundemail/"),
    "admin-deliveries": _go(lambda w, lang: "/admin/petitions/delivery/"),
    "admin-letter-deliveries": _go(lambda w, lang: "/admin/letters/letterdelivery/"),
    "admin-paper-batches": _go(lambda w, lang: "/admin/petitions/paperbatch/"),
    "admin-audit-log": _go(lambda w, lang: "/admin/admin/logentry/"),
    "admin-users": _go(lambda w, lang: "/admin/accounts/user/"),
}


def test_admin_login_is_accessible(browse, site, world) -> None:
    _run(browse, site, world, ADMIN_LOGIN_PAGES, user=None, admin=True)


def test_admin_pages_are_accessible(browse, site, world) -> None:
    _run(browse, site, world, ADMIN_PAGES, user=world.staff, admin=True)


# --- The API's documentation ----------------------------------------------------------------------
def test_api_documentation_is_accessible(browse, site, world) -> None:
    """drf-spectacular's Swagger UI. Its words are English whatever the visitor's language (the
    API's texts are not translated), so its page says lang="en" in both browsers."""
    found: list[str] = []
    for device in DEVICES:
        for language in LANGUAGES:
            page = browse(device=device)
            visit(page, "/api/v1/docs/")
            expect(page.locator(".swagger-ui .info .title")).to_be_visible()
            assert page.locator("html").get_attribute("lang") == "en"
            try:
                _audit(page, "api-docs", language)
            except AssertionError as error:
                found.append(f"api-docs ({device}, {language}): {error}")
    assert not found, "\n".join(found)
