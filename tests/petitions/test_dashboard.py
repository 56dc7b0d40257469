"""A sponsoring organization's dashboard of its petition (issue 18, item 3): its figures, its
series by hour and day, its share link, and who may see it. Every boundary is checked from both
organizations of a pair: each sponsors a petition of its own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from mechanisms.models import OutboundEmail
from petitions import dashboard, emails
from petitions.models import Petition, PetitionUpdate, Signature
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    PetitionFactory,
    SignatureFactory,
    TargetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 15, 30, tzinfo=UTC)


def _dashboard_url(organization, petition: Petition) -> str:
    return reverse(
        "petition_dashboards:dashboard",
        kwargs={"organization": organization.slug, "slug": petition.slug},
    )


def _list_url(organization) -> str:
    return reverse("petition_dashboards:list", kwargs={"organization": organization.slug})


@pytest.fixture
def pair() -> dict[str, tuple]:
    """Two organizations, each sponsoring its own petition, each with a viewer."""
    found = {}
    for name in ("Oakland Privacy", "Media Alliance"):
        organization = OrganizationFactory(name=name)
        petition = PetitionFactory(title=f"{name}'s petition", targets=[TargetFactory()])
        petition.sponsors.add(organization)
        viewer = MembershipFactory(organization=organization, role=Membership.Role.VIEWER)
        found[name] = (organization, petition, viewer.user)
    return found


def _confirmed(petition: Petition, at: datetime, **extra) -> Signature:
    return SignatureFactory(
        petition=petition, status=Signature.Status.CONFIRMED, confirmed_at=at, **extra
    )


def test_the_hourly_series_counts_each_hour_and_keeps_empty_ones() -> None:
    petition = PetitionFactory()
    _confirmed(petition, NOW - timedelta(minutes=10))
    _confirmed(petition, NOW - timedelta(minutes=25))
    _confirmed(petition, NOW - timedelta(hours=3))
    _confirmed(petition, NOW - timedelta(hours=dashboard.HOURS_SHOWN + 1))  # too old
    SignatureFactory(petition=petition)  # pending: not counted
    _confirmed(petition, NOW - timedelta(minutes=5), held=True)  # held: not counted

    series = dashboard.signatures_hourly(petition=petition, now=NOW)
    counts = [count for _label, count in series.periods]
    assert len(counts) == dashboard.HOURS_SHOWN
    assert counts[-1] == 2 and counts[-4] == 1
    assert sum(counts) == series.total == 3
    assert series.most == 2
    tallest = series.bars[-1]
    assert (tallest.y, tallest.height) == (0, 100)
    assert series.bars[-4].height == 50
    assert series.bars[0].height == 0


def test_the_daily_series_covers_the_last_sixty_days() -> None:
    petition = PetitionFactory()
    for days in (0, 0, 1, 59, 60):
        _confirmed(petition, NOW - timedelta(days=days))
    series = dashboard.signatures_daily(petition=petition, now=NOW)
    counts = [count for _label, count in series.periods]
    assert len(counts) == dashboard.DAYS_SHOWN == 60
    assert (counts[-1], counts[-2], counts[0]) == (2, 1, 1)
    assert series.total == 4


def test_a_member_of_any_role_sees_their_petitions_dashboard(client, pair) -> None:
    organization, petition, viewer = pair["Oakland Privacy"]
    other_org, other_petition, _ = pair["Media Alliance"]
    now = timezone.now()
    _confirmed(petition, now - timedelta(minutes=5), source=organization)
    _confirmed(petition, now - timedelta(minutes=6), source=other_org)
    _confirmed(petition, now - timedelta(hours=2))
    _confirmed(petition, now - timedelta(hours=2), region="CA", locality="Oakland")
    SignatureFactory(petition=petition)
    _confirmed(petition, now, held=True)
    SignatureFactory(petition=petition, status=Signature.Status.REJECTED)
    SignatureFactory(petition=petition, status=Signature.Status.SPAM)
    _confirmed(other_petition, now)

    client.force_login(viewer)
    listing = client.get(_list_url(organization)).content.decode()
    assert "Oakland Privacy&#x27;s petition" in listing
    assert "Media Alliance&#x27;s petition" not in listing
    assert f"/p/{petition.slug}/from/{organization.slug}/" in listing

    response = client.get(_dashboard_url(organization, petition))
    assert response.status_code == 200
    html = response.content.decode()
    totals = re.sub(
        r"\s+", " ", re.search(r'<dl class="row" id="totals">(.*?)</dl>', html, re.S)[1]
    )
    assert 'Confirmed and counted</dt><dd class="col-sm-7">4<' in totals
    assert 'Waiting for the signer to confirm by email</dt><dd class="col-sm-7">1<' in totals
    assert 'Held for a moderator</dt><dd class="col-sm-7">1<' in totals
    assert 'Rejected by a moderator</dt><dd class="col-sm-7">2<' in totals
    sources = re.search(
        r'<table class="table table-sm w-auto" id="sources">(.*?)</table>', html, re.S
    )[1]
    assert """Oakland Privacy's link</th><td class="text-end">1<""" in sources
    assert """Media Alliance's link</th><td class="text-end">1<""" in sources
    assert """The petition's own link, or elsewhere</th><td class="text-end">2<""" in sources
    assert f"/p/{petition.slug}/from/{organization.slug}/</code>" in html
    # The chart and the same numbers in a table; nothing from another host, no script needed.
    assert html.count("<rect ") >= 2
    assert "Confirmed signatures per hour, last 48 hours" in html
    assert re.search(r'(src|href)="https?://(?!127\.0\.0\.1:8000)', html) is None
    assert "CA, United States of America" in html
    # No signer's name or address is on the dashboard.
    for signature in Signature.objects.filter(petition=petition):
        assert signature.email not in html and signature.name not in html


