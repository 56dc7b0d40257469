"""The page a target answers on, from the link in the email that asked them: no account, the
link is the key. A bad, replaced, expired or already published link gets a page that says so,
and writes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from mechanisms.abuse import rate_limits
from mechanisms.markdown import markdown_render
from petitions.models import ThresholdRequest
from petitions.services.threshold_answers import threshold_answer_save
from petitions.thresholds.forms import AnswerForm
from petitions.thresholds.selectors import (
    AlreadyPublished,
    LinkExpired,
    LinkInvalid,
    threshold_request_for_token,
)

ACTION = "threshold_answer"


def _link_page(request: HttpRequest, error: Exception) -> HttpResponse:
    if isinstance(error, AlreadyPublished):
        context: dict[str, Any] = {"state": "published", "found": error.request}
        return render(request, "petitions/thresholds/link.html", context, status=410)
    if isinstance(error, LinkExpired):
        context = {"state": "expired", "found": error.request}
        return render(request, "petitions/thresholds/link.html", context, status=410)
    return render(request, "petitions/thresholds/link.html", {"state": "invalid"}, status=404)


def _page(
    request: HttpRequest,
    found: ThresholdRequest,
    form: AnswerForm,
    *,
    status: int = 200,
    preview: str = "",
    rate_limit_message: str = "",
) -> HttpResponse:
    context = {
        "found": found,
        "petition": found.petition,
        "form": form,
        "preview": preview,
        "rate_limit_message": rate_limit_message,
    }
    return render(request, "petitions/thresholds/answer.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def threshold_answer(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    if request.method == "POST" and rate_limits.rate_limited(request, action=ACTION):
        return render(
            request,
            "petitions/thresholds/link.html",
            {"state": "busy", "rate_limit_message": rate_limits.rate_limit_message(ACTION)},
            status=429,
        )
    try:
        found = threshold_request_for_token(slug=slug, token=token)
    except (LinkInvalid, LinkExpired, AlreadyPublished) as error:
        return _link_page(request, error)
    if request.method != "POST":
        return _page(request, found, AnswerForm(initial={"answer": found.answer}))
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _page(request, found, form, status=400)
    if "preview" in request.POST:
        return _page(request, found, form, preview=markdown_render(form.cleaned_data["answer"]))
    if rate_limits.submission_rate_limited(request, action=ACTION, scope=str(found.petition_id)):
        return _page(
            request,
            found,
            form,
            status=429,
            rate_limit_message=rate_limits.rate_limit_message(ACTION),
        )
    try:
        threshold_answer_save(slug=slug, token=token, text=form.cleaned_data["answer"])
    except ValidationError as error:
        form.add_error("answer", error)
        return _page(request, found, form, status=400)
    except (LinkInvalid, LinkExpired, AlreadyPublished) as error:
        # Published or expired between the page and the post.
        return _link_page(request, error)
    messages.success(
        request,
        _("Thank you: your answer is with our staff, who publish it on the petition's page."),
    )
    return redirect(request.path)
