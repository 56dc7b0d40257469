"""What a browser test does again and again: open a page, check it as a person would need it, fill
the sign form, read the email."""

from __future__ import annotations

import re
from pathlib import Path

from django.core import mail
from playwright.sync_api import Page, Response

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# axe-core's own scale; "moderate" and "minor" findings are reported, not failed on.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
CONFIRM_LINK = re.compile(r"https?://[^\s/]+(/\S+/confirm/\S+/)")

# axe-core from the npm registry, pinned in package.json and installed by `make test` (npm ci):
# the copy bundled in a Python package lags the current rules by years.
AXE_SOURCE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Every WCAG 2.0, 2.1 and 2.2 rule of levels A and AA, and the best-practice rules (landmarks,
# headings, skip link...) that stand for a success criterion axe cannot decide alone.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
# axe ships some WCAG rules as "experimental", off unless asked for (a paragraph styled as a
# heading, a table's fake caption...): they are asked for here too.
_AXE_RUN = """async ([tags, exclude]) => {
  const experimental = axe.getRules(["experimental"])
    .filter((rule) => rule.tags.some((tag) => tags.includes(tag)));
  const rules = Object.fromEntries(experimental.map((rule) => [rule.ruleId, {enabled: true}]));
  const results = await axe.run(exclude.length ? {exclude} : document, {
    runOnly: {type: "tag", values: tags}, rules, resultTypes: ["violations"],
  });
  return results.violations;
}"""


def visit(page: Page, path: str, *, status: int = 200) -> Response:
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path} answered {response.status}, not {status}"
    return response


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page for review; the file name says which page and which device."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}-{'phone' if width < 576 else 'desktop'}.png"
    # At one pixel per CSS pixel: a phone's 3x would be nine times the pixels for the same review.
    page.screenshot(path=str(path), full_page=True, scale="css")
    return path


def accessibility_violations(page: Page, *, exclude: tuple[str, ...] = ()) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each.
    `exclude`: selectors of third-party markup a test names as a known exception."""
    if not AXE_SOURCE.exists():
        raise AssertionError(f"No axe-core at {AXE_SOURCE}: `make test` installs it (npm ci).")
    source = AXE_SOURCE.read_text()
    # Into every frame, since axe audits an embedded page only where it runs too. Evaluated by
    # the browser's debugger protocol, so the pages' Content-Security-Policy does not refuse it.
    for frame in page.frames:
        frame.evaluate(source)
    violations = page.evaluate(_AXE_RUN, [AXE_TAGS, list(exclude)])
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in violations
        if violation["impact"] in BLOCKING_IMPACTS
    ]


# Our own check beside axe's "label" rule, stricter in one way: a placeholder or a title is not
# a label, since both vanish or hide from many readers.
_UNLABELLED_FIELDS = """() => Array.from(
    document.querySelectorAll("input, select, textarea")
  ).filter((el) => el.type !== "hidden" && el.type !== "submit" && el.type !== "button")
   .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-labelledby"))
   .map((el) => el.outerHTML.slice(0, 120))"""


def unlabelled_fields(page: Page) -> list[str]:
    return page.evaluate(_UNLABELLED_FIELDS)


def audit(page: Page, name: str) -> None:
    """A page as every visitor needs it: no serious accessibility finding, every field labelled;
    and a screenshot for a person to look at."""
    screenshot(page, name)
    found = accessibility_violations(page)
    assert found == [], f"{name}: axe-core findings: {found}"
    unlabelled = unlabelled_fields(page)
    assert unlabelled == [], f"{name}: fields without a label: {unlabelled}"


def fill_sign_form(
    page: Page,
    *,
    name: str,
    email: str,
    postal_code: str = "",
    country: str = "",
    display: str,
    updates: bool = False,
    labels: dict[str, str] | None = None,
) -> None:
    """Fill the sign form by its visible labels, as a person reads them (English by default)."""
    labels = {
        "name": "Your name",
        "email": "Email",
        "postal_code": "Postal code",
        "country": "Country",
        "updates": "Email me updates about this campaign",
        **(labels or {}),
    }
    form = page.locator("#sign form")
    form.get_by_role("textbox", name=labels["name"]).fill(name)
    # "Email" alone: the updates checkbox's label starts with the same word.
    form.get_by_role("textbox", name=re.compile(rf"^{labels['email']}\b")).fill(email)
    if postal_code:
        form.get_by_label(labels["postal_code"]).fill(postal_code)
    if country:
        form.get_by_label(labels["country"]).select_option(label=country)
    form.get_by_label(display).check()
    if updates:
        form.get_by_label(labels["updates"]).check()


def confirmation_path(body: str) -> str:
    """The path of the confirmation link in an email's text."""
    match = CONFIRM_LINK.search(body)
    assert match, f"no confirmation link in:\n{body}"
    return match.group(1)


def last_mail_to(address: str) -> mail.EmailMessage:
    """The newest message sent in-process (Django's locmem backend) to an address."""
    messages = [message for message in mail.outbox if address in message.to]
    assert messages, f"no email to {address}; sent to: {[m.to for m in mail.outbox]}"
    return messages[-1]


def signers_listed(page: Page) -> list[str]:
    return [item.strip() for item in page.locator("#recent-signers li").all_inner_texts()]


def public_count(page: Page) -> str:
    return page.locator("#signature-count").inner_text().strip()


# Members in browser tests share one password, made with User.objects.create_user(email, PASSWORD).
PASSWORD = "a-long-password-for-tests"


def log_in(page: Page, email: str) -> None:
    """Fill the members' login form the page was sent to."""
    page.get_by_role("textbox", name=re.compile("^Email")).fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
