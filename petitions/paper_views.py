"""An organization's paper signatures for a petition it sponsors: the printable sheet, the QR
codes of its share link, and the batches its editors type or import.

Members of the organization see the page, print the sheet and download the QR codes (they
already see the share link the codes carry); typing and importing, which handle signers'
names and emails, are for its editors and administrators, others get a 403. Anyone outside
the organization gets a 404, so they learn nothing of what it runs. Staff enter paper
signatures in the admin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Capability, Membership, Organization
from accounts.selectors import membership_get
from mechanisms.csv_import import FileRefused
from mechanisms.qr import qr_png, qr_svg
from petitions import dashboard
from petitions.dashboard_views import share_link
from petitions.importers.paper import paper_signatures_import
from petitions.models import PaperBatch, Petition
from petitions.paper_forms import PaperBatchForm, PaperCsvForm, PaperRowForm
from petitions.paper_sheet import paper_sheet_pdf
from petitions.services import paper

# What paper can still be added to: not a draft (404 anyway) nor an archived campaign.
TAKES_PAPER = (Petition.Status.OPEN, Petition.Status.CLOSED)


def _membership(request: HttpRequest, slug: str) -> tuple[Organization, Membership]:
    organization = get_object_or_404(Organization, slug=slug)
    membership = membership_get(user=request.user, organization=organization)
    if membership is None or not membership.may(Capability.VIEW_DASHBOARDS):
        raise Http404
    return organization, membership


Found = tuple[Organization, Petition]


def _for_member(request: HttpRequest, organization: str, slug: str) -> Found:
    found, _member = _membership(request, organization)
    return found, dashboard.petition_of_organization(organization=found, slug=slug)


def _for_editor(request: HttpRequest, organization: str, slug: str) -> Found:
    found, membership = _membership(request, organization)
    petition = dashboard.petition_of_organization(organization=found, slug=slug)
    if not membership.may(Capability.EDIT_CAMPAIGNS):
        raise PermissionDenied
    return found, petition


def _batch(organization: Organization, petition: Petition, pk: int) -> PaperBatch:
    """One of the organization's own batches of this petition; a 404 for another's."""
    return get_object_or_404(
        PaperBatch.objects.select_related("petition"),
        pk=pk,
        petition=petition,
        organization=organization,
    )


def _page(
    request: HttpRequest,
    organization: Organization,
    petition: Petition,
    *,
    batch_form: PaperBatchForm | None = None,
    csv_form: PaperCsvForm | None = None,
    problems: list[tuple[int, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    membership = membership_get(user=request.user, organization=organization)
    may_edit = membership is not None and membership.may(Capability.EDIT_CAMPAIGNS)
    context = {
        "organization": organization,
        "petition": petition,
        "share_link": share_link(petition=petition, organization=organization),
        "may_edit": may_edit,
        "takes_paper": petition.status in TAKES_PAPER,
        "counts": paper.paper_counts_of(petition=petition),
        "batches": PaperBatch.objects.filter(petition=petition, organization=organization)
        .select_related("entered_by")
        .order_by("-created_at")
        if may_edit
        else [],
        "batch_form": batch_form or PaperBatchForm(),
        "csv_form": csv_form or PaperCsvForm(),
        "problems": problems or [],
    }
    return render(request, "petitions/workspace/paper.html", context, status=status)


@require_safe
@never_cache
@login_required
def paper_petition(request: HttpRequest, organization: str, slug: str) -> HttpResponse:
    found, petition = _for_member(request, organization, slug)
    return _page(request, found, petition)


def _download(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@login_required
def paper_sheet(request: HttpRequest, organization: str, slug: str) -> HttpResponse:
    found, petition = _for_member(request, organization, slug)
    content = paper_sheet_pdf(
        petition=petition,
        targets=list(petition.targets.filter(active=True).order_by("title")),
        url=share_link(petition=petition, organization=found),
        organization_name=found.name,
    )
    return _download(
        content, content_type="application/pdf", filename=f"{slugify(petition.slug)}-sheet.pdf"
    )


@require_safe
@login_required
def share_qr(request: HttpRequest, organization: str, slug: str, kind: str) -> HttpResponse:
    """The organization's share link as a QR code, SVG or PNG, for posters and stalls."""
    found, petition = _for_member(request, organization, slug)
    url = share_link(petition=petition, organization=found)
    filename = f"{slugify(petition.slug)}-{found.slug}-qr.{kind}"
    if kind == "svg":
        return _download(qr_svg(data=url), content_type="image/svg+xml", filename=filename)
    return _download(qr_png(data=url), content_type="image/png", filename=filename)


