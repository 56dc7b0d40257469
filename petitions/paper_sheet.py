"""The printable signature sheet of a petition (PDF, drawn with fpdf2): its demand, its targets,
numbered lines, what happens to what people write, and a QR code of the organization's share
link. Drawn on the server in the petition's language, with a bundled Unicode font (DejaVu Sans,
mechanisms/fonts, under the Bitstream Vera licence; the share cards use it too) so accents and
other scripts print."""

from __future__ import annotations

import logging
from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from mechanisms.qr import qr_png
from petitions.models import Petition, Target
from petitions.services.paper import SHEET_LINES

# fontTools logs each step of subsetting the font at INFO: a page of lines per sheet.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONTS = Path(__file__).resolve().parents[1] / "mechanisms" / "fonts"
FONT = "DejaVu"
# What each line asks for, and each column's share of the width (in mm, A4 less margins).
COLUMNS_MM = (10, 58, 27, 55, 40)


def _pdf() -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(auto=False)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    return pdf


def paper_sheet_pdf(
    *, petition: Petition, targets: list[Target], url: str, organization_name: str = ""
) -> bytes:
    """One A4 sheet of SHEET_LINES numbered lines, in the petition's language."""
    with translation.override(petition.language):
        return _draw(petition=petition, targets=targets, url=url, organization=organization_name)


def _draw(*, petition: Petition, targets: list[Target], url: str, organization: str) -> bytes:
    pdf = _pdf()
    pdf.set_title(petition.title)
    # The document's language, so a screen reader reads the sheet with the right voice.
    pdf.set_lang(petition.language)
    pdf.set_creator("Cosign")
    pdf.add_page()
    qr_size = 32
    # The QR code at the top right; the text beside it leaves it room.
    pdf.image(qr_png(data=url, scale=8), x=pdf.w - 10 - qr_size, y=10, w=qr_size, h=qr_size)
    text_width = pdf.w - 20 - qr_size - 4
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(text_width, 7, petition.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font(FONT, "B", 11)
    demand = petition.demand or petition.summary
    pdf.multi_cell(text_width, 5.5, demand, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9.5)
    addressed = petition.addressed_to or ", ".join(target.title for target in targets)
    if addressed:
        pdf.multi_cell(
            text_width,
            5,
            _("To: %(targets)s") % {"targets": addressed},
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    if organization:
        pdf.multi_cell(
            text_width,
            5,
            _("Collected by %(organization)s") % {"organization": organization},
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.set_y(max(pdf.get_y(), 10 + qr_size) + 1)
    pdf.set_font(FONT, "", 7.5)
    pdf.set_x(pdf.w - 10 - qr_size - 20)
    pdf.cell(qr_size + 20, 4, _("Sign online:"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8.5)
    pdf.multi_cell(0, 4.2, url, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)
    pdf.multi_cell(
        0,
        4.2,
        _(
            "By signing you support this petition. Your signature is counted, and your first "
            "name, initial and town are delivered to the officials it is addressed to, as "
            "your postal code places you. You will receive no emails: an email written here is "
            "used only so that someone who also signs online is counted once. The sheet is "
            "typed in and not kept as a scan; the data are deleted with the petition's "
            "signatures."
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(2)
    _table(pdf)
    pdf.set_y(pdf.h - 14)
    pdf.set_font(FONT, "", 8)
    pdf.cell(0, 5, _("Sheet no. ______    Collected on ______"), new_x=XPos.LMARGIN)
    return bytes(pdf.output())


def _table(pdf: FPDF) -> None:
    headers = (
        _("No."),
        _("Name"),
        _("Postal code"),
        _("Email (optional)"),
        _("Signature"),
    )
    pdf.set_font(FONT, "B", 8.5)
    pdf.set_fill_color(235, 235, 235)
    for width, header in zip(COLUMNS_MM, headers, strict=True):
        pdf.cell(width, 7, header, border=1, fill=True)
    pdf.ln()
    # The lines fill what is left of the page, above the footer.
    height = max(7.0, min(11.0, (pdf.h - 18 - pdf.get_y()) / SHEET_LINES))
    pdf.set_font(FONT, "", 9)
    for number in range(1, SHEET_LINES + 1):
        pdf.cell(COLUMNS_MM[0], height, str(number), border=1, align="C")
        for width in COLUMNS_MM[1:]:
            pdf.cell(width, height, "", border=1)
        pdf.ln()
