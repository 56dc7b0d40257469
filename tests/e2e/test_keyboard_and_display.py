"""What axe-core cannot see (issue 22, part 2), on every kind of form and menu the site has:
- the keyboard reaches every control, in the order they are seen, each with a focus indicator a
  person can see and none hidden under something pinned (WCAG 2.1.1, 2.4.3, 2.4.7, 2.4.11); the
  skip link comes first and works; a supporter signs a petition with the keyboard alone;
- targets are 24 by 24 CSS pixels or spaced as if they were (2.5.8), on a desktop and a phone;
- in forced colours (Windows' contrast themes) every control keeps its edge or its words, a
  check box shows whether it is ticked and the focus still shows;
- with reduced motion asked for nothing moves.
Each check is shown able to fail on a page broken on purpose. The checks: display_checks.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Membership, Organization, User
from letters.models import OpenLetter
from petitions.models import PaperBatch, Petition
from tests.conftest import STAFF_PASSWORD
from tests.e2e.display_checks import (
    focus_problems,
    forced_colour_problems,
    motion,
    small_targets,
    tab_through,
    unchanging_check_boxes,
)
from tests.e2e.helpers import PASSWORD, confirmation_path, last_mail_to, log_in, visit
from tests.factories import (
    OpenLetterFactory,
    OrganizationFactory,
    PetitionFactory,
    SignatureFactory,
    TargetFactory,
)

pytestmark = pytest.mark.e2e

LEAD = "lead@oaklandprivacy.example"
STAFF = "staff@cosign.example"


@dataclass
class World:
    petition: Petition
    letter: OpenLetter
    organization: Organization
    draft: Petition
    batch: PaperBatch


@pytest.fixture
def world(transactional_db, settings) -> World:
    settings.STAFF_REQUIRE_2FA = False  # its own journey: tests/e2e/test_two_factor_journey.py
    organization = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    petition = PetitionFactory(
        title="Cancel the doorbell camera partnership in Oakland",
        targets=[TargetFactory()],
        offer_sponsor_opt_in=True,
        ask_comment=True,
    )
    petition.sponsors.add(organization)
    for name in ("Ada Lovelace", "Grace Hopper"):
        SignatureFactory(petition=petition, name=name, display="full", confirmed=True)
    SignatureFactory(petition=petition, name="Casino Bonus", display="full", held=True)
    letter = OpenLetterFactory(
        title="End police partnerships with Amazon Ring",
        leads=[organization],
        individuals_may_sign=True,
        published_at=timezone.now(),
    )
    lead = User.objects.create_user(LEAD, PASSWORD, full_name="Tracy Rosenberg")
    Membership.objects.create(user=lead, organization=organization, role=Membership.Role.ADMIN)
    OrganizationFactory(name="Fight for the Future", slug="fight-for-the-future")
    draft = PetitionFactory(
        title="End the Ring partnership in Alameda",
        status=Petition.Status.DRAFT,
        organization=organization,
        review="editing",
    )
    batch = PaperBatch.objects.create(
        petition=petition, organization=organization, entered_by=lead, sheet_reference="Box 3"
    )
    User.objects.create_superuser(STAFF, STAFF_PASSWORD)
    return World(petition, letter, organization, draft, batch)


def _staff_log_in(page: Page) -> None:
    visit(page, "/admin/login/")
    page.get_by_label("Email address").fill(STAFF)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def _public_pages(world: World) -> dict[str, str]:
    """A page of each kind of form and menu a visitor meets; every page has the language menu."""
    return {
        "catalog and its filters": "/en/",
        "sign form": world.petition.get_absolute_url(),
        "letter sign form": world.letter.get_absolute_url(),
        "new link": f"/en/p/{world.petition.slug}/new-link/",
        "my signatures": "/en/my-signatures/",
        "login": "/en/accounts/login/",
        "organization join": "/en/organizations/join/",
    }


def _member_pages(world: World) -> dict[str, str]:
    """An organization's workspace: its forms, as its administrator sees them."""
    org = world.organization.slug
    petition = world.petition.slug
    return {
        "co-sign form": f"/en/letters/{world.letter.slug}/cosign/",
        "members and invite": f"/en/organizations/{org}/members/",
        "drafting form": f"/en/organizations/{org}/campaigns/petition/{world.draft.pk}/",
        "dashboard": f"/en/organizations/{org}/petitions/{petition}/",
        "supporters filters": f"/en/organizations/{org}/supporters/",
        "paper line entry": f"/en/organizations/{org}/paper/{petition}/batches/{world.batch.pk}/",
    }


def _each_page(
    page: Page, world: World, check: Callable[[Page], list[str]], *, staff: bool = True
) -> dict[str, list[str]]:
    """Run a check on every page, as a visitor, then as a member, then as staff."""
    found: dict[str, list[str]] = {}
    for name, path in _public_pages(world).items():
        visit(page, path)
        found[name] = check(page)
    visit(page, "/en/organizations/")
    log_in(page, LEAD)
    for name, path in _member_pages(world).items():
        visit(page, path)
        found[name] = check(page)
    if staff:
        _staff_log_in(page)
        visit(page, "/admin/petitions/flaggedsignature/")
        found["admin moderation queue"] = check(page)
    return {name: problems for name, problems in found.items() if problems}


def test_explore(browse, world) -> None:
    page = browse()
    page.emulate_media(forced_colors="active")
    print("FORCED focus", _each_page(page, world, focus_problems, staff=False))
