"""The press page, its plain-text release and the CSV of signing organizations."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from accounts.models import Organization
from letters.models import LetterUpdate, OpenLetter
from tests.factories import (
    OpenLetterFactory,
    OrganizationFactory,
    OrganizationSignatureFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

PUBLIC = ("Fight for the Future", "Media Alliance", "Restore The Fourth")
HIDDEN = ("Pending Group", "Withdrawn Group", "Rejected Group", "Unverified Group")
XSS = "</textarea><script>alert(1)</script>"


def _url(letter: OpenLetter, view: str) -> str:
    return reverse(f"letters:{view}", kwargs={"slug": letter.slug})


@pytest.fixture
def coalition(lead_org) -> OpenLetter:
    """A published coalition letter: three public signers and four that must not show."""
    letter = OpenLetterFactory(
        leads=[lead_org],
        status=OpenLetter.Status.PUBLISHED,
        published_at=datetime(2019, 10, 7, 14, 0, tzinfo=UTC),
        title="End police partnerships with Ring",
        addressed_to="Local, state and federal officials",
        ask="Investigate the partnerships and end them.",
        media_contact_name="Robin Castellanos",
        media_contact_phone="+1 555 0100",
        media_contact_email="press@example.org",
    )
    lead = OrganizationSignatureFactory(letter=letter, organization=lead_org, approved=True)
    StatementFactory(
        signature=lead,
        approved=True,
        speaker_name="Jamie Okafor",
        speaker_title="Deputy Director",
        text="Elected officials can end these deals.",
    )
    media = OrganizationSignatureFactory(
        letter=letter, organization=OrganizationFactory(name="Media Alliance"), approved=True
    )
    StatementFactory(signature=media, speaker_name="Unapproved Speaker", text="Not yet approved.")
    fourth = OrganizationSignatureFactory(
        letter=letter, organization=OrganizationFactory(name="Restore The Fourth"), approved=True
    )
    StatementFactory(signature=fourth, status="rejected", speaker_name="Rejected Speaker")

    pending = OrganizationSignatureFactory(
        letter=letter, organization=OrganizationFactory(name="Pending Group")
    )
    StatementFactory(signature=pending, approved=True, speaker_name="Pending Speaker")
    OrganizationSignatureFactory(
        letter=letter, organization=OrganizationFactory(name="Withdrawn Group"), withdrawn=True
    )
    OrganizationSignatureFactory(
        letter=letter,
        organization=OrganizationFactory(name="Rejected Group"),
        status="rejected",
    )
    unverified = OrganizationFactory(
        name="Unverified Group", verification=Organization.Verification.PENDING, verified_at=None
    )
    OrganizationSignatureFactory(letter=letter, organization=unverified, approved=True)
    LetterUpdate.objects.create(
        letter=letter,
        text_en="Six more organizations have joined.",
        published_at=datetime(2019, 10, 8, 16, 0, tzinfo=UTC),
    )
    return letter


def test_press_page_has_headline_ask_signers_statements_contact_and_updates(
    client, coalition
) -> None:
    response = client.get(_url(coalition, "press"))
    assert response.status_code == 200
    html = response.content.decode()

    assert "<h1>3 organizations sign “End police partnerships with Ring”</h1>" in html
    assert (
        "In an open letter to Local, state and federal officials, they ask: "
        "Investigate the partnerships and end them." in html
    )
    listed = html.split('id="press-organizations">', 1)[1].split("</ul>", 1)[0]
    assert listed == "".join(f"<li>{name}</li>" for name in PUBLIC)
    attribution = (
        "The following can be attributed to Jamie Okafor, Deputy Director of Fight for the Future:"
    )
    assert (
        f'<p class="press-statement">{attribution}</p>\n'
        '<blockquote class="blockquote fs-6 border-start ps-3">'
        "“Elected officials can end these deals.”</blockquote>" in html
    )
    assert "Robin Castellanos<br>+1 555 0100<br>" in html
    assert '<a href="mailto:press@example.org">press@example.org</a>' in html
    assert "<strong>Update Oct. 8:</strong> Six more organizations have joined." in html


def test_press_text_is_plain_text_with_the_same_release(client, coalition) -> None:
    response = client.get(_url(coalition, "press_text"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()

    assert text.startswith("3 organizations sign “End police partnerships with Ring”\n")
    assert "they ask: Investigate the partnerships and end them." in text
    assert "Signing organizations:\n- Fight for the Future\n- Media Alliance\n" in text
    assert (
        "The following can be attributed to Jamie Okafor, Deputy Director of Fight for the "
        "Future:\n“Elected officials can end these deals.”\n" in text
    )
    assert "Update Oct. 8: Six more organizations have joined." in text
    assert "Media contact: Robin Castellanos, +1 555 0100, press@example.org" in text


@pytest.mark.parametrize("view", ["press", "press_text", "organizations_csv"])
def test_unapproved_statements_and_non_public_organizations_never_appear(
    client, coalition, view
) -> None:
    content = client.get(_url(coalition, view)).content.decode()
    for name in PUBLIC:
        assert name in content
    hidden = (*HIDDEN, "Unapproved Speaker", "Not yet approved.", "Rejected Speaker")
    for text in (*hidden, "Pending Speaker"):
        assert text not in content, text


@pytest.fixture
def hostile(coalition) -> OpenLetter:
    """The coalition letter with an approved statement written to break out of the page."""
    signature = coalition.organization_signatures.get(organization__name="Media Alliance")
    signature.statement.delete()
    StatementFactory(signature=signature, approved=True, text=XSS)
    return coalition


def test_press_page_escapes_a_statement_that_tries_to_leave_the_textarea(client, hostile) -> None:
    html = client.get(_url(hostile, "press")).content.decode()
    assert "<script>alert(1)" not in html
    assert "</textarea><script>" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_letter_page_escapes_a_hostile_statement(client, hostile) -> None:
    html = client.get(hostile.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_press_text_serves_a_hostile_statement_as_plain_text(client, hostile) -> None:
    response = client.get(_url(hostile, "press_text"))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert f"“{XSS}”" in response.content.decode()  # text stays text: what was written


def _rows(client, letter: OpenLetter) -> list[list[str]]:
    response = client.get(_url(letter, "organizations_csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{letter.slug}-organizations.csv"'
    )
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_has_a_header_and_one_row_per_public_organization(client, coalition) -> None:
    rows = _rows(client, coalition)
    assert rows[0] == ["Organization", "Website", "Lead", "Signed on"]
    assert [row[0] for row in rows[1:]] == list(PUBLIC)
    lead = rows[1]
    assert lead[1] == Organization.objects.get(name="Fight for the Future").website
    assert lead[2] == "yes"
    assert [row[2] for row in rows[2:]] == ["", ""]
    signed = coalition.organization_signatures.get(organization__name="Media Alliance")
    assert rows[2][3] == signed.created_at.date().isoformat()


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
)
def test_csv_neutralizes_a_name_that_a_spreadsheet_would_run(client, letter, name) -> None:
    organization = OrganizationFactory(name=name, website="")
    OrganizationSignatureFactory(letter=letter, organization=organization, approved=True)
    rows = _rows(client, letter)
    assert rows[1][0] == f"'{name}"


def test_csv_gives_a_website_only_in_its_normalized_form(client, letter) -> None:
    # Rows stored before addresses were checked: the spoofed one is left out, not passed on.
    for name, website in (
        ("Plain", "https://PLAIN.example"),
        ("Spoof", "https://evil.example\\@eff.org"),
    ):
        organization = OrganizationFactory(name=name, website=website)
        OrganizationSignatureFactory(letter=letter, organization=organization, approved=True)
    websites = {row[0]: row[1] for row in _rows(client, letter)[1:]}
    assert websites == {"Plain": "https://plain.example/", "Spoof": ""}


def test_csv_quotes_every_cell_so_a_semicolon_never_starts_a_formula(client, letter) -> None:
    """A spreadsheet whose list separator is ";" (Italian Excel) splits "Acme;=HYPERLINK(1)"
    into two cells, the second a formula, unless it is quoted and neutralized."""
    organization = OrganizationFactory(name="Acme;=HYPERLINK(1)", website="")
    OrganizationSignatureFactory(letter=letter, organization=organization, approved=True)
    text = client.get(_url(letter, "organizations_csv")).content.decode()
    for line in text.splitlines():
        cells = next(csv.reader(io.StringIO(line), delimiter=";"))
        assert not [cell for cell in cells if cell.lstrip().startswith(("=", "+", "-", "@"))]
    assert '"Acme;\'=HYPERLINK(1)"' in text
