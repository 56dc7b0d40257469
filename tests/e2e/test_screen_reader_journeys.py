"""What a screen reader says on the key journeys, done as a person does them (clicks and typing):
signing a petition and confirming it, co-signing a letter for an organization, withdrawing a
signature, reading a letter's press page.

Each step's accessibility tree (Playwright's aria snapshot, the roles, names and order a screen
reader reads) is compared with a recording in tests/e2e/aria_snapshots/, read and judged by a
person when it was made: a change to what is announced shows as a diff for review. Run with
UPDATE_ARIA_SNAPSHOTS=1 to write the recordings again, then read them before committing.

On every step, checks that hold whatever the recording says:
- every control (button, link, field, checkbox, radio, select) has a name, and its name contains
  the words shown on or beside it (WCAG 2.5.3 Label in Name), so "click Sign the petition" by
  voice works;
- the landmarks banner, navigation, main (once) and contentinfo are there (1.3.1, 2.4.1);
- one h1, and no heading level skipped going down (1.3.1, 2.4.6);
- the fields of each form are read in the order they are seen, top to bottom (1.3.2, 2.4.3).

Beside the journeys: every form's error state is announced and tied to its fields (3.3.1, 4.1.3),
and information given once is not asked again in the same process (3.3.7 Redundant Entry).
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import Membership, User
from letters.models import OpenLetter, OrganizationSignature, Statement
from petitions.models import Petition
from tests.e2e.helpers import PASSWORD, confirmation_path, last_mail_to, log_in, visit
from tests.factories import OrganizationFactory, PetitionFactory

pytestmark = pytest.mark.e2e

SNAPSHOTS = Path(__file__).resolve().parent / "aria_snapshots"
UPDATE = os.environ.get("UPDATE_ARIA_SNAPSHOTS") == "1"
MY_SIGNATURES_LINK = re.compile(r"https?://[^\s/]+(/\S+/my-signatures/\S+/)")

PETITION = "Cancel the doorbell camera partnership in Oakland"
LETTER = "Investigate and end police partnerships with Amazon Ring"

# What changes from run to run in a page, put in words that do not: the live server's port,
# the signed tokens in links, today's date.
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_SHORT_MONTHS = "Jan|Feb|Mar|Apr|May|June|July|Aug|Sept|Oct|Nov|Dec"
_DYNAMIC = [
    (re.compile(r"https?://(?:localhost|127\.0\.0\.1):\d+"), "http://testserver"),
    (re.compile(r"http%3A%2F%2F(?:localhost|127\.0\.0\.1)%3A\d+"), "http%3A%2F%2Ftestserver"),
    (re.compile(r"/(confirm|my-signatures|unsubscribe)/[^/\s\"]{20,}/"), r"/\1/<token>/"),
    (re.compile(rf"\b(?:{_MONTHS}) \d{{1,2}}, \d{{4}}\b"), "<date>"),
    (re.compile(rf"\b\d{{1,2}} (?:{_MONTHS}) \d{{4}}\b"), "<date>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "<date>"),
    (
        re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|June|July|Aug|Sept|Oct|Nov|Dec)\.? \d{1,2}, \d{4}\b"),
        "<date>",
    ),
    # Database ids: the sequences run on from test to test.
    (re.compile(r"(record=\w+%3A)\d+"), r"\1<id>"),
]


_OPTION = re.compile(r"^(\s*)- option \"[^\n]*$")
# A list of every country is read one by one only if someone opens it; the recording keeps the
# chosen one and how many there are.
_LONG_LIST = 12


def _short_lists(snapshot: str) -> str:
    lines = snapshot.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        run = index
        while run < len(lines) and _OPTION.match(lines[run]):
            run += 1
        if run - index > _LONG_LIST:
            indent = _OPTION.match(lines[index]).group(1)  # type: ignore[union-attr]
            out += [line for line in lines[index:run] if line.endswith("[selected]")]
            out.append(f"{indent}- text: ({run - index} options)")
            index = run
        else:
            out += lines[index : max(run, index + 1)]
            index = max(run, index + 1)
    return "\n".join(out)


def _stable(snapshot: str) -> str:
    for pattern, replacement in _DYNAMIC:
        snapshot = pattern.sub(replacement, snapshot)
    return _short_lists(snapshot).rstrip() + "\n"


# --- the checks every step gets ------------------------------------------------------------------

INTERACTIVE = frozenset({"button", "link", "textbox", "checkbox", "radio", "combobox", "searchbox"})
LANDMARKS = ("banner", "navigation", "main", "contentinfo")

# The words a person sees on a control or beside it, as the page shows them.
_VISIBLE_TEXT = """function () {
  const el = this;
  if (el.matches("input[type=submit], input[type=button], input[type=reset]")) return el.value;
  if (el.matches("input, select, textarea")) {
    return Array.from(el.labels || []).map((label) => label.innerText).join(" ");
  }
  return el.innerText;
}"""


def _words(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class Control:
    role: str
    name: str
    visible: str


def _ax_nodes(page: Page) -> tuple[Any, list[dict[str, Any]]]:
    """Chromium's own accessibility tree (what it hands a screen reader), by its debugger."""
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    return session, [node for node in nodes if not node.get("ignored")]


