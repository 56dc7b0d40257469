"""Paper signatures, end to end (issue 20, items 2 and 6): a supporter signs online; a sponsor's
editor prints the signature sheet and the share link's QR code, types a batch of lines (one of
them the online signer again, under another spelling of their email), leaves and comes back to
where they stopped, has a bad line refused with what they typed kept, and an email typed twice
in the batch refused with its line, and finishes the batch; the counter brings it into the
count, the public page shows the total with "N online, M on paper", the person signing twice
counted once, and the finished batch shows its totals only, never which line signed online.
On desktop and on a phone, with axe-core's audit of each new page."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from accounts.models import Membership, User
from petitions.models import Petition
from tests.e2e.helpers import (
    PASSWORD,
    audit,
    confirmation_path,
    fill_sign_form,
    last_mail_to,
    log_in,
    public_count,
    visit,
)
from tests.factories import OrganizationFactory, PetitionFactory, TargetFactory

pytestmark = pytest.mark.e2e

TITLE = "Fermiamo il riconoscimento facciale a Oakland"
DEMAND = "Ban face recognition in public squares: più libertà, meno telecamere."


@pytest.fixture
def petition(transactional_db) -> Petition:
    petition = PetitionFactory(title=TITLE, demand=DEMAND, targets=[TargetFactory()])
    sponsor = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    petition.sponsors.add(sponsor)
    editor = User.objects.create_user("ed@oaklandprivacy.example", PASSWORD, full_name="Ed")
    Membership.objects.create(user=editor, organization=sponsor, role=Membership.Role.EDITOR)
    return petition


def _type_line(page: Page, *, name: str, postal_code: str = "94612", email: str = "") -> None:
    page.get_by_label("Name").fill(name)
    page.get_by_label("Postal code").fill(postal_code)
    page.get_by_label("Email (if written)").fill(email)
    page.get_by_role("button", name="Save this line and go to the next").click()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_paper_sheet_printed_typed_in_and_counted_once(
    browse, site, petition, run_counter, device
) -> None:
    supporter = browse(device=device)
    visit(supporter, f"/en/p/{petition.slug}/")
    fill_sign_form(
        supporter,
        name="Marco Bianchi",
        email="marco.bianchi@example.org",
        postal_code="94612",
        country="United States of America",
        display="My first name and last initial",
    )
    supporter.get_by_role("button", name="Sign the petition").click()
    expect(supporter.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    visit(supporter, confirmation_path(last_mail_to("marco.bianchi@example.org").body))
    supporter.get_by_role("button", name="Confirm my signature").click()
    expect(supporter.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your signature is confirmed"
    )
    run_counter()

    editor = browse(device=device)
    visit(editor, "/en/organizations/")
    log_in(editor, "ed@oaklandprivacy.example")
    editor.get_by_role("link", name="Petitions and dashboards of Oakland Privacy").click()
    editor.get_by_role("link", name="Paper sheets and QR codes").click()
    expect(editor.get_by_role("heading", level=1)).to_have_text(f"Paper signatures: {TITLE}")
    audit(editor, "paper-signatures")
    share_link = f"{site}/en/p/{petition.slug}/from/oakland-privacy/"

    # The sheet: the demand, the target, numbered lines and the share link, in its QR code too.
    with editor.expect_download() as download:
        editor.get_by_role("link", name="Download the signature sheet (PDF)").click()
    reader = PdfReader(download.value.path())
    text = reader.pages[0].extract_text()
    assert TITLE in text and "più libertà, meno telecamere" in " ".join(text.split())
    assert "The Mayor and City Council" in text and share_link in text
    assert {"1", "10", "20"} <= {line.strip() for line in text.splitlines()}
    (image,) = reader.pages[0].images
    assert zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)))[0].text == share_link
    with editor.expect_download() as download:
        editor.get_by_role("link", name="QR code (PNG)").click()
    assert zxingcpp.read_barcodes(Image.open(download.value.path()))[0].text == share_link

    # A batch, typed line by line.
    new_batch = editor.get_by_role("form", name="A new batch, typed line by line")
    new_batch.get_by_label("Sheet reference (optional)").fill("Piazza stall, box 3")
    new_batch.get_by_role("button", name="Start typing a batch").click()
    expect(editor.get_by_role("heading", name="Sheet 1, line 1")).to_be_visible()
    _type_line(editor, name="Anna Rossi")
    expect(editor.get_by_role("heading", name="Sheet 1, line 2")).to_be_visible()
    # The online signer again, their email written with another spelling.
    _type_line(editor, name="Marco Bianchi", email="Marco.Bianchi+paper@example.org")
    audit(editor, "paper-batch")

    # Leaving and coming back: typing goes on where it stopped.
    editor.get_by_role("link", name=f"Paper signatures: {TITLE}").click()
    editor.get_by_role("link", name="Piazza stall, box 3").click()
    expect(editor.get_by_role("heading", name="Sheet 1, line 3")).to_be_visible()
    expect(editor.locator("#id_line")).to_have_value("3")

    # A line without a name is refused, with what was typed kept.
    _type_line(editor, name="", postal_code="94704", email="giulia@example.org")
    expect(editor.get_by_role("alert")).to_contain_text("This line was not saved")
    expect(editor.get_by_label("Email (if written)")).to_have_value("giulia@example.org")
    audit(editor, "paper-batch-error")
    _type_line(editor, name="Giulia Verdi", postal_code="94704", email="giulia@example.org")
    expect(editor.get_by_role("heading", name="3 lines typed")).to_be_visible()

    # The same email twice in one batch is refused, naming the line the typist typed.
    _type_line(editor, name="Giulia V.", postal_code="94704", email="Giulia@example.org")
    expect(editor.get_by_role("alert")).to_contain_text(
        "This email is already on line 3 of sheet 1 of this batch."
    )
    expect(editor.get_by_label("Name")).to_have_value("Giulia V.")

    editor.get_by_role("button", name="Finish and count this batch").click()
    expect(editor.locator(".alert-success")).to_contain_text(
        "The batch is finished: its 3 lines join the count within a minute."
    )
    # The counter's next tick brings the batch in; the page then shows the paper count.
    run_counter()
    editor.reload()
    expect(editor.locator("#paper-counts")).to_contain_text("3 lines typed on paper; 2 counted.")
    expect(editor.locator("#paper-split")).to_have_text("1 online, 2 on paper")

    # The finished batch: its totals, and no line marked as having signed online.
    editor.get_by_role("link", name="Piazza stall, box 3").click()
    expect(editor.locator("#batch-totals")).to_contain_text(
        "3 lines typed, all handed to the count."
    )
    expect(editor.locator("#rows")).to_contain_text("Marco Bianchi")
    expect(editor.locator("#rows")).not_to_contain_text("signed online")
    expect(editor.locator("#rows thead th")).to_have_count(6)
    audit(editor, "paper-batch-finished")

    reader_page = browse(device=device)
    visit(reader_page, f"/en/p/{petition.slug}/")
    assert public_count(reader_page) == "3"
    expect(reader_page.locator("#paper-split")).to_have_text("1 online, 2 on paper")
