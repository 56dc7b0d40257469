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
from pathlib import Path

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
    page: Page,
    world: World,
    check: Callable[[Page], list[str]],
    *,
    only: frozenset[str] | None = None,
    staff: bool = True,
) -> dict[str, list[str]]:
    """Run a check on the pages (`only` some of them), as a visitor, then as a member of the
    organization; then, in a second context, on the admin's moderation queue as staff."""
    found: dict[str, list[str]] = {}
    for name, path in _public_pages(world).items():
        if only is None or name in only:
            visit(page, path)
            found[name] = check(page)
    members = {
        name: path for name, path in _member_pages(world).items() if not only or name in only
    }
    if members:
        visit(page, "/en/organizations/")
        log_in(page, LEAD)
        expect(page.get_by_role("heading", level=1)).to_have_text("Your organizations")
    for name, path in members.items():
        visit(page, path)
        found[name] = check(page)
    return {name: problems for name, problems in found.items() if problems}


def _admin_problems(page: Page, check: Callable[[Page], list[str]]) -> list[str]:
    _staff_log_in(page)
    visit(page, "/admin/petitions/flaggedsignature/")
    return check(page)


def _desktop_checks(page: Page) -> list[str]:
    return focus_problems(page) + small_targets(page) + motion(page)


def test_keyboard_reaches_every_control_in_order_with_its_focus_seen(browse, world) -> None:
    """Desktop, reduced motion asked for: every form and menu by Tab alone (2.1.1, 2.4.3),
    focus indicated (2.4.7) and never hidden (2.4.11); 24 px targets (2.5.8); nothing moving.
    The admin (Django's own pages): targets and motion only, since its sidebar scrolls within
    itself, which the order check cannot follow."""
    page = browse()
    page.emulate_media(reduced_motion="reduce")
    assert _each_page(page, world, _desktop_checks) == {}
    staff = browse()
    staff.emulate_media(reduced_motion="reduce")
    assert _admin_problems(staff, lambda p: small_targets(p) + motion(p)) == []


def test_targets_are_big_enough_on_a_phone(browse, world) -> None:
    page = browse(device="phone")
    assert _each_page(page, world, small_targets) == {}
    assert _admin_problems(browse(device="phone"), small_targets) == []


# One page of each kind of control: Bootstrap's buttons (a link among them), fields, menus, check
# boxes and radio buttons, a disclosure, plain links.
FORCED_FOCUS_PAGES = frozenset({"sign form", "letter sign form", "drafting form", "dashboard"})


def test_forced_colours_keep_every_control_and_the_focus_visible(browse, world) -> None:
    def forced() -> Page:
        page = browse()
        page.emulate_media(forced_colors="active")
        return page

    assert _each_page(forced(), world, forced_colour_problems) == {}
    assert _each_page(forced(), world, unchanging_check_boxes, only=FORCED_FOCUS_PAGES) == {}
    assert _each_page(forced(), world, focus_problems, only=FORCED_FOCUS_PAGES) == {}
    assert _admin_problems(forced(), forced_colour_problems) == []


def _focused_name(page: Page) -> str:
    return page.evaluate("""() => {
        const el = document.activeElement;
        const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
        return (el.getAttribute("aria-label") || label || el.innerText || el.value || "").trim();
    }""")


def _tab_to(page: Page, name: str | re.Pattern[str], *, limit: int = 60) -> None:
    """Press Tab until the control of that name has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused_name(page)
        # A required field's label ends with crispy's asterisk.
        if name.search(focused) if isinstance(name, re.Pattern) else focused.rstrip("*") == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_a_supporter_signs_with_the_keyboard_alone(browse, world) -> None:
    """Tab, Space, Enter and the arrow keys, never a click: the skip link first, and working;
    the sign form filled and sent; the email's link confirmed; the language menu used."""
    page = browse()
    visit(page, world.petition.get_absolute_url())
    page.keyboard.press("Tab")
    assert _focused_name(page) == "Skip to content"
    skip = page.evaluate("() => document.activeElement.getBoundingClientRect().width")
    assert skip > 24, "the skip link is not shown when focused"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('main')")

    _tab_to(page, "Your name")
    page.keyboard.type("Maria Rossi")
    page.keyboard.press("Tab")
    page.keyboard.type("maria@example.org")
    _tab_to(page, "Postal code")
    page.keyboard.type("94612")
    page.keyboard.press("Tab")
    assert _focused_name(page).rstrip("*") == "Country"
    # The arrow keys choose, as the letters would (whose look-ahead is a race on a busy machine).
    page.keyboard.press("ArrowDown")
    # The radio group: Tab lands on the chosen display, the arrows choose another.
    _tab_to(page, re.compile("^My first name and last initial"))
    page.keyboard.press("ArrowUp")
    assert _focused_name(page).startswith("My full name")
    _tab_to(page, re.compile("^Email me updates"))
    page.keyboard.press("Space")
    _tab_to(page, "Sign the petition")
    form = page.locator("#sign form")
    expect(form.get_by_label("My full name")).to_be_checked()
    expect(form.get_by_label("Country")).to_have_value("AF")
    expect(
        form.get_by_role("checkbox", name="Email me updates about this campaign")
    ).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    visit(page, confirmation_path(last_mail_to("maria@example.org").body))
    _tab_to(page, "Confirm my signature")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your signature is confirmed"
    )
    assert world.petition.signatures.get(email="maria@example.org").display == "full"

    _tab_to(page, "Language")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "it")


