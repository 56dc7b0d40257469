"""The emails of the drafting workflow, all through the outbox: each review step to the
campaign's lead organizations, a submitted draft to staff, invitations and their answers, a
proposed official confirmed, and each step of an update's review.

Every one is a short notice in the reader's language (the organization's), built from the rows
as they are when it is sent, with one link to where to act. One template renders them all."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import Organization
from accounts.selectors import member_addresses
from mechanisms.mail import EmailKind, absolute_url, message_render
from mechanisms.models import OutboundEmail
from mechanisms.outbox import Recipient, emails_enqueue
from petitions.drafting.kinds import DRAFT_KINDS


@dataclass(frozen=True)
class Notice:
    subject: str
    lines: list[str]
    link_label: str
    link_url: str
    # Staff's words, quoted as they wrote them.
    quote: str = ""


def _url(view: str, **kwargs: Any) -> str:
    return absolute_url(reverse(view, kwargs=kwargs))


def _render(email: OutboundEmail, make: Callable[[OutboundEmail], Notice | None]) -> Any:
    with translation.override(email.language):
        notice = make(email)
        if notice is None:
            return None
        return message_render(
            to=email.recipient,
            language=email.language,
            template="drafting/email/notice",
            context={"notice": notice},
        )


def _draft_url(kind_name: str, organization_id: object, campaign_id: int) -> str:
    organization = (
        Organization.objects.filter(pk=organization_id).first()
        if isinstance(organization_id, int)
        else None
    )
    if organization is None:
        return _url("accounts:my_organizations")
    return _url("drafting:campaign", organization=organization.slug, kind=kind_name, pk=campaign_id)


def _version(email: OutboundEmail) -> tuple[Any, Any] | None:
    kind = DRAFT_KINDS.get(email.ref.get("kind", ""))
    if kind is None:
        return None
    version = (
        kind.version_model._default_manager.select_related("campaign")
        .filter(pk=email.ref.get("version"))
        .first()
    )
    return (kind, version) if version is not None else None


def _step(email: OutboundEmail) -> Notice | None:
    found = _version(email)
    if found is None:
        return None
    kind, version = found
    campaign = version.campaign
    title = campaign.title
    link = _draft_url(kind.name, email.ref.get("organization"), campaign.pk)
    event = version.event
    if event == "submitted":
        return Notice(
            subject=gettext("Submitted for review: %(title)s") % {"title": title},
            lines=[
                gettext(
                    "“%(title)s” is with our staff for review. We will write again when they "
                    "have approved it or returned it to you with what to change."
                )
                % {"title": title}
            ],
            link_label=gettext("See the draft"),
            link_url=link,
        )
    if event == "returned":
        return Notice(
            subject=gettext("Returned for changes: %(title)s") % {"title": title},
            lines=[
                gettext(
                    "Our staff returned “%(title)s” to you. Their reason is below; change the "
                    "draft and submit it again."
                )
                % {"title": title}
            ],
            quote=version.note,
            link_label=gettext("Change the draft"),
            link_url=link,
        )
    if event == "published":
        return Notice(
            subject=gettext("Published: %(title)s") % {"title": title},
            lines=[gettext("Our staff approved “%(title)s”. It is published.") % {"title": title}],
            link_label=gettext("See it on Cosign"),
            link_url=absolute_url(campaign.get_absolute_url()),
        )
    if event == "unpublished":
        return Notice(
            subject=gettext("Unpublished: %(title)s") % {"title": title},
            lines=[
                gettext(
                    "Our staff took “%(title)s” off the site. Their reason is below. The "
                    "signatures it has are kept."
                )
                % {"title": title}
            ],
            quote=version.note,
            link_label=gettext("See the draft"),
            link_url=link,
        )
    return None


def _staff_waiting(email: OutboundEmail) -> Notice | None:
    found = _version(email)
    if found is None:
        return None
    kind, version = found
    campaign = version.campaign
    if campaign.review != "submitted":
        return None  # already decided
    return Notice(
        subject=gettext("Waiting for review: %(title)s") % {"title": campaign.title},
        lines=[
            gettext("%(organization)s submitted a %(kind)s for review: “%(title)s”.")
            % {
                "organization": campaign.organization.name if campaign.organization else "",
                "kind": kind.label,
                "title": campaign.title,
            }
        ],
        link_label=gettext("Review it"),
        link_url=_url(kind.admin_review_url_name, object_id=campaign.pk),
    )


def _invitation(email: OutboundEmail) -> tuple[Any, Any] | None:
    kind = DRAFT_KINDS.get(email.ref.get("kind", ""))
    if kind is None:
        return None
    invitation = (
        kind.invitation_model._default_manager.select_related(
            "campaign", "campaign__organization", "organization"
        )
        .filter(pk=email.ref.get("invitation"))
        .first()
    )
    return (kind, invitation) if invitation is not None else None


def _invited(email: OutboundEmail) -> Notice | None:
    found = _invitation(email)
    if found is None or found[1].status != "pending":
        return None
    kind, invitation = found
    campaign = invitation.campaign
    return Notice(
        subject=gettext("%(organization)s invites you to “%(title)s”")
        % {"organization": campaign.organization.name, "title": campaign.title},
        lines=[
            gettext(
                "%(organization)s invites %(invited)s to be a %(role)s of its %(kind)s "
                "“%(title)s”. Accept or decline in your workspace."
            )
            % {
                "organization": campaign.organization.name,
                "invited": invitation.organization.name,
                "role": invitation.get_role_display().lower(),
                "kind": kind.label,
                "title": campaign.title,
            }
        ],
        link_label=gettext("Answer the invitation"),
        link_url=_url("drafting:list", organization=invitation.organization.slug),
    )


def _answered(email: OutboundEmail) -> Notice | None:
    found = _invitation(email)
    if found is None or found[1].status == "pending":
        return None
    kind, invitation = found
    campaign = invitation.campaign
    message = (
        gettext("%(invited)s accepted to be a %(role)s of “%(title)s”.")
        if invitation.status == "accepted"
        else gettext("%(invited)s declined to be a %(role)s of “%(title)s”.")
    )
    return Notice(
        subject=message
        % {
            "invited": invitation.organization.name,
            "role": invitation.get_role_display().lower(),
            "title": campaign.title,
        },
        lines=[],
        link_label=gettext("See the campaign"),
        link_url=_draft_url(kind.name, campaign.organization_id, campaign.pk),
    )


def _target_confirmed(email: OutboundEmail) -> Notice | None:
    from petitions.models import Target

    target = Target.objects.filter(pk=email.ref.get("target"), awaiting_confirmation=False).first()
    if target is None:
        return None
    return Notice(
        subject=gettext("Official confirmed: %(target)s") % {"target": target},
        lines=[
            gettext(
                "Our staff confirmed the official you proposed, %(target)s. Campaigns can now "
                "address them, and they receive deliveries."
            )
            % {"target": target}
        ],
        link_label=gettext("Your campaigns"),
        link_url=_url("accounts:my_organizations"),
    )


def _update_step(email: OutboundEmail) -> Notice | None:
    from petitions.models import PetitionUpdate

    update = (
        PetitionUpdate.objects.select_related("petition", "organization")
        .filter(pk=email.ref.get("update"))
        .first()
    )
    if update is None or update.organization is None:
        return None
    step = email.ref.get("step")
    link = _draft_url("petition", email.ref.get("organization"), update.petition_id)
    values = {"title": update.title, "petition": update.petition.title}
    if step == "submitted":
        subject = gettext("Update waiting for review: %(title)s") % values
        line = gettext(
            "Your update “%(title)s” to the signers of “%(petition)s” is with our staff for "
            "review. It is sent when they approve it."
        )
    elif step == "published":
        subject = gettext("Update published: %(title)s") % values
        line = gettext(
            "Your update “%(title)s” is published on “%(petition)s”, and emailed to the "
            "signers who asked for updates."
        )
    elif step == "returned":
        subject = gettext("Update returned: %(title)s") % values
        line = gettext(
            "Our staff did not send your update “%(title)s” to the signers of “%(petition)s”. "
            "Their reason is below."
        )
    elif step == "unpublished":
        subject = gettext("Update unpublished: %(title)s") % values
        line = gettext("Our staff took your update “%(title)s” off “%(petition)s”.")
    else:
        return None
    return Notice(
        subject=subject,
        lines=[line % values],
        quote=update.review_reason if step in ("returned", "unpublished") else "",
        link_label=gettext("See the campaign"),
        link_url=link,
    )


def _builder(make: Callable[[OutboundEmail], Notice | None]) -> Callable[..., Any]:
    def build(email: OutboundEmail) -> EmailMultiAlternatives | None:
        return _render(email, make)

    return build


# To members of verified organizations, who have accounts: never unsolicited.
REVIEW_STEP = EmailKind("campaign_review_step", build=_builder(_step))
STAFF_WAITING = EmailKind("campaign_review_waiting", build=_builder(_staff_waiting))
INVITATION = EmailKind("campaign_invitation", build=_builder(_invited))
INVITATION_ANSWERED = EmailKind("campaign_invitation_answered", build=_builder(_answered))
TARGET_CONFIRMED = EmailKind("campaign_target_confirmed", build=_builder(_target_confirmed))
UPDATE_STEP = EmailKind("campaign_update_step", build=_builder(_update_step))


def notice_enqueue(
    *,
    notice: EmailKind,
    about: object,
    organizations: Iterable[Organization | None],
    ref: dict[str, Any],
) -> int:
    """Owe each person of the organizations one `notice`, in their organization's language
    (someone in two of them gets one, for the first)."""
    recipients: dict[str, Recipient] = {}
    for organization in organizations:
        if organization is None:
            continue
        for address in member_addresses(organizations=[organization]):
            recipients.setdefault(
                address.lower(),
                Recipient(
                    to=address,
                    language=organization.language,
                    ref={**ref, "organization": organization.pk},
                ),
            )
    return emails_enqueue(kind=notice, about=about, recipients=recipients.values())


def staff_notice_enqueue(*, kind: Any, version: Any) -> int:
    from petitions.drafting.selectors import staff_reviewers

    perm = f"{kind.model._meta.app_label}.change_{kind.model._meta.model_name}"
    return emails_enqueue(
        kind=STAFF_WAITING,
        about=f"{kind.name}:{version.pk}",
        recipients=[
            Recipient(
                to=user.email,
                language=settings.LANGUAGE_CODE,
                ref={"kind": kind.name, "version": version.pk},
            )
            for user in staff_reviewers(perm=perm)
        ],
    )
