"""Writes for an organization's supporters: their details leave Cosign only once recorded."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Organization, User
from mechanisms.audit import audit_record
from petitions.models import Petition, SponsorOptIn, SupporterExport
from petitions.supporters import supporters_of


def supporter_export_record(
    *,
    organization: Organization,
    user: User,
    petition: Petition | None = None,
    since: date | None = None,
    until: date | None = None,
    shown: Collection[int] | None = None,
    through_api: bool = False,
    now: datetime | None = None,
) -> SupporterExport:
    """Record that `user` receives the organization's supporters chosen by campaign and dates:
    a download of all of them as of `now` (stream them with `supporters_of(..., as_of=now)`), or,
    given `shown`, the ids of the opt-ins on one page of the list. Recorded as a row its
    administrators read, a line in the audit log, and on each opt-in the moment its details
    last left (the signer sees it on their "your signatures" page). Whether `user` may is the
    caller's question (a data steward or administrator of a verified organization)."""
    now = now or timezone.now()
    with transaction.atomic():
        if shown is None:
            rows = supporters_of(
                organization=organization, petition=petition, since=since, until=until, as_of=now
            )
            kind = SupporterExport.Kind.DOWNLOAD
        else:
            rows = SponsorOptIn.objects.filter(organization=organization, pk__in=list(shown))
            kind = SupporterExport.Kind.API if through_api else SupporterExport.Kind.VIEW
        count = rows.update(exported_at=now)
        export = SupporterExport.objects.create(
            organization=organization,
            exported_by=user,
            created_at=now,
            petition=petition,
            since=since,
            until=until,
            rows=count,
            kind=kind,
        )
        details = {
            "count": count,
            "campaign": petition.title if petition else gettext("all campaigns"),
            "since": since.isoformat() if since else gettext("the start"),
            "until": until.isoformat() if until else gettext("today"),
        }
        line = (
            gettext(
                "Exported %(count)s supporters: %(campaign)s, consent from %(since)s to %(until)s."
            )
            if shown is None
            else gettext(
                "Read %(count)s supporters through the API: %(campaign)s, consent from "
                "%(since)s to %(until)s."
            )
            if through_api
            else gettext(
                "Viewed %(count)s supporters on the list: %(campaign)s, consent from %(since)s "
                "to %(until)s."
            )
        )
        audit_record(user=user, obj=organization, lines=[line % details])
    return export