def _role(node: dict[str, Any]) -> str:
    return str(node.get("role", {}).get("value", ""))


def controls(page: Page) -> list[Control]:
    session, nodes = _ax_nodes(page)
    found = []
    for node in nodes:
        if _role(node) not in INTERACTIVE or "backendDOMNodeId" not in node:
            continue
        handle = session.send("DOM.resolveNode", {"backendNodeId": node["backendDOMNodeId"]})
        visible = session.send(
            "Runtime.callFunctionOn",
            {
                "objectId": handle["object"]["objectId"],
                "functionDeclaration": _VISIBLE_TEXT,
                "returnByValue": True,
            },
        )["result"].get("value", "")
        name = str(node.get("name", {}).get("value", ""))
        found.append(Control(role=_role(node), name=name, visible=str(visible or "")))
    session.detach()
    return found


def name_problems(page: Page) -> list[str]:
    """Controls without a name, or whose name leaves out the words shown (2.5.3)."""
    problems = []
    for control in controls(page):
        if not _words(control.name):
            problems.append(f"{control.role} without a name (shows {control.visible!r})")
        elif _words(control.visible) not in _words(control.name):
            problems.append(f"{control.role} named {control.name!r} but shows {control.visible!r}")
    return problems


def headings(page: Page) -> list[tuple[int, str]]:
    session, nodes = _ax_nodes(page)
    session.detach()
    found = []
    for node in nodes:
        if _role(node) != "heading":
            continue
        level = next(
            (p["value"]["value"] for p in node.get("properties", []) if p["name"] == "level"), 0
        )
        found.append((int(level), str(node.get("name", {}).get("value", ""))))
    return found


def heading_problems(page: Page) -> list[str]:
    found = headings(page)
    problems = []
    if [level for level, _ in found].count(1) != 1:
        problems.append(f"not exactly one h1: {found}")
    for (before, _), (level, name) in itertools.pairwise(found):
        if level > before + 1:
            problems.append(f"h{before} then h{level} {name!r}: a level skipped")
    return problems


def landmark_problems(page: Page) -> list[str]:
    session, nodes = _ax_nodes(page)
    session.detach()
    roles = [_role(node) for node in nodes]
    problems = [f"no {landmark} landmark" for landmark in LANDMARKS if landmark not in roles]
    if roles.count("main") > 1:
        problems.append("more than one main landmark")
    return problems


# Each form's fields in reading (DOM) order, with where they are drawn; one drawn entirely above
# the field read before it, or entirely left of it on the same line, is read out of order.
_FIELDS_OUT_OF_ORDER = """() => {
  const problems = [];
  for (const form of document.forms) {
    const fields = Array.from(form.elements).filter((el) =>
      !["hidden", "fieldset", "output", "object"].includes(el.type)
      && el.getClientRects().length && !el.closest("[aria-hidden=true]"));
    const describe = (el) => el.name || el.id || el.textContent.trim() || el.tagName;
    for (let i = 1; i < fields.length; i++) {
      const a = fields[i - 1].getBoundingClientRect();
      const b = fields[i].getBoundingClientRect();
      const above = b.bottom <= a.top + 1;
      const sameLine = b.top < a.bottom && a.top < b.bottom;
      const leftOf = sameLine && b.right <= a.left + 1;
      if (above || leftOf) {
        problems.push(`${describe(fields[i])} is read after ${describe(fields[i - 1])} `
          + `but drawn ${above ? "above" : "left of"} it`);
      }
    }
  }
  return problems;
}"""


def order_problems(page: Page) -> list[str]:
    return page.evaluate(_FIELDS_OUT_OF_ORDER)


