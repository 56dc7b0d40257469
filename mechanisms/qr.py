"""QR codes of links, for printed sheets and street collection: drawn here (segno, pure Python,
SVG and PNG without an imaging library), so no request for one ever leaves for another host."""

from __future__ import annotations

import io

import segno

# Medium error correction survives a crease or a smudge on a printed sheet and keeps the code
# small enough for a phone to read at arm's length.
ERROR = "m"


def qr_code(*, data: str) -> segno.QRCode:
    return segno.make(data, error=ERROR, micro=False)


def qr_svg(*, data: str) -> bytes:
    buffer = io.BytesIO()
    qr_code(data=data).save(buffer, kind="svg", scale=8, border=4)
    return buffer.getvalue()


def qr_png(*, data: str, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    qr_code(data=data).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
