"""A campaigner copies a petition's embed code from its page and pastes it into their own: the
title, apostrophe and ampersand included, reaches their page as typed (issue 14, item 7)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.helpers import screenshot, visit
from tests.factories import PetitionFactory

pytestmark = pytest.mark.e2e

TITLE = 'Tom & Jerry\'s "cats" <b>stay</b> off the doorbell cameras'


def test_campaigner_copies_the_embed_code_and_their_page_shows_the_real_title(
    browse, browser: Browser, site: str, campaigner_site, transactional_db
) -> None:
    petition = PetitionFactory(title=TITLE, signature_count=7)
    page = browse()
    visit(page, f"/en/p/{petition.slug}/")

    page.get_by_text("Put this petition on your website").click()
    code_box = page.get_by_label("Copy this code into your page")
    expect(code_box).to_be_visible()
    screenshot(page, "petition-embed-code")
    code = code_box.input_value()
    assert code == (
        f'<iframe src="{site}/en/p/{petition.slug}/embed/" title="Tom &amp; Jerry&#x27;s '
        '&quot;cats&quot; &lt;b&gt;stay&lt;/b&gt; off the doorbell cameras" width="100%" '
        'height="220" loading="lazy"></iframe>'
    )

    # Their page, on their own site, blank but for what they pasted. Not `browse`: its watcher
    # rightly objects to a page from another host; this page's console is checked here.
    campaigner_url, _handler = campaigner_site
    context = browser.new_context(locale="en-US")
    try:
        theirs = context.new_page()
        errors: list[str] = []
        theirs.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        theirs.goto(campaigner_url)
        theirs.set_content(f"<!doctype html><html lang='en'><title>Ours</title>{code}</html>")
        iframe = theirs.locator("iframe")
        expect(iframe).to_have_attribute("title", TITLE)
        expect(iframe).to_have_attribute("src", f"{site}/en/p/{petition.slug}/embed/")
        widget = theirs.frame_locator("iframe")
        expect(widget.get_by_role("heading", level=1)).to_have_text(TITLE)
        expect(widget.locator("#signature-count")).to_have_text("7")
        assert errors == []
    finally:
        context.close()