def step_problems(page: Page) -> list[str]:
    return (
        name_problems(page)
        + landmark_problems(page)
        + heading_problems(page)
        + order_problems(page)
    )


# --- errors: announced, and tied to their fields -------------------------------------------------

# The form's error summary is read out at once (role=alert, or an assertive live region), each
# invalid field says so (aria-invalid) and points at its message (aria-describedby), and each
# message shown beside a field is pointed at by it.
_ERROR_PROBLEMS = """() => {
  const problems = [];
  const text = (el) => (el ? el.textContent.replace(/\\s+/g, " ").trim() : "");
  const alerts = Array.from(document.querySelectorAll("[role=alert], [aria-live=assertive]"))
    .filter((el) => text(el));
  if (!alerts.length) problems.push("no error summary in an alert or assertive live region");
  const described = (field) => (field.getAttribute("aria-describedby") || "").split(/\\s+/)
    .map((id) => document.getElementById(id)).filter(Boolean);
  const invalid = new Set(document.querySelectorAll(
    "form [aria-invalid=true], form .is-invalid:is(input, select, textarea)"));
  for (const alert of alerts) {
    for (const link of alert.querySelectorAll("a[href^='#']")) {
      const field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) { problems.push(`summary links to nothing: ${link.href}`); continue; }
      invalid.add(field);
      const message = text(link).split(": ").slice(1).join(": ");
      if (!described(field).some((el) => text(el).includes(message))) {
        problems.push(`${field.name}: its message "${message}" is not in its aria-describedby`);
      }
    }
  }
  for (const field of invalid) {
    if (field.getAttribute("aria-invalid") !== "true") {
      problems.push(`${field.name || field.id}: shown invalid without aria-invalid="true"`);
    }
    if (!described(field).some((el) => text(el))) {
      problems.push(`${field.name || field.id}: no aria-describedby to an error message`);
    }
  }
  const pointedAt = new Set(Array.from(document.querySelectorAll("[aria-describedby]"))
    .flatMap((el) => el.getAttribute("aria-describedby").split(/\\s+/)));
  for (const message of document.querySelectorAll(".invalid-feedback, .errorlist")) {
    if (message.getClientRects().length && text(message) && !pointedAt.has(message.id)) {
      problems.push(`message "${text(message)}" is tied to no field`);
    }
  }
  if (!invalid.size) problems.push("no field is marked invalid");
  return problems;
}"""


def error_problems(page: Page) -> list[str]:
    return page.evaluate(_ERROR_PROBLEMS)


# --- the recordings ------------------------------------------------------------------------------


class Recorder:
    """Compares each step's aria snapshot with its recording, and runs the checks on it."""

    def __init__(self, journey: str) -> None:
        self.journey = journey
        self.steps = 0
        self.differences: list[str] = []

    def step(self, page: Page, name: str) -> str:
        self.steps += 1
        path = SNAPSHOTS / f"{self.journey}-{self.steps:02d}-{name}.yml"
        snapshot = _stable(page.locator("body").aria_snapshot())
        problems = step_problems(page)
        assert problems == [], f"{path.name}: {problems}"
        if UPDATE:
            SNAPSHOTS.mkdir(exist_ok=True)
            path.write_text(snapshot)
        elif not path.exists():
            self.differences.append(f"{path.name}: no recording (run with UPDATE_ARIA_SNAPSHOTS=1)")
        elif (recorded := path.read_text()) != snapshot:
            diff = difflib.unified_diff(
                recorded.splitlines(), snapshot.splitlines(), "recorded", "now", lineterm=""
            )
            self.differences.append(f"{path.name} differs:\n" + "\n".join(diff))
        return snapshot

    def done(self) -> None:
        assert self.differences == [], "\n\n".join(self.differences)


@pytest.fixture
def record() -> Iterator[Any]:
    recorders: list[Recorder] = []

    def start(journey: str) -> Recorder:
        recorders.append(Recorder(journey))
        return recorders[-1]

    yield start
    for recorder in recorders:
        recorder.done()


# --- the people and campaigns --------------------------------------------------------------------


@dataclass
class World:
    petition: Petition
    letter: OpenLetter


