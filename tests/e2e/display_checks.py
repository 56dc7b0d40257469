"""Checks made in the browser that axe-core cannot make (WCAG 2.2): where the keyboard goes and
whether a person sees where it is (2.1.1, 2.4.3, 2.4.7, 2.4.11), how big a target is (2.5.8),
what is left of each control in forced colours, and whether anything moves when a person asked
for less motion (2.3.3, and Bootstrap's own rule). Each returns what it found, one line a
problem, so a test can show them all at once."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Page

# What the keyboard may reach; `tabIndex` then tells which it does.
_FOCUSABLE = (
    "a[href], area[href], button, input, select, textarea, summary, iframe, [tabindex], "
    "[contenteditable]"
)
# What a pointer may hit (2.5.8 calls them targets).
_TARGETS = (
    "a[href], button, input, select, textarea, summary, [role=button], [role=link], "
    "[role=checkbox], [role=radio], [role=tab], [role=menuitem], [tabindex]:not([tabindex='-1'])"
)

_JS_COMMON = r"""
const describe = (el) => {
  const text = (el.getAttribute("aria-label") || el.innerText || el.value || el.title || "")
    .trim().replace(/\s+/g, " ").slice(0, 40);
  return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}`
    + `${el.name ? "[name=" + el.name + "]" : ""} "${text}"`;
};
const transparent = (color) => color === "transparent" || /rgba\(.*,\s*0\)$/.test(color);
"""

# Before the first Tab: every control the keyboard should reach (a radio group once: Tab enters
# a group, arrow keys move within it), what each looks like unfocused, and what is pinned.
_PREPARE = (
    "(selector) => {"
    + _JS_COMMON
    + r"""
  const PROPS = ["outline-style", "outline-width", "outline-color", "box-shadow",
    "border-top-color", "border-bottom-color", "border-left-color", "border-right-color",
    "border-top-width", "border-bottom-width", "background-color", "color",
    "text-decoration-line", "text-decoration-thickness"];
  for (const animation of document.getAnimations()) animation.finish();
  window.__kb = {PROPS, keys: new Map(), baseline: new Map(), pinned: []};
  const expected = [], positive = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.tabIndex < 0 || el.disabled || el.type === "hidden" || el.closest("[inert]")) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const key = el.type === "radio"
      ? `radio group ${el.name}` : `${expected.length} ${describe(el)}`;
    window.__kb.keys.set(el, key);
    const style = getComputedStyle(el);
    const look = PROPS.map((p) => [p, style.getPropertyValue(p)]);
    window.__kb.baseline.set(el, Object.fromEntries(look));
    if (!expected.includes(key)) expected.push(key);
    if (el.tabIndex > 0) positive.push(describe(el));
  }
  for (const el of document.body.querySelectorAll("*")) {
    const position = getComputedStyle(el).position;
    if (position === "fixed" || position === "sticky") window.__kb.pinned.push(el);
  }
  return {expected, positive};
}"""
)

# After each Tab: which control has the focus, where it is on the page, whether its look changed
# enough to see (2.4.7), and whether something pinned covers it all (2.4.11).
_FOCUSED = (
    "async () => {"
    + _JS_COMMON
    + r"""
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  // As a person sees it once it settles: the focus styles' transitions ended, the page scrolled
  // to the control (smoothly, unless reduced motion is asked for).
  for (const animation of el.getAnimations()) animation.finish();
  await new Promise((settled) => {
    let last = null, still = 0;
    const frame = () => {
      const now = `${scrollX},${scrollY}`;
      still = now === last ? still + 1 : 0;
      last = now;
      if (still >= 3) settled(); else requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  const {PROPS, keys, baseline, pinned} = window.__kb;
  const key = keys.get(el) || `unexpected ${describe(el)}`;
  const style = getComputedStyle(el);
  const now = Object.fromEntries(PROPS.map((p) => [p, style.getPropertyValue(p)]));
  const before = baseline.get(el) || {};
  const changed = PROPS.filter((p) => now[p] !== before[p]);
  const outline = now["outline-style"] !== "none" && parseFloat(now["outline-width"]) >= 1
    && !transparent(now["outline-color"]) && changed.some((p) => p.startsWith("outline"));
  const shadow = now["box-shadow"] !== "none" && changed.includes("box-shadow")
    && !/^(rgba\([^)]*,\s*0\)[^,]*,?\s*)+$/.test(now["box-shadow"]);
  // In forced colours backgrounds and shadows are dropped and every border is painted in the one
  // colour: only an outline, a thicker border or an underline still shows.
  const forced = matchMedia("(forced-colors: active)").matches;
  const other = changed.some((p) => forced ? /^border-.*-width$|^text-decoration/.test(p)
    : !p.startsWith("outline") && p !== "box-shadow");
  const r = el.getBoundingClientRect();
  // 2.4.11: seen at one point at least of a 3 by 3 grid inside it, in the viewport.
  let seen = false, cover = "";
  for (const fx of [0.1, 0.5, 0.9]) for (const fy of [0.1, 0.5, 0.9]) {
    const x = r.left + r.width * fx, y = r.top + r.height * fy;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
    const top = document.elementFromPoint(x, y);
    if (top && (top === el || el.contains(top))) seen = true;
    else if (top && !cover) cover = describe(top);
  }
  for (const pin of pinned) {
    if (pin.contains(el)) continue;
    const p = pin.getBoundingClientRect();
    if (p.left <= r.left && p.top <= r.top && p.right >= r.right && p.bottom >= r.bottom
        && getComputedStyle(pin).visibility === "visible") {
      seen = false; cover = describe(pin);
    }
  }
  return {
    key, name: describe(el), visible: outline || (shadow && !forced) || other, seen, cover,
    changed: changed.join(" "),
    box: [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY],
    radio: el.type === "radio",
    skip: el.matches("a[href='#main'], a[href='#content']"),
  };
}"""
)


@dataclass
class Walk:
    """What tabbing through a page found."""

    expected: list[str]
    # Controls given a tabindex above 0, which puts them before all others whatever their place.
    positive: list[str]
    steps: list[dict]

    def problems(self) -> list[str]:
        found = []
        reached = [step["key"] for step in self.steps]
        missing = [key for key in self.expected if key not in reached]
        if missing:
            found.append(f"not reached by Tab (2.1.1): {missing}")
        found += [f"focus went to {key} (2.4.3)" for key in reached if key.startswith("unexpected")]
        found += [f"tabindex above 0 (2.4.3): {name}" for name in self.positive]
        if self.steps and not self.steps[0]["skip"]:
            found.append(f"the first Tab reaches {self.steps[0]['name']}, not the skip link")
        for step in self.steps:
            if not step["visible"]:
                found.append(f"no visible focus indicator (2.4.7): {step['name']}")
            if not step["seen"]:
                found.append(f"focus hidden (2.4.11): {step['name']} under {step['cover']!r}")
        found += self.order_problems()
        return found

    def order_problems(self, tolerance: float = 8) -> list[str]:
        """The focus goes top to bottom and, within a row, left to right; going up is right only
        into a column on the right (a page's sidebar after its main column)."""
        found = []
        for before, after in zip(self.steps, self.steps[1:], strict=False):
            left, top, right, bottom = before["box"]
            next_left, next_top, _next_right, next_bottom = after["box"]
            same_row = next_top < bottom and next_bottom > top
            if same_row and next_left < left - tolerance and not after["radio"]:
                found.append(f"focus goes left (2.4.3): {before['name']} -> {after['name']}")
            elif next_bottom <= top + tolerance and next_left < right - tolerance:
                found.append(f"focus goes up (2.4.3): {before['name']} -> {after['name']}")
        return found


def tab_through(page: Page) -> Walk:
    """Press Tab from the top of the page until the focus leaves it or comes round again."""
    # Where the next Tab starts: the top of the page, even where a field took the focus on load
    # (the login form's email).
    page.evaluate("""() => {
        const start = document.createElement("span");
        start.tabIndex = -1;
        document.body.prepend(start);
        start.focus();
        start.remove();
        window.scrollTo(0, 0);
    }""")
    controls = page.evaluate(_PREPARE, _FOCUSABLE)
    expected = controls["expected"]
    steps: list[dict] = []
    # Room for the date and time fields, which take a Tab for each of their parts.
    for _ in range(3 * len(expected) + 10):
        page.keyboard.press("Tab")
        step = page.evaluate(_FOCUSED)
        if step is None or (steps and step["key"] == steps[0]["key"]):
            break
        if not steps or step["key"] != steps[-1]["key"]:
            steps.append(step)
    return Walk(expected=expected, positive=controls["positive"], steps=steps)


def focus_problems(page: Page) -> list[str]:
    return tab_through(page).problems()


# 2.5.8 as written: 24 by 24 CSS pixels, unless the target sits in a sentence (or its size is
# set by the line height of text that is no target), or a 24 px circle centred on it touches no
# other target and no other undersized target's circle. Invisible and off-screen ones (the skip
# link until focused, the honeypot) are no targets.
_TARGET_SIZE = (
    "(selector) => {"
    + _JS_COMMON
    + r"""
  const targets = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.type === "hidden" || el.disabled) continue;
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    const r = el.getBoundingClientRect();
    const box = {left: r.left + scrollX, top: r.top + scrollY, right: r.right + scrollX,
                 bottom: r.bottom + scrollY, width: r.width, height: r.height};
    if (r.width <= 1 || r.height <= 1 || box.right <= 0 || box.bottom <= 0) continue;
    targets.push({el, box, small: r.width < 24 - 0.01 || r.height < 24 - 0.01});
  }
  const blockOf = (node) => {
    let el = node.parentElement;
    while (el && (getComputedStyle(el).display.startsWith("inline")
                  || getComputedStyle(el).display === "contents")) el = el.parentElement;
    return el;
  };
  const inSentence = (el) => {
    if (getComputedStyle(el).display !== "inline") return false;
    const block = blockOf(el);
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
      if (!/[\p{L}\p{N}]/u.test(node.textContent)) continue;
      if (node.parentElement.closest(selector) || blockOf(node) !== block) continue;
      if (!node.parentElement.checkVisibility({visibilityProperty: true})) continue;
      return true;
    }
    return false;
  };
  const centre = (b) => [(b.left + b.right) / 2, (b.top + b.bottom) / 2];
  const problems = [];
  for (const target of targets) {
    if (!target.small || inSentence(target.el)) continue;
    const [x, y] = centre(target.box);
    for (const other of targets) {
      if (other === target || other.el.contains(target.el)) continue;
      if (target.el.contains(other.el)) continue;
      const dx = Math.max(other.box.left - x, 0, x - other.box.right);
      const dy = Math.max(other.box.top - y, 0, y - other.box.bottom);
      const [ox, oy] = centre(other.box);
      const touches = Math.hypot(dx, dy) < 12 - 0.05
        || (other.small && Math.hypot(ox - x, oy - y) < 24 - 0.05);
      if (touches) {
        problems.push(`${describe(target.el)} is ${Math.round(target.box.width)}x`
          + `${Math.round(target.box.height)} px and too close to ${describe(other.el)}`);
        break;
      }
    }
  }
  return problems;
}"""
)


def small_targets(page: Page) -> list[str]:
    """Targets under 24 by 24 CSS pixels that neither exception covers (2.5.8)."""
    return page.evaluate(_TARGET_SIZE, _TARGETS)


# In forced colours the browser drops backgrounds and shadows and paints borders, outlines and
# text in the user's few colours: a control must keep a border (a field, a button, a box) or its
# text (a link), and a picture in it must follow the text colour.
_FORCED_COLOURS = (
    "(selector) => {"
    + _JS_COMMON
    + r"""
  const problems = [];
  const boundary = (el) => {
    const style = getComputedStyle(el);
    if (["checkbox", "radio"].includes(el.type) || el.tagName === "SELECT") {
      if (style.appearance !== "none") return true;  // drawn by the browser, in system colours
    }
    const sides = ["top", "right", "bottom", "left"].filter((side) =>
      parseFloat(style.getPropertyValue(`border-${side}-width`)) >= 1
      && !["none", "hidden"].includes(style.getPropertyValue(`border-${side}-style`))
      && !transparent(style.getPropertyValue(`border-${side}-color`)));
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 1;
    return sides.length === 4 || outline;
  };
  for (const el of document.querySelectorAll(selector)) {
    if (el.type === "hidden" || !el.checkVisibility({visibilityProperty: true})) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1 || r.right + scrollX <= 0) continue;
    const style = getComputedStyle(el);
    const text = (el.innerText || (["submit", "button", "reset"].includes(el.type) ? el.value : "")
      || "").trim();
    const field = ["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName)
      && !["submit", "button", "reset", "image"].includes(el.type);
    // Bootstrap's buttons (a link among them) are boxes of colour, which forced colours drop.
    const box = el.matches(".btn:not(.btn-link), input[type=submit], input[type=button]");
    const drawn = ["::before", "::after"].some((pseudo) =>
      !["none", "normal", '""'].includes(getComputedStyle(el, pseudo).content))
      || style.backgroundImage.startsWith("url(");
    if ((field || box) && !boundary(el)) {
      problems.push(`no boundary: ${describe(el)}`);
    } else if (!field && !box && !(text && !transparent(style.color)) && !drawn
               && !el.querySelector("svg, img[alt]:not([alt=''])")) {
      problems.push(`no visible text: ${describe(el)}`);
    }
    for (const picture of el.querySelectorAll("svg, svg *")) {
      const p = getComputedStyle(picture);
      for (const paint of [p.fill, p.stroke]) {
        if (paint && paint !== "none" && paint !== style.color && !text) {
          problems.push(`picture not in the text colour: ${describe(el)} (${paint})`);
        }
      }
    }
  }
  return problems;
}"""
)


def forced_colour_problems(page: Page) -> list[str]:
    """Controls that lose their edge or their words in forced colours (run with
    `forced_colors="active"` emulated)."""
    return page.evaluate(_FORCED_COLOURS, _TARGETS)


def unchanging_check_boxes(page: Page) -> list[str]:
    """Check boxes and radio buttons that look the same ticked and not: forced colours drop the
    background that Bootstrap draws the tick on."""
    found = []
    boxes = page.locator("input[type=checkbox]:visible, input[type=radio]:visible")
    for index in range(boxes.count()):
        box = boxes.nth(index)
        if box.bounding_box() is None:
            continue
        was = box.evaluate("(el) => el.checked")
        box.evaluate("(el) => { el.checked = false; }")
        unticked = box.screenshot(animations="disabled")
        box.evaluate("(el) => { el.checked = true; }")
        ticked = box.screenshot(animations="disabled")
        box.evaluate("(el, was) => { el.checked = was; }", was)
        if ticked == unticked:
            found.append(f"looks the same ticked and not: {box.evaluate('(el) => el.outerHTML')}")
    return found


# 2.3.3 and the media query: with reduced motion asked for, nothing moves for longer than a
# flicker (Bootstrap's own rule turns transitions off under it) and scrolling jumps.
_MOTION = (
    "() => {"
    + _JS_COMMON
    + r"""
  const seconds = (value) => Math.max(...value.split(",").map((part) =>
    part.trim().endsWith("ms") ? parseFloat(part) / 1000 : parseFloat(part)));
  const problems = [];
  for (const el of [document.documentElement, ...document.querySelectorAll("body, body *")]) {
    for (const pseudo of [null, "::before", "::after"]) {
      const style = getComputedStyle(el, pseudo);
      const transition = seconds(style.transitionDuration) + seconds(style.transitionDelay);
      const repeats = parseFloat(style.animationIterationCount) || 1;
      const animated = style.animationName !== "none"
        && seconds(style.animationDuration) * repeats > 0.01;
      const where = describe(el) + (pseudo || "");
      if (transition > 0.01) problems.push(`transition ${style.transitionDuration}: ${where}`);
      if (animated) problems.push(`animation ${style.animationName}: ${where}`);
    }
  }
  if (getComputedStyle(document.documentElement).scrollBehavior === "smooth") {
    problems.push("smooth scrolling on the page");
  }
  for (const animation of document.getAnimations()) {
    problems.push(`running: ${animation.constructor.name}`);
  }
  return problems;
}"""
)


def motion(page: Page) -> list[str]:
    """What moves on the page; with `reduced_motion="reduce"` emulated, that should be nothing."""
    return page.evaluate(_MOTION)
