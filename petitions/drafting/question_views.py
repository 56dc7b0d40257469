"""The workspace page of a draft petition's own sign-form questions: the questions it asks, and
a form to add or change one, for the editors of an organization that leads it.

The same doors as the rest of the workspace (petitions.drafting.views): outsiders get a 404,
members without the editor's role a 403. Questions change only while the draft is editable;
once it is submitted or published the page shows them and every change is refused, with
nothing written (staff change a published petition's questions in the admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Organization
from accounts.selectors import user_logged_in
from petitions.drafting.kinds import DraftKind
from petitions.drafting.services import EDITABLE
from petitions.drafting.views import _campaign
from petitions.models import Question
from petitions.question_forms import QuestionForm
from petitions.questions import questions_of
from petitions.services import questions as services


def _page(
    request: HttpRequest,
    *,
    organization: Organization,
    kind: DraftKind,
    petition: Any,
    form: QuestionForm | None,
    editing: Question | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "organization": organization,
        "campaign": petition,
        "kind_name": kind.name,
        "questions": list(Question.objects.filter(**{kind.name: petition})),
        "editable": petition.review in EDITABLE,
        "form": form,
        "editing": editing,
        # What the sign form asks now, as signers see it.
        "asked": questions_of(petition.question_set),
    }
    return render(request, "drafting/questions.html", context, status=status)


def _back(organization: Organization, kind: DraftKind, petition: Any) -> HttpResponse:
    return redirect(
        "drafting:questions", organization=organization.slug, kind=kind.name, pk=petition.pk
    )


def _save(
    request: HttpRequest,
    *,
    organization: Organization,
    kind: DraftKind,
    petition: Any,
    question: Question | None,
) -> HttpResponse:
    form = QuestionForm(request.POST, instance=question)
    # 400 for a form that does not hold together, 409 for one the draft's state refuses.
    status = 400
    if form.is_valid():
        try:
            services.campaign_question_save(
                kind=kind,
                campaign_id=petition.pk,
                organization=organization,
                user=user_logged_in(request=request),
                question=form.save(commit=False),
            )
        except ValidationError as error:
            form.add_error(None, error)
            status = 409
        else:
            messages.success(request, _("Question saved. The sign form asks it now."))
            return _back(organization, kind, petition)
    return _page(
        request,
        organization=organization,
        kind=kind,
        petition=petition,
        form=form,
        editing=question,
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def campaign_questions(request: HttpRequest, organization: str, pk: int, kind: str) -> HttpResponse:
    """The draft's questions, and a new one added from the form below them."""
    found, draft_kind, petition = _campaign(request, organization, kind, pk)
    if request.method == "POST":
        return _save(request, organization=found, kind=draft_kind, petition=petition, question=None)
    # A new question goes last unless the editor says otherwise.
    last = Question.objects.filter(**{draft_kind.name: petition}).count()
    form = QuestionForm(initial={"position": last}) if petition.review in EDITABLE else None
    return _page(request, organization=found, kind=draft_kind, petition=petition, form=form)


def _question(kind: DraftKind, petition: Any, question_pk: int) -> Question:
    question = Question.objects.filter(pk=question_pk, **{kind.name: petition}).first()
    if question is None:
        raise Http404
    return question


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def question_change(
    request: HttpRequest, organization: str, kind: str, pk: int, question_pk: int
) -> HttpResponse:
    found, draft_kind, petition = _campaign(request, organization, kind, pk)
    question = _question(draft_kind, petition, question_pk)
    if request.method == "POST":
        return _save(
            request, organization=found, kind=draft_kind, petition=petition, question=question
        )
    form = QuestionForm(instance=question) if petition.review in EDITABLE else None
    return _page(
        request, organization=found, kind=draft_kind, petition=petition, form=form, editing=question
    )


@require_POST
@login_required
def question_remove(
    request: HttpRequest, organization: str, kind: str, pk: int, question_pk: int
) -> HttpResponse:
    found, draft_kind, petition = _campaign(request, organization, kind, pk)
    question = _question(draft_kind, petition, question_pk)
    try:
        services.campaign_question_delete(
            kind=draft_kind,
            campaign_id=petition.pk,
            organization=found,
            user=user_logged_in(request=request),
            question_id=question.pk,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Question removed from the sign form."))
    return _back(found, draft_kind, petition)