@pytest.fixture
def world(transactional_db) -> World:
    sponsor = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    petition = PetitionFactory(
        title=PETITION,
        slug="doorbell-cameras",
        summary="Oakland police get doorbell footage without a warrant. End the deal.",
        demand="End the police partnership with Amazon Ring.",
        addressed_to="The Mayor and City Council of Oakland",
        body="## Why\n\nNobody **voted** for it.",
        closes_at=None,
    )
    petition.sponsors.add(sponsor)
    letter = OpenLetter.objects.create(
        slug="end-ring-partnerships",
        title=LETTER,
        summary="Officials should end these deals.",
        body="We, the undersigned, ask you to **end** these partnerships.",
        addressed_to="Local, state and federal officials",
        ask="End the partnerships.",
        status=OpenLetter.Status.PUBLISHED,
        media_contact_name="Robin Castellanos",
        media_contact_email="press@example.org",
        media_contact_phone="+1 555 0100",
        individuals_may_sign=True,
    )
    letter.lead_organizations.add(sponsor)
    signed = OrganizationSignature.objects.create(
        letter=letter, organization=sponsor, status=OrganizationSignature.Status.APPROVED
    )
    Statement.objects.create(
        signature=signed,
        speaker_name="Jamie Okafor",
        speaker_title="Deputy Director",
        text="End these deals.",
        status=Statement.Status.APPROVED,
    )
    alliance = OrganizationFactory(name="Media Alliance", slug="media-alliance")
    tracy = User.objects.create_user("tracy@mediaalliance.example", PASSWORD)
    Membership.objects.create(user=tracy, organization=alliance, role=Membership.Role.EDITOR)
    return World(petition=petition, letter=letter)


def _h1(page: Page):
    return page.get_by_role("heading", level=1)


# --- the journeys --------------------------------------------------------------------------------


def test_signing_confirming_and_withdrawing_as_a_screen_reader_hears_it(
    browse, world, record
) -> None:
    """One supporter, from the petition page to a confirmed signature, then taking it back."""
    page = browse()
    sign = record("sign")
    visit(page, world.petition.get_absolute_url())
    sign.step(page, "petition")
    page.get_by_role("button", name="Sign the petition").click()
    expect(page.get_by_role("alert")).to_be_visible()
    sign.step(page, "errors")
    form = page.locator("#sign form")
    form.get_by_role("textbox", name="Your name").press_sequentially("Maria Rossi")
    form.get_by_role("textbox", name=re.compile(r"^Email\b")).press_sequentially(
        "maria@example.org"
    )
    form.get_by_role("radio", name="My full name").check()
    sign.step(page, "filled")
    page.get_by_role("button", name="Sign the petition").click()
    expect(_h1(page)).to_have_text("Check your inbox")
    sign.step(page, "check-inbox")
    visit(page, confirmation_path(last_mail_to("maria@example.org").body))
    expect(_h1(page)).to_have_text("Confirm your signature")
    sign.step(page, "confirm")
    page.get_by_role("button", name="Confirm my signature").click()
    expect(_h1(page)).to_have_text("Thank you, your signature is confirmed")
    sign.step(page, "confirmed")

    withdraw = record("withdraw")
    page.get_by_role("contentinfo").get_by_role("link", name="Your signatures").click()
    expect(_h1(page)).to_have_text("Your signatures")
    withdraw.step(page, "request")
    page.get_by_role("textbox", name="The email you signed with").press_sequentially(
        "maria@example.org"
    )
    page.get_by_role("button", name="Email me a link").click()
    expect(_h1(page)).to_have_text("Check your inbox")
    withdraw.step(page, "sent")
    match = MY_SIGNATURES_LINK.search(last_mail_to("maria@example.org").body)
    assert match, "no link to the signatures in the email"
    visit(page, match.group(1))
    expect(_h1(page)).to_have_text("Your signatures")
    withdraw.step(page, "list")
    page.get_by_role("link", name=f"Withdraw my signature from “{PETITION}”").click()
    expect(_h1(page)).to_have_text("Withdraw your signature?")
    withdraw.step(page, "withdraw")
    page.get_by_role("button", name="Yes, withdraw it").click()
    expect(page.get_by_role("status")).to_contain_text("Your signature was withdrawn")
    withdraw.step(page, "done")


