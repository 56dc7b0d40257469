"""Writes for an organization's supporters: an export is recorded before its file is sent."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Organization, User
from mechanisms.audit import audit_record
from petitions.models import Petition, SupporterExport
from petitions.supporters import supporters_of


def supporter_export_record(
    *,
    organization: Organization,
    user: User,
    petition: Petition | None = None,
    since: date | None = None,
    until: date | None = None,
) -> SupporterExport:
    """Record that `user` downloads the organization's supporters chosen by campaign and dates:
    a row its administrators read, a line in the audit log, and on each opt-in the moment it was
    last exported (the signer sees it on their "your signatures" page). Whether `user` may is
    the caller's question (a data steward or administrator of a verified organization)."""
    now = timezone.now()
    with transaction.atomic():
        rows = supporters_of(organization=organization, petition=petition, since=since, until=until)
        count = rows.update(exported_at=now)
        export = SupporterExport.objects.create(
            organization=organization,
            exported_by=user,
            created_at=now,
            petition=petition,
            since=since,
            until=until,
            rows=count,
        )
        audit_record(
            user=user,
            obj=organization,
            lines=[
                gettext(
                    "Exported %(count)s supporters: %(campaign)s, consent from %(since)s to "
                    "%(until)s."
                )
                % {
                    "count": count,
                    "campaign": petition.title if petition else gettext("all campaigns"),
                    "since": since.isoformat() if since else gettext("the start"),
                    "until": until.isoformat() if until else gettext("today"),
                }
            ],
        )
    return export