# A control made to look the same focused or not: every property a focus style may change held
# at its unfocused value.
_FREEZE = """(el) => {
    const style = getComputedStyle(el);
    for (const property of ["box-shadow", "background-color", "color", "border-color"]) {
        el.style.setProperty(property, style.getPropertyValue(property), "important");
    }
    el.style.setProperty("outline", "none", "important");
}"""


def test_the_checks_catch_what_they_look_for(browse, world) -> None:
    """Each check above fails on a page broken on purpose."""
    page = browse()
    page.emulate_media(reduced_motion="reduce")
    new_link = f"/en/p/{world.petition.slug}/new-link/"
    visit(page, new_link)
    page.get_by_role("button", name="Change").evaluate(_FREEZE)
    # Something pinned over the site's name; the footer's first link put first in the Tab order.
    page.evaluate("""() => {
        const brand = document.querySelector(".navbar-brand").getBoundingClientRect();
        const cover = document.createElement("div");
        for (const [property, value] of Object.entries({
            position: "fixed", left: `${brand.left - 4}px`, top: `${brand.top - 4}px`,
            width: `${brand.width + 8}px`, height: `${brand.height + 8}px`,
            background: "white", "z-index": "5000"})) cover.style.setProperty(property, value);
        document.body.append(cover);
        document.querySelector("footer a").tabIndex = 1;
    }""")
    found = focus_problems(page)
    assert 'no visible focus indicator (2.4.7): button "Change"' in found, found
    assert any(line.startswith('focus hidden (2.4.11): a "Cosign" under') for line in found), found
    assert 'tabindex above 0 (2.4.3): a "Privacy"' in found, found

    # No skip link, and a field that keeps the focus: the controls after it are never reached.
    visit(page, new_link)
    page.evaluate("""() => {
        document.querySelector("a[href='#main']").remove();
        document.querySelector("#id_email").addEventListener("keydown",
            (event) => { if (event.key === "Tab") event.preventDefault(); });
    }""")
    found = focus_problems(page)
    assert 'the first Tab reaches a "Cosign", not the skip link' in found, found
    (missing,) = [line for line in found if line.startswith("not reached")]
    assert "Email me a new link" in missing and "Privacy" in missing, missing

    # Two small buttons side by side fail; one as small but spaced, and a link in a sentence,
    # pass (2.5.8's exceptions).
    page.evaluate("""() => {
        const place = document.createElement("div");
        place.innerHTML = `<button>A</button><button>B</button><p><button>C</button></p>
            <p class="small">Read <a href="#">it</a> today.</p>`;
        document.querySelector("main").append(place);
        for (const button of place.querySelectorAll("button")) {
            for (const property of ["width", "height", "min-width", "min-height"]) {
                button.style.setProperty(property, "16px");
            }
            button.style.setProperty("padding", "0");
            button.style.setProperty("margin", "0 4px 0 0");
        }
        place.querySelectorAll("p")[0].style.setProperty("margin", "40px");
    }""")
    small = small_targets(page)
    assert [line.split(" is ")[0] for line in small] == ['button "A"', 'button "B"'], small

    # Motion: Bootstrap's transitions and smooth scrolling when no preference is stated; a
    # transition and an animation of our own even when reduced motion is asked for.
    page.emulate_media(reduced_motion="no-preference")
    moving = motion(page)
    assert "smooth scrolling on the page" in moving, moving
    assert any(line.startswith("transition 0.15s") for line in moving), moving
    page.emulate_media(reduced_motion="reduce")
    assert motion(page) == []
    page.get_by_role("button", name="Change").evaluate("""(el) => {
        el.style.setProperty("transition", "opacity 0.5s");
        el.style.setProperty("animation", "spin 1s infinite");
    }""")
    assert sorted(line.split(":")[0] for line in motion(page)) == [
        "animation spin",
        "transition 0.5s",
    ]

    # Forced colours: a Bootstrap button without its border, Bootstrap's own tick back, a field
    # whose focus outline is taken away.
    page.emulate_media(forced_colors="active")
    visit(page, world.petition.get_absolute_url())
    page.evaluate("""() => {
        document.querySelector("#submit-id-sign").style.setProperty("border", "0", "important");
        document.querySelector("#id_consent_updates")
            .style.setProperty("appearance", "none", "important");
        document.querySelector("#id_email").style.setProperty("outline", "none", "important");
    }""")
    assert forced_colour_problems(page) == [
        'no boundary: input#submit-id-sign[name=sign] "Sign the petition"'
    ]
    (unchanging,) = unchanging_check_boxes(page)
    assert 'id="id_consent_updates"' in unchanging
    assert [line for line in focus_problems(page) if "2.4.7" in line] == [
        'no visible focus indicator (2.4.7): input#id_email[name=email] ""'
    ]


def test_our_scripts_honour_reduced_motion() -> None:
    """A script of ours that animates asks first whether the reader wants less motion (none does
    today: the proof of work has nothing to show)."""
    animating = re.compile(r"\.animate\(|requestAnimationFrame|behavior:\s*[\"']smooth|transition")
    scripts = Path(__file__).resolve().parents[2] / "static" / "js"
    for script in scripts.glob("**/*.js"):
        text = script.read_text()
        if animating.search(text):
            assert "prefers-reduced-motion" in text, f"{script.name} animates regardless"
