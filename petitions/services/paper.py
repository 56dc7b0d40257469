"""Paper signatures: batches typed row by row, finished (counted), and the paper count.

A person counts once. A paper line that gives an email is matched by canonical email against
the petition's confirmed online signatures and against the other sponsors' (and staff's)
counted paper lines: the online signature wins (the signer confirmed their address, chose how
their name is shown and can withdraw it, which a line on paper cannot do), otherwise the
earliest counted paper line does. The others are kept but marked `duplicate`.

Organizations never learn which of their lines those are: the same email on another
sponsor's sheet is accepted like any other line (only a repeat within one batch, which the
typist typed twice, is refused), and the workspace shows batch totals, never a line's mark.
Finishing a batch only closes it; the batched counter brings it into the count
(`paper_batches_tally`), so the moment of finishing tells nothing either. Online signing never
looks at paper rows (the hot path stays one INSERT); the counter and the nightly recount set
the `duplicate` flags and the paper count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Organization
from mechanisms.addresses import email_canonicalize
from mechanisms.audit import audit_log
from petitions.jurisdiction import postal_code_normalize, postal_code_resolve
from petitions.models import PaperBatch, PaperSignature, Petition

# The numbered lines on one printed sheet; typing goes on to the next sheet after the last.
SHEET_LINES = 20
# A batch holds at most this many rows (about fifty full sheets): a bound on one form's work.
BATCH_MAX_ROWS = 1000


class PaperRefused(Exception):
    """A batch cannot be changed or finished; the message says why, for the person typing."""


@dataclass(frozen=True)
class PaperRow:
    """One line of a sheet as typed, before it is saved."""

    sheet: int
    line: int
    name: str
    postal_code: str = ""
    country: str = ""
    email: str = ""


def paper_row_problems(*, petition: Petition, row: PaperRow) -> dict[str, str]:
    """What is wrong with a row on its own, by field (empty when nothing is)."""
    problems: dict[str, str] = {}
    if not row.name.strip():
        problems["name"] = _("Type the name written on this line.")
    if petition.postal_code_required and not row.postal_code.strip():
        problems["postal_code"] = _("This petition needs a postal code on every line.")
    if row.email:
        try:
            validate_email(row.email)
        except ValidationError:
            problems["email"] = _("This is not an email address; leave it empty if unreadable.")
    if row.sheet < 1:
        problems["sheet"] = _("Sheets are numbered from 1.")
    if not 1 <= row.line <= SHEET_LINES:
        problems["line"] = _("Lines are numbered from 1 to %(lines)d.") % {"lines": SHEET_LINES}
    return problems


def paper_row_model(*, batch: PaperBatch, row: PaperRow) -> PaperSignature:
    postal_code = postal_code_normalize(row.postal_code)
    place = postal_code_resolve(country=row.country, postal_code=postal_code)
    return PaperSignature(
        batch=batch,
        petition_id=batch.petition_id,
        sheet=row.sheet,
        line=row.line,
        name=" ".join(row.name.split()),
        postal_code=postal_code,
        country=place.country if place else row.country,
        email=row.email.strip(),
        canonical_email=email_canonicalize(row.email) if row.email.strip() else "",
        region=place.region if place else "",
        locality=place.locality if place else "",
    )


def paper_next_place(*, batch: PaperBatch) -> tuple[int, int]:
    """Where typing goes on: the line after the last one typed (sheet, line)."""
    last = batch.rows.order_by("-sheet", "-line").values_list("sheet", "line").first()
    if last is None:
        return 1, 1
    sheet, line = last
    return (sheet, line + 1) if line < SHEET_LINES else (sheet + 1, 1)


def paper_batch_create(
    *, petition: Petition, organization: Organization | None, user: Any, sheet_reference: str
) -> PaperBatch:
    with transaction.atomic():
        batch = PaperBatch.objects.create(
            petition=petition,
            organization=organization,
            entered_by=user,
            sheet_reference=sheet_reference.strip(),
        )
        audit_log(
            user=user,
            objects=[batch],
            message=_("Started a paper batch for the petition %(petition)s.")
            % {"petition": petition.title},
        )
    return batch


def _open_batch_locked(batch: PaperBatch) -> PaperBatch:
    locked = PaperBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.counted_at is not None:
        raise PaperRefused(_("This batch is already counted; start a new one to add sheets."))
    return locked


def paper_row_add(*, batch: PaperBatch, row: PaperRow) -> PaperSignature:
    """Save one typed line of a batch still being typed. Raises ValidationError (by field) for
    a bad line, or a line or an email typed twice in this batch, and PaperRefused for a
    counted or full batch; nothing is saved then. An email on another batch is accepted
    silently: refusing it would reveal another sponsor's sheets (the counter counts the
    person once)."""
    problems = paper_row_problems(petition=batch.petition, row=row)
    if problems:
        raise ValidationError(problems)
    try:
        with transaction.atomic():
            locked = _open_batch_locked(batch)
            if locked.rows.count() >= BATCH_MAX_ROWS:
                raise PaperRefused(
                    _("A batch holds at most %(rows)d lines; finish it and start another.")
                    % {"rows": BATCH_MAX_ROWS}
                )
            signature = paper_row_model(batch=locked, row=row)
            signature.save()
    except IntegrityError as error:
        raise ValidationError(_row_conflict(batch=batch, row=row)) from error
    return signature


def _row_conflict(*, batch: PaperBatch, row: PaperRow) -> dict[str, str]:
    if batch.rows.filter(sheet=row.sheet, line=row.line).exists():
        return {
            "line": _("Line %(line)d of sheet %(sheet)d is already typed.")
            % {"line": row.line, "sheet": row.sheet}
        }
    # Only this batch's own lines can clash (the constraint is per batch), so naming the line
    # tells the typist nothing they did not type themselves.
    earlier = (
        batch.rows.filter(canonical_email=email_canonicalize(row.email), anonymized_at=None)
        .values_list("sheet", "line")
        .first()
    )
    if earlier is None:  # taken back meanwhile: typing it again will do
        return {"email": _("This line could not be saved; please save it again.")}
    return {
        "email": _("This email is already on line %(line)d of sheet %(sheet)d of this batch.")
        % {"line": earlier[1], "sheet": earlier[0]}
    }


def paper_row_delete(*, batch: PaperBatch, row_id: int) -> None:
    """Take back a line typed by mistake, while the batch is not counted."""
    with transaction.atomic():
        locked = _open_batch_locked(batch)
        locked.rows.filter(pk=row_id).delete()


def paper_batch_problems(*, batch: PaperBatch) -> list[str]:
    """Why a batch cannot be counted yet (empty when it can)."""
    if not batch.rows.exists():
        return [_("The batch has no lines yet.")]
    if batch.petition.postal_code_required:
        missing = list(
            batch.rows.filter(postal_code="").order_by("sheet", "line").values_list("sheet", "line")
        )
        return [
            _("Sheet %(sheet)d, line %(line)d: this petition needs a postal code.")
            % {"sheet": sheet, "line": line}
            for sheet, line in missing
        ]
    return []


def paper_batch_finish(*, batch: PaperBatch, user: Any) -> int:
    """Finish a batch: it takes no more lines, the batched counter brings it into the paper
    count within seconds (less people counted elsewhere; `paper_batches_tally`), and the audit
    log says who finished it. Raises PaperRefused, with every reason, when it cannot be
    finished. Returns the lines the batch hands to the count."""
    with transaction.atomic():
        locked = _open_batch_locked(batch)
        problems = paper_batch_problems(batch=locked)
        if problems:
            raise PaperRefused(" ".join(problems))
        locked.counted_at = timezone.now()
        locked.save(update_fields=["counted_at"])
        rows = locked.rows.count()
        audit_log(
            user=user,
            objects=[locked],
            message=ngettext(
                "Finished a paper batch of %(rows)d line for counting.",
                "Finished a paper batch of %(rows)d lines for counting.",
                rows,
            )
            % {"rows": rows},
        )
    batch.counted_at = locked.counted_at
    return rows


def paper_counts_of(*, petition: Petition) -> dict[str, int]:
    """For the workspace: lines typed on paper for the petition, and its paper count (public
    anyway). Never how many lines were not counted: that figure, watched before and after a
    batch, would say which of a sponsor's lines someone signed online."""
    typed = PaperSignature.objects.filter(petition=petition).count()
    return {"typed": typed, "counted": petition.paper_count}
