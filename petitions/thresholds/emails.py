"""The emails of response thresholds, through the outbox: a target asked to respond (with the
count and its answer link), and staff told an answer waits to be published.

Targets are officials staff entered or confirmed, never an address a stranger typed, so the
request is not an unsolicited kind; it carries no text an organization wrote but the reviewed
petition's own."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone, translation

from mechanisms.link_keys import link_digest, link_key_new, link_token
from mechanisms.mail import EmailKind, absolute_url, message_render
from mechanisms.models import OutboundEmail
from petitions.models import ThresholdRequest

ANSWER_LINK_PURPOSE = "petitions.threshold_answer"


def answer_token(*, request: ThresholdRequest) -> str:
    return link_token(purpose=ANSWER_LINK_PURPOSE, key=request.link_key)


def answer_url(*, request: ThresholdRequest, language: str) -> str:
    token = answer_token(request=request)
    with translation.override(language):
        path = reverse(
            "petitions:threshold_answer", kwargs={"slug": request.petition.slug, "token": token}
        )
    return absolute_url(path)


def link_fields() -> dict[str, str]:
    """A fresh key and the digest of its token: what a request stores for a new link."""
    key = link_key_new()
    return {
        "link_key": key,
        "token_digest": link_digest(link_token(purpose=ANSWER_LINK_PURPOSE, key=key)),
    }


def _request_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    request = (
        ThresholdRequest.objects.select_related("petition", "target")
        .filter(pk=email.ref.get("request"), link_key=email.ref.get("key", ""))
        .first()
    )
    # A newer link was made since (staff asked again), or it was answered and published: the
    # email that carries this one has nothing left to say.
    if request is None or request.status == ThresholdRequest.Status.PUBLISHED:
        return None
    if link_digest(answer_token(request=request)) != request.token_digest:
        # SECRET_KEY changed since the link was made: this email could not open it. A new key
        # for the same row, so the link it carries works (the old one was never sent).
        fields = link_fields()
        ThresholdRequest.objects.filter(pk=request.pk).update(**fields)
        request.link_key, request.token_digest = fields["link_key"], fields["token_digest"]
    petition = request.petition
    language = petition.language
    with translation.override(language):
        petition_url = absolute_url(petition.get_absolute_url())
    return message_render(
        to=email.recipient,
        language=language,
        template="petitions/email/threshold_request",
        context={
            "petition": petition,
            "petition_url": petition_url,
            "threshold_request": request,
            "target": request.target,
            "answer_url": answer_url(request=request, language=language),
            "due_date": timezone.localdate(request.due_at) if request.due_at else None,
            "link_until": timezone.localdate(request.link_expires_at)
            if request.link_expires_at
            else None,
        },
    )


def _answered_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    request = (
        ThresholdRequest.objects.select_related("petition", "target")
        .filter(pk=email.ref.get("request"), status=ThresholdRequest.Status.ANSWERED)
        .first()
    )
    if request is None:
        return None  # published (or gone) before this went
    return message_render(
        to=email.recipient,
        language=email.language,
        template="petitions/email/threshold_answered",
        context={
            "petition": request.petition,
            "threshold_request": request,
            "target": request.target,
            "admin_url": absolute_url(
                reverse("admin:petitions_thresholdrequest_change", args=[request.pk])
            ),
        },
    )


# To a target, once per request and answer link.
THRESHOLD_REQUEST = EmailKind("petition_threshold_request", build=_request_build)
# To staff who publish responses, once per request (revisions are seen in the admin's queue).
THRESHOLD_ANSWERED = EmailKind("petition_threshold_answered", build=_answered_build)

# Staff told of an answer hold this permission (or are superusers).
PUBLISH_PERMISSION = "petitions.change_thresholdrequest"
STAFF_LANGUAGE = settings.LANGUAGE_CODE