@require_POST
@login_required
def batch_new(request: HttpRequest, organization: str, slug: str) -> HttpResponse:
    found, petition = _for_editor(request, organization, slug)
    form = PaperBatchForm(request.POST)
    if petition.status not in TAKES_PAPER:
        form.add_error(None, _("This petition no longer takes paper signatures."))
    if not form.is_valid():
        return _page(request, found, petition, batch_form=form, status=400)
    batch = paper.paper_batch_create(
        petition=petition,
        organization=found,
        user=request.user,
        sheet_reference=form.cleaned_data["sheet_reference"],
    )
    return redirect("paper:batch", organization=found.slug, slug=petition.slug, pk=batch.pk)


def _batch_page(
    request: HttpRequest,
    organization: Organization,
    batch: PaperBatch,
    *,
    form: PaperRowForm | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    petition = batch.petition
    if form is None:
        sheet, line = paper.paper_next_place(batch=batch)
        last = batch.rows.order_by("-sheet", "-line").only("country").first()
        initial = {"sheet": sheet, "line": line, "country": last.country.code if last else ""}
        if not initial["country"] and len(petition.countries) == 1:
            initial["country"] = petition.countries[0].code
        form = PaperRowForm(petition=petition, initial=initial)
    context = {
        "organization": organization,
        "petition": petition,
        "batch": batch,
        "form": form,
        "rows": list(batch.rows.order_by("sheet", "line")),
        "problems": problems or [],
        "sheet_lines": paper.SHEET_LINES,
    }
    return render(request, "petitions/workspace/paper_batch.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def batch_detail(request: HttpRequest, organization: str, slug: str, pk: int) -> HttpResponse:
    """The batch being typed: one line at a time, each saved as it is typed, the form set on
    the next line; leaving and coming back goes on where it stopped."""
    found, petition = _for_editor(request, organization, slug)
    batch = _batch(found, petition, pk)
    if request.method != "POST":
        return _batch_page(request, found, batch)
    form = PaperRowForm(request.POST, petition=petition)
    if batch.counted_at is not None:
        form.add_error(None, _("This batch is already counted; start a new one to add sheets."))
    elif form.is_valid():
        try:
            paper.paper_row_add(batch=batch, row=form.row())
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except paper.PaperRefused as error:
            form.add_error(None, str(error))
        else:
            return redirect("paper:batch", organization=found.slug, slug=petition.slug, pk=pk)
    return _batch_page(request, found, batch, form=form, status=400)


@require_POST
@login_required
def row_delete(
    request: HttpRequest, organization: str, slug: str, pk: int, row: int
) -> HttpResponse:
    found, petition = _for_editor(request, organization, slug)
    batch = _batch(found, petition, pk)
    try:
        paper.paper_row_delete(batch=batch, row_id=row)
    except paper.PaperRefused as error:
        return _batch_page(request, found, batch, problems=[str(error)], status=400)
    messages.success(request, _("The line was taken back."))
    return redirect("paper:batch", organization=found.slug, slug=petition.slug, pk=pk)


@require_POST
@login_required
def batch_finish(request: HttpRequest, organization: str, slug: str, pk: int) -> HttpResponse:
    found, petition = _for_editor(request, organization, slug)
    batch = _batch(found, petition, pk)
    try:
        rows = paper.paper_batch_finish(batch=batch, user=request.user)
    except paper.PaperRefused as error:
        return _batch_page(request, found, batch, problems=[str(error)], status=400)
    messages.success(
        request,
        _(
            "The batch is finished: its %(rows)d lines join the count within a minute. "
            "Anyone who also signed online, or is on another sheet, is counted once."
        )
        % {"rows": rows},
    )
    return redirect("paper:petition", organization=found.slug, slug=petition.slug)


@require_POST
@login_required
def batch_import(request: HttpRequest, organization: str, slug: str) -> HttpResponse:
    found, petition = _for_editor(request, organization, slug)
    form = PaperCsvForm(request.POST, request.FILES)
    if petition.status not in TAKES_PAPER:
        form.add_error(None, _("This petition no longer takes paper signatures."))
    if not form.is_valid():
        return _page(request, found, petition, csv_form=form, status=400)
    try:
        result = paper_signatures_import(
            data=form.cleaned_data["file"].read(),
            petition=petition,
            organization=found,
            entered_by=request.user,
            sheet_reference=form.cleaned_data["sheet_reference"],
        )
    except FileRefused as error:
        form.add_error("file", str(error))
        return _page(request, found, petition, csv_form=form, status=400)
    if result.refused:
        form.add_error("file", _("Nothing was imported: fix the lines listed below and try again."))
        problems = [(problem.line, problem.reason) for problem in result.bad_rows]
        return _page(request, found, petition, csv_form=form, problems=problems, status=400)
    messages.success(
        request,
        _(
            "Imported %(rows)d lines as a finished batch: they join the count within a minute. "
            "Anyone who also signed online, or is on another sheet, is counted once."
        )
        % {"rows": result.created},
    )
    return redirect("paper:petition", organization=found.slug, slug=petition.slug)