def test_updates_show_how_their_emails_went(client, pair) -> None:
    organization, petition, viewer = pair["Oakland Privacy"]
    update = PetitionUpdate.objects.create(
        petition=petition, title="We delivered", body="Thanks.", published_at=timezone.now()
    )
    for n, state in enumerate(["sent", "sent", "sent", "pending", "failed", "dropped"]):
        OutboundEmail.objects.create(
            kind=emails.UPDATE.name,
            about=str(update.pk),
            recipient_key=f"key{n}",
            language="en",
            state=state,
        )
    client.force_login(viewer)
    html = client.get(_dashboard_url(organization, petition)).content.decode()
    row = re.search(r"We delivered</th>(.*?)</tr>", html, re.S)[1]
    assert re.findall(r'<td class="text-end">(\d+)</td>', row) == ["3", "1", "1", "1"]


def test_nobody_outside_the_organization_reaches_its_dashboards(client, pair) -> None:
    for name, other in (
        ("Oakland Privacy", "Media Alliance"),
        ("Media Alliance", "Oakland Privacy"),
    ):
        organization, petition, viewer = pair[name]
        other_org, other_petition, _ = pair[other]
        client.force_login(viewer)
        # The other organization's pages, and its petition through this organization's URL.
        for url in (
            _list_url(other_org),
            _dashboard_url(other_org, other_petition),
            _dashboard_url(organization, other_petition),
            _dashboard_url(other_org, petition),
        ):
            assert client.get(url).status_code == 404, url
        assert client.get(_dashboard_url(organization, petition)).status_code == 200

    client.force_login(UserFactory())
    organization, petition, _ = pair["Oakland Privacy"]
    assert client.get(_dashboard_url(organization, petition)).status_code == 404
    client.logout()
    anonymous = client.get(_dashboard_url(organization, petition))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_a_draft_has_no_dashboard_yet(client, pair) -> None:
    organization, petition, viewer = pair["Oakland Privacy"]
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.DRAFT)
    client.force_login(viewer)
    assert client.get(_dashboard_url(organization, petition)).status_code == 404
    assert petition.title not in client.get(_list_url(organization)).content.decode()
