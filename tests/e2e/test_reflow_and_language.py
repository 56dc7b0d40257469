"""What axe-core cannot see, checked in the browser on the main pages (issue 22):
- reflow (WCAG 1.4.10): at 320 CSS pixels wide, and at 400% zoom of a 1280x1024 desktop, nothing
  scrolls sideways and nothing is cut off sideways, but for the exempt content (data tables,
  maps, charts) that scrolls in its own box;
- text spacing (1.4.12): with the criterion's spacing forced on every element, no text is
  clipped and no two text boxes overlap;
- page titles (2.4.2): every page's title says what it is, one per purpose, in one pattern, and
  a form sent back with errors says so first;
- language (3.1.1, 3.1.2): the page's language is declared, and so is every passage in another
  (a campaign written in Italian only, shown on the English page).
Each check is shown to fail on a page broken on purpose."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from letters.models import LetterUpdate, OpenLetter
from petitions.drafting import services as drafting
from petitions.drafting.petition_kind import PETITION
from petitions.models import Petition, PetitionUpdate
from tests.e2e.helpers import log_in, visit
from tests.e2e.test_accessibility import PAGES, Campaigns, Visit, campaigns
from tests.factories import PetitionFactory, SignatureFactory
from tests.images import fresh_media  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

__all__ = ["campaigns"]  # the fixture, shared with the axe-core audit of the same pages

# 1.4.10's two ways to reach 320 CSS pixels: a narrow window, and a desktop at 400% zoom.
NARROW: dict[str, object] = {"viewport": {"width": 320, "height": 640}}
ZOOMED: dict[str, object] = {"viewport": {"width": 320, "height": 256}, "device_scale_factor": 4}

# Content 1.4.10 exempts, as "two-dimensional layout for usage or meaning": a data table, which
# scrolls inside its own box (Bootstrap's .table-responsive), and the charts and maps, which
# shrink with the page but may be read wider. Only inside these may anything scroll sideways.
REFLOW_EXEMPT = ", ".join(
    [
        ".table-responsive",  # data tables (workspace lists, dashboards' tables)
        "svg.picture-line",  # the chart of signatures by day (includes/line_chart.html)
        "svg.picture-map",  # the maps (includes/choropleth.html)
    ]
)

# Shared by the checks below: what a person sees of an element. Hidden on purpose for all but
# screen readers (Bootstrap's .visually-hidden: a 1-pixel clipped box) or for bots only (the
# honeypot .form-trap, far off-screen): neither is content cut off.
_SEEN = """
  const seen = (el) => {
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1) return false;
    const hidden = ".visually-hidden, .visually-hidden-focusable:not(:focus), .form-trap";
    if (el.closest(hidden)) return false;
    const style = getComputedStyle(el);
    return style.visibility !== "hidden" && style.display !== "none";
  };
  const describe = (el) => {
    const classes = Array.from(el.classList).slice(0, 3).map((c) => "." + c).join("");
    const text = (el.innerText || el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${classes} "${text}"`;
  };
"""

_REFLOW_PROBLEMS = (
    """(exempt) => {"""
    + _SEEN
    + """
  // What a reader can open must reflow too ("Show the numbers" under each chart and map).
  for (const details of document.querySelectorAll("details")) details.open = true;
  const root = document.documentElement;
  const width = root.clientWidth;
  const problems = [];
  const wide = [];
  if (root.scrollWidth > width) {
    problems.push(`the page scrolls sideways: ${root.scrollWidth}px in ${width}px`);
  }
  for (const el of document.body.querySelectorAll("*")) {
    if (!seen(el) || el.closest(exempt)) continue;
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    // What sticks out (a box, or the text overflowing it), rather than only the page that
    // scrolls because of it.
    // A field's value longer than the field is not lost: its caret scrolls it, in every browser.
    const field = el.matches("input, select, textarea");
    const right = field ? rect.right : Math.max(rect.right, rect.left + el.scrollWidth);
    if (right > width + 1 || rect.left < -1) {
      const span = `${Math.round(rect.left)}..${Math.round(right)}px`;
      wide.push([el, `${describe(el)} spans ${span}`]);
    }
    if (field) continue;
    const cuts = ["hidden", "clip"].includes(style.overflowX);
    const scrolls = ["auto", "scroll"].includes(style.overflowX);
    if ((cuts || scrolls) && el.scrollWidth > el.clientWidth + 1) {
      const how = cuts ? "cuts off" : "scrolls";
      problems.push(`${describe(el)} ${how} ${el.scrollWidth - el.clientWidth}px sideways`);
    }
  }
  // The innermost of the boxes too wide: their ancestors are wide only because of them.
  for (const [el, line] of wide) {
    if (!wide.some(([other]) => other !== el && el.contains(other))) problems.push(line);
  }
  return problems;
}"""
)

# The text-spacing bookmarklet of WCAG's own understanding document, as a style sheet.
TEXT_SPACING = """
* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
    word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }
"""

_SPACING_PROBLEMS = (
    """() => {"""
    + _SEEN
    + """
  const problems = [];
  const all = Array.from(document.body.querySelectorAll("*")).filter(seen);
  for (const el of all) {
    // A field's value scrolls with its caret (and a list of options with its scroll bar).
    if (el.matches("input, select, textarea")) continue;
    const style = getComputedStyle(el);
    const clips = (axis) => ["hidden", "clip"].includes(axis);
    if (clips(style.overflowX) && el.scrollWidth > el.clientWidth + 2) {
      problems.push(`${describe(el)} clips ${el.scrollWidth - el.clientWidth}px of its width`);
    }
    if (clips(style.overflowY) && el.scrollHeight > el.clientHeight + 2) {
      problems.push(`${describe(el)} clips ${el.scrollHeight - el.clientHeight}px of its height`);
    }
  }
  // Overlap: two boxes side by side in one parent, each with words of its own, drawn over each
  // other (a fixed height that the spaced text outgrew, a badge over a title...).
  const hasText = (el) => Array.from(el.childNodes).some(
    (node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
  const texts = all.filter(hasText);
  const byParent = new Map();
  for (const el of texts) {
    const list = byParent.get(el.parentElement) || [];
    list.push(el);
    byParent.set(el.parentElement, list);
  }
  for (const siblings of byParent.values()) {
    for (let i = 0; i < siblings.length; i++) {
      for (let j = i + 1; j < siblings.length; j++) {
        // Line by line: a link wrapped over two lines has a bounding box over its neighbour's.
        const overlap = Array.from(siblings[i].getClientRects()).some((a) =>
          Array.from(siblings[j].getClientRects()).some((b) =>
            Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2
            && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2));
        if (overlap) problems.push(`${describe(siblings[i])} overlaps ${describe(siblings[j])}`);
      }
    }
  }
  return problems;
}"""
)


def reflow_problems(page: Page) -> list[str]:
    return page.evaluate(_REFLOW_PROBLEMS, REFLOW_EXEMPT)


def spacing_problems(page: Page) -> list[str]:
    """The page with WCAG's text spacing forced on it; the page keeps it until reloaded."""
    # A constructed style sheet: the pages' Content-Security-Policy refuses a <style> element.
    page.evaluate(
        """(css) => {
            const sheet = new CSSStyleSheet();
            sheet.replaceSync(css);
            document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
        }""",
        TEXT_SPACING,
    )
    return page.evaluate(_SPACING_PROBLEMS)


@pytest.fixture
def rich(campaigns: Campaigns) -> Campaigns:
    """The open petition with what makes its page widest: signatures from several countries
    and states (the chart, the maps and their tables), and an update."""
    for country, region, how_many in [("US", "CA", 6), ("US", "NY", 5), ("IT", "", 5)]:
        for day in range(how_many):
            SignatureFactory(
                petition=campaigns.open,
                confirmed=True,
                confirmed_at=timezone.now() - timedelta(days=day),
                country=country,
                region=region,
                counted=True,
            )
    Petition.objects.filter(pk=campaigns.open.pk).update(signature_count=19)
    return campaigns


def _as_lead(path: str) -> Callable[[Page, Campaigns], None]:
    """A workspace page for the lead organization's admin, logging in on the first one."""

    def open_page(page: Page, campaigns: Campaigns) -> None:
        visit(page, path)
        if "/accounts/login/" in page.url:
            log_in(page, "lead@example.org")
        expect(page.get_by_role("heading", level=1)).to_be_visible()

    return open_page


def _lead_slug(campaigns: Campaigns) -> str:
    return campaigns.letter.lead_organizations.get().slug


def _dashboard(page: Page, campaigns: Campaigns) -> None:
    _as_lead(f"/en/organizations/{_lead_slug(campaigns)}/petitions/{campaigns.open.slug}/")(
        page, campaigns
    )


def _drafting_campaign(page: Page, campaigns: Campaigns) -> None:
    lead = campaigns.letter.lead_organizations.get()
    draft = drafting.draft_create(
        kind=PETITION,
        campaign=Petition(
            title_en="End the Ring partnership in Alameda",
            summary_en="Alameda police should stop asking for doorbell footage.",
            demand_en="End the partnership.",
            addressed_to_en="Alameda City Council",
            body_en="Because **cameras** watch everyone.",
            language="en",
        ),
        organization=lead,
        user=User.objects.get(email="lead@example.org"),
    )
    _as_lead(f"/en/organizations/{lead.slug}/campaigns/petition/{draft.pk}/")(page, campaigns)


def _petition_with_pictures(page: Page, campaigns: Campaigns) -> None:
    """The widest public page: the petition with its chart, its maps and their tables."""
    visit(page, campaigns.open.get_absolute_url())
    expect(page.locator("#pictures svg.picture-line")).to_be_visible()
    expect(page.locator("#pictures svg.picture-map")).to_have_count(2)
    expect(page.get_by_role("heading", name="The council votes on Tuesday")).to_be_visible()


def _english(name: str) -> Callable[[Page, Campaigns], object]:
    """The axe-core audit's way to reach a page, in English."""
    return lambda page, campaigns: PAGES[name](Visit(page, campaigns, "en"))


# The main pages, a visitor's and a member's (reusing the axe-core audit's ways to reach them).
MAIN_PAGES: dict[str, Callable[[Page, Campaigns], object]] = {
    "petition": _petition_with_pictures,
    **{
        name: _english(name)
        for name in [
            "catalog",
            "sign-form-errors",
            "letter",
            "letter-press",
            "my-signatures-errors",
            "my-signatures-list",
            "login",
            "organization-join-errors",
            "privacy",
        ]
    },
    "dashboard": _dashboard,
    "drafting-campaign": _drafting_campaign,
}


@pytest.mark.parametrize(("zoom", "options"), [("320px", NARROW), ("400%", ZOOMED)])
def test_main_pages_reflow_to_320_pixels_without_sideways_scrolling(
    browse, rich, zoom, options
) -> None:
    page = browse(**options)
    found = {}
    for name, open_page in MAIN_PAGES.items():
        open_page(page, rich)
        if problems := reflow_problems(page):
            found[name] = problems
    assert not found, f"at {zoom}, content lost or scrolling sideways: {found}"


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_main_pages_keep_all_text_with_wcag_text_spacing(browse, rich, device) -> None:
    page = browse(device=device)
    found = {}
    for name, open_page in MAIN_PAGES.items():
        open_page(page, rich)
        if problems := spacing_problems(page):
            found[name] = problems
    assert not found, f"with WCAG's text spacing, text clipped or overlapping: {found}"


def test_the_layout_checks_catch_content_too_wide_clipped_or_overlapping(browse, rich) -> None:
    page = browse(**NARROW)
    visit(page, rich.open.get_absolute_url())
    assert reflow_problems(page) == []
    page.evaluate("""() => {
        document.querySelector("h1").style.whiteSpace = "nowrap";
        const demand = document.querySelector("#demand");
        demand.style.overflow = "hidden";
        demand.style.whiteSpace = "nowrap";
    }""")
    found = reflow_problems(page)
    assert any(line.startswith("the page scrolls sideways") for line in found), found
    assert any(line.startswith("h1 ") and "spans" in line for line in found), found
    assert any(line.startswith("p#demand") and "cuts off" in line for line in found), found

    # A box of fixed height and a button too small for the spaced words; a badge over a title.
    visit(page, rich.open.get_absolute_url())
    page.evaluate("""() => {
        const summary = document.querySelector("p.fs-5");
        summary.style.height = "1.2em";
        summary.style.overflow = "hidden";
        const demand = document.querySelector("#demand");
        const badge = document.createElement("span");
        badge.textContent = "Urgent";
        badge.style.position = "absolute";
        badge.style.left = demand.getBoundingClientRect().left + "px";
        badge.style.top = demand.getBoundingClientRect().top + window.scrollY + "px";
        demand.parentElement.insertBefore(badge, demand);
    }""")
    found = spacing_problems(page)
    assert any(line.startswith("p.fs-5") and "clips" in line for line in found), found
    assert any("overlaps" in line and "Urgent" in line for line in found), found


def _h1(page: Page) -> str:
    heading = page.locator("h1")
    return " ".join(heading.first.inner_text().split()) if heading.count() else ""


def _workspace(path: Callable[[Campaigns], str]) -> Callable[[Page, Campaigns], None]:
    return lambda page, campaigns: _as_lead(path(campaigns))(page, campaigns)


def _italian_sign_with_errors(page: Page, campaigns: Campaigns) -> None:
    visit(page, f"/it/p/{campaigns.open.slug}/")
    page.locator("#sign form [type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _italian(path: Callable[[Campaigns], str], *, status: int = 200):
    return lambda page, campaigns: visit(page, path(campaigns), status=status)


# Beyond the audited public pages: the workspace's, and the main pages in Italian.
MORE_PAGES: dict[str, Callable[[Page, Campaigns], object]] = {
    "dashboard": _dashboard,
    "drafting-campaign": _drafting_campaign,
    "workspace-petitions": _workspace(lambda c: f"/en/organizations/{_lead_slug(c)}/petitions/"),
    "workspace-letters": _workspace(lambda c: f"/en/organizations/{_lead_slug(c)}/letters/"),
    "workspace-campaigns": _workspace(lambda c: f"/en/organizations/{_lead_slug(c)}/campaigns/"),
    "it:catalog": _italian(lambda c: "/it/"),
    "it:petition": _italian(lambda c: f"/it/p/{c.open.slug}/"),
    "it:sign-form-errors": _italian_sign_with_errors,
    "it:letter": _italian(lambda c: f"/it/letters/{c.letter.slug}/"),
    "it:letter-press": _italian(lambda c: f"/it/letters/{c.letter.slug}/press/"),
    "it:privacy": _italian(lambda c: "/it/privacy/"),
    "it:login": _italian(lambda c: "/it/accounts/login/"),
    "it:my-signatures": _italian(lambda c: "/it/my-signatures/"),
    "it:organization-join": _italian(lambda c: "/it/organizations/join/"),
    "it:not-found": _italian(lambda c: "/it/p/no-such-campaign/", status=404),
}


# Pages that differ in their address but not in their purpose: one title between them is right.
SAME_PURPOSE = {
    "catalog-filtered": "catalog",
    "catalog-no-match": "catalog",
    "petition-from-sponsor": "petition",  # the same page, reached through a sponsor's link
    "petition-embed": "petition",  # the petition's own page, framed on a campaigner's site
    "petition-embed-closed": "petition-closed",
    # The same form, sent back for another field, previewed, or shown again once answered.
    "sign-questions-errors": "sign-form-errors",
    "letter-questions-errors": "letter-sign-errors",
    "threshold-answer-preview": "threshold-answer",
    "threshold-answer-sent": "threshold-answer",
}
# The pages showing a form sent back with errors.
FORM_ERRORS = {name for name in PAGES if name.endswith("-errors")} | {
    "catalog-bad-filter",
    "it:sign-form-errors",
}
TITLE = re.compile(r"(?:(Error|Errore): )?(.+) · Cosign")


def title_problems(name: str, title: str, h1: str, campaign_titles: list[str]) -> list[str]:
    """What is wrong with one page's title, given its main heading."""
    match = TITLE.fullmatch(title)
    if not match or match.group(2) == "Cosign":
        return [f"{name}: {title!r} is not “<what the page is> · Cosign”"]
    problems = []
    if bool(match.group(1)) != (name in FORM_ERRORS):
        problems.append(f"{name}: {title!r} should say first whether the form has errors")
    first = match.group(2).split(" · ")[0].casefold()
    says = h1.casefold() in title.casefold() or (h1 and first in h1.casefold())
    if not says and not any(campaign in title for campaign in campaign_titles):
        problems.append(f"{name}: {title!r} says neither the heading {h1!r} nor the campaign")
    return problems


@pytest.mark.usefixtures("fresh_media")
def test_every_page_title_says_what_the_page_is_one_per_purpose(browse, campaigns) -> None:
    member = browse()
    titles: dict[str, str] = {}
    problems: list[str] = []
    pages = {**{name: _english(name) for name in PAGES}, **MORE_PAGES}
    for name, open_page in pages.items():
        # It closes the petition, which the pages after it need open; "confirmed" is the
        # same kind of page.
        if name == "confirm-after-closing":
            continue
        # A browser of its own for each visitor's page: some log a member in where they land.
        page = member if name in MORE_PAGES else browse()
        open_page(page, campaigns)
        titles[name] = page.title()
        campaign_titles = [
            campaigns.open.title,
            campaigns.letter.title,
            campaigns.closed.title,
            "A campaign being written",
        ]
        problems += title_problems(name, titles[name], _h1(page), campaign_titles)
        if page is not member:
            page.context.close()

    # Unique in each language: a title the same in both ("Privacy") is one page's.
    purposes: dict[tuple[bool, str], set[str]] = defaultdict(set)
    for name, title in titles.items():
        italian = name.startswith("it:")
        purposes[italian, title].add(SAME_PURPOSE.get(name, name))
    problems += [
        f"one title for different pages: {title!r} on {sorted(names)}"
        for (_, title), names in purposes.items()
        if len(names) > 1
    ]
    assert not problems, "\n".join(problems)


def test_the_title_check_catches_a_vague_title_and_a_silent_error(browse, campaigns) -> None:
    page = browse()
    _italian_sign_with_errors(page, campaigns)
    title, h1 = page.title(), _h1(page)
    assert title.startswith("Errore: "), title
    assert title_problems("it:sign-form-errors", title, h1, [campaigns.open.title]) == []
    assert title_problems("sign-form-errors", "Cosign · Cosign", h1, []) == [
        "sign-form-errors: 'Cosign · Cosign' is not “<what the page is> · Cosign”"
    ]
    assert title_problems("sign-form-errors", f"{h1} · Cosign", h1, []) == [
        f"sign-form-errors: '{h1} · Cosign' should say first whether the form has errors"
    ]
    assert title_problems("privacy", "Signatures · Cosign", "Privacy", []) == [
        "privacy: 'Signatures · Cosign' says neither the heading 'Privacy' nor the campaign"
    ]


# Each text node containing one of `texts`, with the language it is declared in.
_LANGUAGES_OF = """(texts) => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    // Exempt: a field's value to copy, which one language attribute cannot split (the embed
    // code, HTML; the press release as plain text, the interface's words around the letter's).
    if (node.parentElement.closest("textarea")) continue;
    for (const text of texts) {
      if (node.textContent.includes(text)) {
        const declared = node.parentElement.closest("[lang]");
        const parent = node.parentElement;
        const where = parent.tagName.toLowerCase() + (parent.id ? "#" + parent.id : "");
        found.push([text, declared ? declared.lang : "", where]);
      }
    }
  }
  return found;
}"""


def language_problems(page: Page, texts: list[str], language: str) -> list[str]:
    """Where the page shows one of `texts` without declaring it in `language`."""
    found = page.evaluate(_LANGUAGES_OF, texts)
    missing = [text for text in texts if text not in {shown for shown, _, _ in found}]
    return [f"{page.url}: {text!r} is not on the page" for text in missing] + [
        f"{page.url}: {text!r} in {where} is declared {declared!r}, not {language!r}"
        for text, declared, where in found
        if declared != language
    ]


ITALIAN = {
    "title": "Fermate le telecamere dei campanelli a Oakland",
    "summary": "La polizia non deve chiedere i video dei campanelli.",
    "demand": "Chiudete l'accordo con Amazon Ring.",
    "body": "Nessuno lo ha mai votato.",
    "addressed_to": "Consiglio comunale di Oakland",
}


@pytest.fixture
def italian_only(campaigns: Campaigns) -> tuple[Petition, OpenLetter]:
    """A petition and a letter written in Italian and not yet translated, and an update in
    Italian only on the English petition: the English pages fall back to the Italian words."""
    petition = PetitionFactory()
    Petition.objects.filter(pk=petition.pk).update(
        language="it",
        **{f"{field}_en": "" for field in ITALIAN},
        **{f"{field}_it": text for field, text in ITALIAN.items()},
    )
    letter = OpenLetter.objects.create(
        slug="lettera-aperta",
        status=OpenLetter.Status.PUBLISHED,
        published_at=timezone.now(),
        title_it="Lettera aperta contro le telecamere",
        summary_it="Le organizzazioni chiedono di fermare gli accordi.",
        body_it="Noi sottoscritte chiediamo di **fermare** questi accordi.",
        addressed_to_it="Sindaci e consigli comunali",
        ask_it="Fermate gli accordi.",
    )
    LetterUpdate.objects.create(letter=letter, text_it="Altre sei organizzazioni hanno firmato.")
    PetitionUpdate.objects.create(
        petition=campaigns.open,
        title_it="Il consiglio vota martedì",
        body_it="Venite in municipio.",
        published_at=timezone.now(),
    )
    petition.refresh_from_db()
    return petition, letter


def test_every_page_declares_its_language_and_each_passage_in_another(
    browse, campaigns, italian_only
) -> None:
    petition, letter = italian_only
    page = browse()
    problems: list[str] = []
    # 3.1.1: the page's language, in both.
    for path in ["/en/", "/it/", f"/en/p/{petition.slug}/", f"/it/letters/{letter.slug}/"]:
        visit(page, path)
        language = path.split("/")[1]
        if (declared := page.locator("html").get_attribute("lang")) != language:
            problems.append(f"{path}: html lang={declared!r}, not {language!r}")
        # The names of the languages in the switcher, each in its own.
        for option, code in [("English", "en"), ("Italiano", "it")]:
            problems += language_problems(page, [option], code)

    # 3.1.2: Italian words on English pages: in the catalog, on the petition and the letter,
    # in the petition's embedded widget, on the press page, an update.
    petition_texts = [ITALIAN[field] for field in ("title", "summary", "demand", "body")]
    letter_texts = ["Lettera aperta contro le telecamere", "Le organizzazioni chiedono"]
    visit(page, "/en/")
    problems += language_problems(page, [ITALIAN["title"], ITALIAN["summary"]], "it")
    problems += language_problems(page, letter_texts, "it")
    visit(page, petition.get_absolute_url())
    problems += language_problems(page, [*petition_texts, ITALIAN["addressed_to"]], "it")
    visit(page, f"/en/p/{petition.slug}/embed/")
    problems += language_problems(page, [ITALIAN["title"]], "it")
    visit(page, campaigns.open.get_absolute_url())
    problems += language_problems(page, ["Il consiglio vota martedì", "Venite in municipio."], "it")
    visit(page, letter.get_absolute_url())
    problems += language_problems(
        page,
        [
            "Lettera aperta contro le telecamere",
            "Sindaci e consigli comunali",
            "Noi sottoscritte chiediamo di",
            "Altre sei organizzazioni hanno firmato.",
        ],
        "it",
    )
    visit(page, f"/en/letters/{letter.slug}/press/")
    problems += language_problems(
        page, ["Lettera aperta contro le telecamere", "Fermate gli accordi."], "it"
    )
    # And English words on an Italian page: a petition not yet translated.
    visit(page, f"/it/p/{campaigns.open.slug}/")
    problems += language_problems(page, [campaigns.open.title, campaigns.open.demand], "en")
    assert not problems, "\n".join(problems)


def test_the_language_check_catches_a_passage_without_its_language(
    browse, campaigns, italian_only
) -> None:
    petition, _ = italian_only
    page = browse()
    visit(page, petition.get_absolute_url())
    assert language_problems(page, [ITALIAN["title"]], "it") == []
    page.evaluate("() => document.querySelector('h1').removeAttribute('lang')")
    assert language_problems(page, [ITALIAN["title"]], "it") == [
        f"{page.url}: {ITALIAN['title']!r} in h1 is declared 'en', not 'it'"
    ]