def test_cosigning_for_an_organization_and_the_press_page_as_a_screen_reader_hears_them(
    browse, world, record
) -> None:
    page = browse()
    cosign = record("cosign")
    visit(page, world.letter.get_absolute_url())
    cosign.step(page, "letter")
    page.get_by_role("link", name="Sign for your organization").click()
    cosign.step(page, "login")
    log_in(page, "tracy@mediaalliance.example")
    expect(_h1(page)).to_have_text("Sign for your organization")
    cosign.step(page, "form")
    # A statement needs someone to say it: without the spokesperson the form says so.
    page.get_by_role("textbox", name="Statement (optional)").press_sequentially(
        "A doorbell should not double as a police informant."
    )
    page.get_by_role("button", name="Sign the letter").click()
    expect(page.get_by_role("alert")).to_be_visible()
    cosign.step(page, "errors")
    expect(page.get_by_role("textbox", name="Statement (optional)")).to_have_value(
        "A doorbell should not double as a police informant."
    )
    page.get_by_role("textbox", name="Spokesperson's name").press_sequentially("Tracy Rosenberg")
    page.get_by_role("textbox", name="Spokesperson's title").press_sequentially(
        "Executive Director"
    )
    page.get_by_role("button", name="Sign the letter").click()
    expect(page.get_by_role("status").first).to_contain_text("once the lead organizations")
    cosign.step(page, "result")

    press = record("press")
    page.get_by_role("link", name="Press page").click()
    expect(_h1(page)).to_be_visible()
    press.step(page, "page")


# --- errors announced ----------------------------------------------------------------------------


def _submit_empty(page: Page, path: str, button: str, *, scope: str = "main") -> None:
    visit(page, path)
    page.locator(scope).get_by_role("button", name=button).click()
    expect(page.get_by_role("alert")).to_be_visible()


def test_every_form_announces_its_errors_and_ties_them_to_their_fields(browse, world) -> None:
    """3.3.1 and 4.1.3: the summary is read out at once, each field says it is invalid and which
    message is its own, on every public form a person can get wrong."""
    page = browse()
    petition, letter = world.petition, world.letter
    forms = {
        "petition sign form": (petition.get_absolute_url(), "Sign the petition", "#sign"),
        "letter sign form": (letter.get_absolute_url(), "Sign the letter", "#sign"),
        "new link": (f"/en/p/{petition.slug}/new-link/", "Email me a new link", "main"),
        "my signatures": ("/en/my-signatures/", "Email me a link", "main"),
        "organization join": ("/en/organizations/join/", "Register the organization", "main"),
        "login": ("/en/accounts/login/", "Log in", "main"),
    }
    found = {}
    for name, (path, button, scope) in forms.items():
        _submit_empty(page, path, button, scope=scope)
        found[name] = error_problems(page)

    visit(page, f"/en/letters/{letter.slug}/cosign/")
    log_in(page, "tracy@mediaalliance.example")
    page.get_by_role("textbox", name="Statement (optional)").fill("Yes.")
    page.get_by_role("button", name="Sign the letter").click()
    expect(page.get_by_role("alert")).to_be_visible()
    found["cosign form"] = error_problems(page)
    assert found == {name: [] for name in found}


def test_the_checks_catch_what_a_screen_reader_user_would_miss(browse, world) -> None:
    """Each check above can fail: the sign form's error state, broken one way at a time."""
    page = browse()
    _submit_empty(page, world.petition.get_absolute_url(), "Sign the petition", scope="#sign")
    assert step_problems(page) == []
    assert error_problems(page) == []

    page.evaluate("""() => {
        document.querySelector("#id_name").removeAttribute("aria-describedby");
        document.querySelector("#id_email").removeAttribute("aria-invalid");
        document.querySelector("label[for=id_postal_code]").textContent = "";
        document.querySelector("#id_country").setAttribute("aria-label", "Nation");
        document.querySelector("h1").insertAdjacentHTML("afterend", "<h4>Deep</h4>");
        document.querySelector("footer").remove();
        document.querySelector("#sign form").classList.add("d-flex", "flex-column-reverse");
    }""")
    errors = error_problems(page)
    assert 'name: its message "This field is required." is not in its aria-describedby' in errors
    assert 'email: shown invalid without aria-invalid="true"' in errors
    names = name_problems(page)
    assert "textbox without a name (shows '')" in names
    assert "combobox named 'Nation' but shows 'Country'" in names
    assert "h1 then h4 'Deep': a level skipped" in heading_problems(page)
    assert landmark_problems(page) == ["no contentinfo landmark"]
    assert any("but drawn above it" in problem for problem in order_problems(page))

    page.evaluate("""() => document.querySelector("[role=alert]").removeAttribute("role")""")
    assert "no error summary in an alert or assertive live region" in error_problems(page)

    if not UPDATE:
        # A recording that no longer matches is a failure, with the difference shown.
        recorder = Recorder("sign")
        recorder.steps = 1  # compared with sign-02-errors.yml, the same page before breaking it
        with pytest.raises(AssertionError):
            recorder.step(page, "errors")  # the step checks fail first on this broken page
        assert recorder.differences == []
        _submit_empty(page, world.petition.get_absolute_url(), "Sign the petition", scope="#sign")
        page.evaluate("""() => document.querySelector("#id_name").labels[0].append(" in full")""")
        recorder.steps = 1
        recorder.step(page, "errors")
        assert len(recorder.differences) == 1
        assert '+    - textbox "Your name* in full" [invalid]' in recorder.differences[0]


