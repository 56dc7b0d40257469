"""The paper workspace (petitions.paper_views): the printed sheet (read back with pypdf, its QR
code decoded), the share link's QR downloads, typing a batch that keeps its place, the CSV
upload, the admin, and the boundaries: outsiders get a 404, members without the right role a
403, and nothing is written on refusal."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from accounts.models import Membership, Organization, User
from config.accessibility_statement import KNOWN_EXCEPTIONS
from mechanisms.qr import qr_code
from petitions.dashboard_views import share_link
from petitions.models import PaperBatch, PaperSignature, Petition
from petitions.services import paper
from petitions.services.campaigns import petition_counts_and_milestones_update
from petitions.services.counting import petition_counts_update
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory, TargetFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough password 42"


def _member(organization: Organization, role: str) -> User:
    user = User.objects.create_user(f"{role}@{organization.slug}.example", PASSWORD)
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


@pytest.fixture
def world() -> dict:
    organization = OrganizationFactory(name="Associazione Libertà Digitali", slug="liberta")
    other = OrganizationFactory()
    petition = PetitionFactory(
        title="Fermiamo il riconoscimento facciale in città",
        demand="Vietare la sorveglianza biometrica nelle piazze: più libertà, meno telecamere.",
        language="it",
        targets=[TargetFactory(title="Sindaca di Bologna", region="BO", locality="Bologna")],
    )
    petition.sponsors.add(organization)
    return {
        "organization": organization,
        "other": other,
        "petition": petition,
        "editor": _member(organization, "editor"),
        "viewer": _member(organization, "viewer"),
        "outsider": _member(other, "admin"),
    }


def _url(name: str, world: dict, **extra) -> str:
    kwargs = {"organization": world["organization"].slug, "slug": world["petition"].slug}
    return reverse(f"paper:{name}", kwargs=kwargs | extra)


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# --- The sheet and the QR codes ------------------------------------------------------------------


def test_the_sheet_carries_the_demand_targets_numbered_lines_and_the_share_link(world) -> None:
    response = _client(world["viewer"]).get(_url("sheet", world))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    petition = world["petition"]
    assert petition.title in text
    assert "più libertà, meno telecamere" in " ".join(text.split())
    assert "The Mayor and City Council" in text  # addressed_to, in the factory
    link = share_link(petition=petition, organization=world["organization"])
    assert link.endswith("/from/liberta/")
    assert link in text
    lines = [line.strip() for line in text.splitlines()]
    for number in range(1, paper.SHEET_LINES + 1):
        assert str(number) in lines
    # The sheet is in the petition's language (Italian here): paper signers get no emails.
    assert "Non riceverai email" in " ".join(text.split())
    # The QR code on the sheet is the share link: decode the image embedded in the page.
    (image,) = reader.pages[0].images
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)))
    assert decoded.text == link


def test_the_sheet_declares_its_language_and_is_listed_as_untagged_while_it_is(world) -> None:
    """A screen reader picks its voice from the PDF's language. The sheet is not a tagged PDF
    (no structure tree): the accessibility statement lists it as an exception, and must stop
    doing so once it becomes one."""
    response = _client(world["viewer"]).get(_url("sheet", world))
    catalog = PdfReader(io.BytesIO(response.content)).trailer["/Root"]
    assert catalog["/Lang"] == world["petition"].language == "it"
    tagged = "/StructTreeRoot" in catalog
    assert tagged != ("paper-sheet" in {exception.slug for exception in KNOWN_EXCEPTIONS})


def test_the_sheet_lists_the_targets_when_the_petition_names_no_addressee(world) -> None:
    Petition.objects.filter(pk=world["petition"].pk).update(addressed_to="")
    response = _client(world["editor"]).get(_url("sheet", world))
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Sindaca di Bologna" in text


def test_qr_codes_of_the_share_link_in_svg_and_png(world) -> None:
    link = share_link(petition=world["petition"], organization=world["organization"])
    client = _client(world["viewer"])
    png = client.get(_url("qr_png", world))
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert "attachment" in png["Content-Disposition"]
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert decoded.text == link
    svg = client.get(_url("qr_svg", world))
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert svg.content.startswith(b"<?xml") and b"<svg" in svg.content
    # The SVG draws the same modules as a code made from the link.
    expected = io.BytesIO()
    qr_code(data=link).save(expected, kind="svg", scale=8, border=4)
    assert svg.content == expected.getvalue()


# --- Typing a batch ------------------------------------------------------------------------------


def _line(**changes) -> dict:
    data = {"sheet": "1", "line": "1", "name": "Anna Rossi", "postal_code": "94612"}
    data |= {"country": "US", "email": ""}
    return data | changes


def test_typing_keeps_its_place_and_resumes(world) -> None:
    client = _client(world["editor"])
    response = client.post(_url("batch_new", world), {"sheet_reference": "Piazza Maggiore"})
    batch = PaperBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("batch", world, pk=batch.pk)
    assert batch.entered_by == world["editor"] and batch.organization == world["organization"]
    client.post(_url("batch", world, pk=batch.pk), _line())
    client.post(_url("batch", world, pk=batch.pk), _line(line="2", name="Marco Bianchi"))
    # Leaving and coming back: the form is on line 3, with the country kept.
    page = _client(world["editor"]).get(_url("batch", world, pk=batch.pk))
    form = page.context["form"]
    assert (form.initial["sheet"], form.initial["line"], form.initial["country"]) == (1, 3, "US")
    assert "Marco Bianchi" in page.content.decode()


def test_a_bad_line_is_refused_with_what_was_typed_kept(world) -> None:
    client = _client(world["editor"])
    batch = paper.paper_batch_create(
        petition=world["petition"],
        organization=world["organization"],
        user=world["editor"],
        sheet_reference="",
    )
    client.post(_url("batch", world, pk=batch.pk), _line(email="anna@example.it"))
    response = client.post(
        _url("batch", world, pk=batch.pk),
        _line(line="2", name="Anna Again", email="anna@example.it"),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This email is already on line 1 of sheet 1 of this batch." in body
    assert 'value="Anna Again"' in body
    response = client.post(_url("batch", world, pk=batch.pk), _line(line="1", name="Dup Line"))
    assert response.status_code == 400 and "already typed" in response.content.decode()
    assert batch.rows.count() == 1


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_finishing_counts_the_batch_and_the_page_shows_the_split(world) -> None:
    petition = world["petition"]
    SignatureFactory(petition=petition, confirmed=True, email="marco@example.it")
    petition_counts_update()
    client = _client(world["editor"])
    client.post(_url("batch_new", world), {"sheet_reference": ""})
    batch = PaperBatch.objects.get()
    client.post(_url("batch", world, pk=batch.pk), _line())
    client.post(_url("batch", world, pk=batch.pk), _line(line="2", email="marco@example.it"))
    response = client.post(_url("batch_finish", world, pk=batch.pk))
    assert response.status_code == 302
    # Finishing does not move the count: the counter's next run does.
    petition.refresh_from_db()
    assert petition.paper_count == 0
    petition_counts_and_milestones_update()
    petition.refresh_from_db()
    assert (petition.signature_count, petition.paper_count, petition.total_count) == (1, 1, 2)
    page = client.get(_url("petition", world)).content.decode()
    assert "1 online, 1 on paper" in page
    public = Client().get(petition.get_absolute_url()).content.decode()
    assert "1 online, 1 on paper" in public
    # A counted batch takes no more lines.
    refused = client.post(_url("batch", world, pk=batch.pk), _line(line="3"))
    assert refused.status_code == 400 and batch.rows.count() == 2


def test_the_workspace_never_shows_which_line_signed_online(world) -> None:
    """Marco signed online; the batch page and the paper page must read the same whether his
    line is marked counted elsewhere or not, so nothing on them depends on the mark."""
    petition = world["petition"]
    SignatureFactory(petition=petition, confirmed=True, email="marco@example.it")
    petition_counts_update()
    client = _client(world["editor"])
    client.post(_url("batch_new", world), {"sheet_reference": "Stall"})
    batch = PaperBatch.objects.get()
    client.post(_url("batch", world, pk=batch.pk), _line())
    client.post(_url("batch", world, pk=batch.pk), _line(line="2", email="marco@example.it"))
    finished = client.post(_url("batch_finish", world, pk=batch.pk), follow=True)
    finish_message = finished.content.decode()
    assert "its 2 lines join the count" in finish_message
    assert "counted once" in finish_message
    petition_counts_and_milestones_update()
    assert batch.rows.get(line=2).duplicate  # staff's admin knows; the workspace must not
    marked = [
        _without_csrf(client.get(url).content.decode())
        for url in (_url("batch", world, pk=batch.pk), _url("petition", world))
    ]
    assert "2 lines typed, all handed to the count." in marked[0]
    assert "also signed online, or who is on another sheet" in marked[0]
    for absent in ("No: also signed online", "1 recorded but not counted", "duplicate"):
        assert absent not in marked[0] and absent not in marked[1]
    PaperSignature.objects.filter(line=2).update(duplicate=False)
    unmarked = [
        _without_csrf(client.get(url).content.decode())
        for url in (_url("batch", world, pk=batch.pk), _url("petition", world))
    ]
    assert marked == unmarked


def test_an_email_on_another_sponsors_batch_is_accepted_silently_and_counted_once(world) -> None:
    petition = world["petition"]
    petition.sponsors.add(world["other"])
    theirs = paper.paper_batch_create(
        petition=petition, organization=world["other"], user=world["outsider"], sheet_reference=""
    )
    paper.paper_row_add(
        batch=theirs,
        row=paper.PaperRow(sheet=1, line=1, name="Anna Rossi", email="anna@example.it"),
    )
    paper.paper_batch_finish(batch=theirs, user=world["outsider"])
    petition_counts_and_milestones_update()
    client = _client(world["editor"])
    client.post(_url("batch_new", world), {"sheet_reference": ""})
    ours = PaperBatch.objects.get(organization=world["organization"])
    response = client.post(
        _url("batch", world, pk=ours.pk), _line(name="Anna R.", email="ANNA@example.it")
    )
    # Saved like any other line, with nothing said about the other sponsor's sheets.
    assert response.status_code == 302
    page = client.get(_url("batch", world, pk=ours.pk)).content.decode()
    assert "already" not in page and "Anna R." in page
    client.post(_url("batch", world, pk=ours.pk), _line(line="2", name="Marco Bianchi"))
    assert client.post(_url("batch_finish", world, pk=ours.pk)).status_code == 302
    petition_counts_and_milestones_update()
    petition.refresh_from_db()
    assert petition.paper_count == 2  # Anna once (on the other sponsor's sheet), Marco once


def test_an_empty_batch_cannot_be_finished(world) -> None:
    client = _client(world["editor"])
    client.post(_url("batch_new", world), {"sheet_reference": ""})
    batch = PaperBatch.objects.get()
    response = client.post(_url("batch_finish", world, pk=batch.pk))
    assert response.status_code == 400
    assert "no lines yet" in response.content.decode()
    batch.refresh_from_db()
    assert batch.counted_at is None


def test_a_line_typed_by_mistake_is_taken_back(world) -> None:
    client = _client(world["editor"])
    client.post(_url("batch_new", world), {"sheet_reference": ""})
    batch = PaperBatch.objects.get()
    client.post(_url("batch", world, pk=batch.pk), _line())
    row = batch.rows.get()
    response = client.post(_url("row_delete", world, pk=batch.pk, row=row.pk))
    assert response.status_code == 302 and not batch.rows.exists()


# --- CSV upload ----------------------------------------------------------------------------------


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("sheets.csv", text.encode(), content_type="text/csv")


def test_a_csv_with_a_bad_row_lists_it_and_writes_nothing(world) -> None:
    text = "sheet,line,name,postal_code,country,email\n1,1,Anna,94612,US,\n1,2,,94612,US,\n"
    response = _client(world["editor"]).post(
        _url("import", world), {"file": _csv(text), "sheet_reference": ""}
    )
    assert response.status_code == 400
    assert "Line 3: name is empty" in response.content.decode()
    assert not PaperBatch.objects.exists() and not PaperSignature.objects.exists()


def test_a_good_csv_is_counted(world) -> None:
    text = "sheet,line,name,postal_code,country,email\n1,1,Anna,94612,US,\n1,2,Marco,94612,US,\n"
    response = _client(world["editor"]).post(
        _url("import", world), {"file": _csv(text), "sheet_reference": "Box 3"}
    )
    assert response.status_code == 302
    batch = PaperBatch.objects.get()
    assert batch.counted_at is not None and batch.sheet_reference == "Box 3"
    petition_counts_and_milestones_update()
    world["petition"].refresh_from_db()
    assert world["petition"].paper_count == 2


def test_a_file_that_is_not_csv_gets_a_message(world) -> None:
    upload = SimpleUploadedFile("sheets.csv", b"\xff\xfe\x00bad", content_type="text/csv")
    response = _client(world["editor"]).post(_url("import", world), {"file": upload})
    assert response.status_code == 400
    assert "not UTF-8" in response.content.decode()
    assert not PaperBatch.objects.exists()


# --- Boundaries ----------------------------------------------------------------------------------


def test_outsiders_get_a_404_and_write_nothing(world) -> None:
    batch = paper.paper_batch_create(
        petition=world["petition"],
        organization=world["organization"],
        user=world["editor"],
        sheet_reference="",
    )
    row = paper.paper_row_add(batch=batch, row=paper.PaperRow(sheet=1, line=1, name="Anna"))
    for user in (None, world["outsider"]):
        client = _client(user)
        for name in ("petition", "sheet", "qr_svg", "qr_png"):
            response = client.get(_url(name, world))
            assert response.status_code in (302, 404), (name, user)
            if user is not None:
                assert response.status_code == 404
        posts = [
            (_url("batch_new", world), {"sheet_reference": "x"}),
            (_url("batch", world, pk=batch.pk), _line(line="2")),
            (_url("batch_finish", world, pk=batch.pk), {}),
            (_url("row_delete", world, pk=batch.pk, row=row.pk), {}),
            (_url("import", world), {"file": _csv("sheet,line,name,postal_code,country,email\n")}),
        ]
        for url, data in posts:
            response = client.post(url, data)
            assert response.status_code in ((302,) if user is None else (404,)), url
    # The outsider's own organization does not sponsor the petition: 404 there too.
    other = reverse(
        "paper:sheet", kwargs={"organization": world["other"].slug, "slug": world["petition"].slug}
    )
    assert _client(world["outsider"]).get(other).status_code == 404
    assert PaperBatch.objects.count() == 1 and PaperSignature.objects.count() == 1
    batch.refresh_from_db()
    assert batch.counted_at is None


def test_a_viewer_prints_and_downloads_but_may_not_type(world) -> None:
    client = _client(world["viewer"])
    assert client.get(_url("petition", world)).status_code == 200
    assert "Start typing a batch" not in client.get(_url("petition", world)).content.decode()
    batch = paper.paper_batch_create(
        petition=world["petition"],
        organization=world["organization"],
        user=world["editor"],
        sheet_reference="",
    )
    assert client.get(_url("batch", world, pk=batch.pk)).status_code == 403
    assert client.post(_url("batch_new", world), {"sheet_reference": ""}).status_code == 403
    assert client.post(_url("batch", world, pk=batch.pk), _line()).status_code == 403
    assert client.post(_url("batch_finish", world, pk=batch.pk)).status_code == 403
    text = "sheet,line,name,postal_code,country,email\n1,1,Anna,94612,US,\n"
    assert client.post(_url("import", world), {"file": _csv(text)}).status_code == 403
    assert PaperBatch.objects.count() == 1 and not PaperSignature.objects.exists()


def test_another_sponsors_batch_is_not_found(world) -> None:
    partner = OrganizationFactory()
    world["petition"].sponsors.add(partner)
    theirs = paper.paper_batch_create(
        petition=world["petition"],
        organization=partner,
        user=_member(partner, "editor"),
        sheet_reference="",
    )
    client = _client(world["editor"])
    assert client.get(_url("batch", world, pk=theirs.pk)).status_code == 404
    assert client.post(_url("batch", world, pk=theirs.pk), _line()).status_code == 404
    assert not theirs.rows.exists()


def test_a_draft_petition_is_not_found(world) -> None:
    draft = PetitionFactory(status=Petition.Status.DRAFT)
    draft.sponsors.add(world["organization"])
    url = reverse(
        "paper:sheet", kwargs={"organization": world["organization"].slug, "slug": draft.slug}
    )
    assert _client(world["editor"]).get(url).status_code == 404


# --- Staff in the admin --------------------------------------------------------------------------


def test_staff_type_and_count_a_batch_in_the_admin(world) -> None:
    staff = User.objects.create_superuser("admin-paper@cosign.test", PASSWORD)
    client = _client(staff)
    response = client.post(
        reverse("admin:petitions_paperbatch_add"),
        {"petition": world["petition"].pk, "organization": "", "sheet_reference": "Staff box"},
    )
    assert response.status_code == 302
    batch = PaperBatch.objects.get()
    assert batch.entered_by == staff
    prefix = "rows"
    data = {
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-sheet": "1",
        f"{prefix}-0-line": "1",
        f"{prefix}-0-name": "Anna Rossi",
        f"{prefix}-0-postal_code": "94612",
        f"{prefix}-0-country": "US",
        f"{prefix}-0-email": "anna@example.it",
        f"{prefix}-1-sheet": "1",
        f"{prefix}-1-line": "2",
        f"{prefix}-1-name": "Marco Bianchi",
        f"{prefix}-1-postal_code": "",
        f"{prefix}-1-country": "",
        f"{prefix}-1-email": "",
        "sheet_reference": "Staff box",
    }
    response = client.post(reverse("admin:petitions_paperbatch_change", args=[batch.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    row = batch.rows.get(line=1)
    assert (row.canonical_email, row.locality, row.petition_id) == (
        "anna@example.it",
        "Oakland",
        world["petition"].pk,
    )
    response = client.post(
        reverse("admin:petitions_paperbatch_changelist"),
        {"action": "count_batches", ACTION_CHECKBOX_NAME: [batch.pk]},
    )
    assert response.status_code == 302
    petition_counts_and_milestones_update()
    world["petition"].refresh_from_db()
    assert world["petition"].paper_count == 2
    assert (
        client.get(reverse("admin:petitions_paperbatch_change", args=[batch.pk])).status_code == 200
    )