def test_a_press_of_the_button_that_waits_for_the_proof_of_work_is_announced(browse, world) -> None:
    """4.1.3: the sign form's script holds the submission until the browser's proof of work is
    done; the wait is said in a live region, not left as a button that seems to do nothing."""
    page = browse()
    held = []
    page.route("**/abuse/challenge", lambda route: held.append(route))
    visit(page, world.petition.get_absolute_url())
    form = page.locator("#sign form")
    status = form.get_by_role("status")
    expect(status).to_have_text("")
    form.get_by_role("textbox", name="Your name").press_sequentially("Maria Rossi")
    form.get_by_role("textbox", name=re.compile(r"^Email\b")).press_sequentially(
        "maria@example.org"
    )
    form.get_by_role("button", name="Sign the petition").click()
    expect(status).to_have_text("Sending… this takes a moment.")
    expect(form).to_have_attribute("aria-busy", "true")
    assert held, "the script asked for no challenge"
    held[0].continue_()
    expect(_h1(page)).to_have_text("Check your inbox")


# --- no redundant entry --------------------------------------------------------------------------


def test_what_a_signer_gave_once_is_not_asked_again(browse, world) -> None:
    """3.3.7 in the signing process: after an error the form keeps what was typed; "Ask for a
    new link" from "Check your inbox" already holds the address just given; the confirmation
    page shows the name and choice from the sign form, to correct rather than to retype; the
    letter's co-sign form keeps the statement after an error."""
    page = browse()
    visit(page, world.petition.get_absolute_url())
    form = page.locator("#sign form")
    name = form.get_by_role("textbox", name="Your name")
    name.press_sequentially("Maria Rossi")
    form.get_by_role("textbox", name="Postal code").press_sequentially("not a postal code!")
    form.get_by_role("radio", name="My full name").check()
    form.get_by_role("button", name="Sign the petition").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(name).to_have_value("Maria Rossi")
    expect(form.get_by_role("radio", name="My full name")).to_be_checked()
    form.get_by_role("textbox", name="Postal code").fill("")
    form.get_by_role("textbox", name=re.compile(r"^Email\b")).press_sequentially(
        "maria@example.org"
    )
    form.get_by_role("button", name="Sign the petition").click()
    expect(_h1(page)).to_have_text("Check your inbox")

    page.get_by_role("link", name="Still nothing? Ask for a new link.").click()
    email = page.get_by_role("textbox", name="The email you signed with")
    expect(email).to_have_value("maria@example.org")
    page.get_by_role("button", name="Email me a new link").click()
    expect(_h1(page)).to_have_text("Check your inbox")
    assert len([message for message in mail.outbox if "maria@example.org" in message.to]) == 2

    visit(page, confirmation_path(last_mail_to("maria@example.org").body))
    expect(page.get_by_role("textbox", name="Your name")).to_have_value("Maria Rossi")
    expect(page.get_by_role("radio", name="My full name")).to_be_checked()

    # Another visitor of the same new-link page, in another browser, is offered nothing.
    other = browse()
    visit(other, f"/en/p/{world.petition.slug}/new-link/")
    expect(other.get_by_role("textbox", name="The email you signed with")).to_have_value("")


# The other multi-step processes, read through Django's test client (no browser needed to see
# which fields a page asks for). Elsewhere already: the paper batch resumes on the next line with
# the country kept (tests/petitions/test_paper_views.py::test_typing_keeps_its_place_and_resumes)
# and keeps a refused line's text; 2FA set-up keeps its key after a wrong code, so nothing is
# scanned twice (tests/accounts/test_two_factor.py::test_a_wrong_code_is_refused_and_the_key_kept).

_FIELD_NAMES = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"[^>]*>')
_INVISIBLE = re.compile(r'type="(?:hidden|submit)"|tabindex="-1"')


def _asked(html: str) -> list[str]:
    """The fields a page asks a person to fill: not the hidden ones nor the honeypot."""
    return [
        match.group(1)
        for match in _FIELD_NAMES.finditer(html)
        if not _INVISIBLE.search(match.group(0)) and match.group(1) != "language"
    ]


def test_an_organization_joining_gives_each_detail_once(
    client, transactional_db, django_capture_on_commit_callbacks
) -> None:
    join = {
        "name": "Electronic Frontier Foundation",
        "website": "www.eff.org",
        "contact_name": "Cindy Cohn",
        "contact_email": "press@eff.org",
    }
    assert _asked(client.get("/en/organizations/join/").content.decode()) == list(join)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/organizations/join/", join)
    confirm = re.search(r"https?://\S+(/en/organizations/confirm/\S+/)", mail.outbox[-1].body)
    assert confirm
    page = client.get(confirm.group(1)).content.decode()
    # The confirmation shows what was registered, and asks nothing but a press of the button.
    assert _asked(page) == []
    assert "Electronic Frontier Foundation" in page and "Cindy Cohn" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm.group(1))
    link = re.search(r"https?://\S+(/en/accounts/set-password/\S+/)", mail.outbox[-1].body)
    assert link
    page = client.get(link.group(1), follow=True).content.decode()
    assert "press@eff.org" in page
    # The address is shown, not asked. The password is typed twice: a confirmation of a secret
    # nobody can see as they type it, which 3.3.7 allows as essential to security.
    assert _asked(page) == ["new_password1", "new_password2"]


def test_a_draft_campaign_comes_back_with_what_was_written(client, transactional_db) -> None:
    from tests.petitions.drafting_forms import petition_form

    lead = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy-drafts")
    editor = User.objects.create_user("ed@oaklandprivacy.example", PASSWORD)
    Membership.objects.create(user=editor, organization=lead, role=Membership.Role.EDITOR)
    client.force_login(editor)
    base = f"/en/organizations/{lead.slug}/campaigns/"
    # A preview, and a form refused for a missing title, keep every other field as typed.
    for extra in ({"preview": "1"}, {"title_en": "", "save": "1"}):
        page = client.post(f"{base}new/petition/", petition_form(**extra)).content.decode()
        assert "Oakland police should stop asking for doorbell footage." in page
    saved = client.post(f"{base}new/petition/", petition_form(save="1"))
    # The next step, the draft's own page, shows the texts in its form to go on from.
    form = client.get(saved["Location"]).context["form"]
    assert form["title_en"].value() == "End the Ring partnership"
    assert form["summary_en"].value() == "Oakland police should stop asking for doorbell footage."


def test_the_address_is_kept_by_the_signers_browser_for_the_new_link_page_only(
    client, world
) -> None:
    """The pre-filled new-link form of the journey above, and what it costs in privacy: a signed
    cookie sent to that one page, until the browser closes, out of reach of scripts; none for a
    refused form; the filled page never cached, and the cookie gone once a link was asked for."""
    sign = f"/en/p/{world.petition.slug}/sign/"
    refused = client.post(sign, {"name": "Maria Rossi", "email": "", "display": "full"})
    assert refused.status_code == 400 and "signed_with" not in refused.cookies
    done = client.post(
        sign, {"name": "Maria Rossi", "email": "maria@example.org", "display": "full"}
    )
    assert done.status_code == 302
    cookie = done.cookies["signed_with"]
    assert cookie["path"] == f"/en/p/{world.petition.slug}/new-link/"
    assert (cookie["max-age"], cookie["expires"]) == ("", "")  # a session cookie
    assert (cookie["httponly"], cookie["samesite"]) == (True, "Lax")
    page = client.get(f"/en/p/{world.petition.slug}/new-link/")
    assert page.context["form"]["email"].value() == "maria@example.org"
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]
    asked = client.post(f"/en/p/{world.petition.slug}/new-link/", {"email": "maria@example.org"})
    assert asked.status_code == 302
    assert asked.cookies["signed_with"].value == "" and asked.cookies["signed_with"]["max-age"] == 0
    again = client.get(f"/en/p/{world.petition.slug}/new-link/")
    assert again.context["form"]["email"].value() in ("", None)
