"""The retention clock (closed_at) of petitions and letters starts when staff close a campaign
in the admin, and stops when they reopen it; a campaign closed long ago keeps its date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.admin_forms import admin_edit, assert_saved
from tests.factories import OpenLetterFactory, PetitionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("make", "closed", "reopened"),
    [
        (lambda: PetitionFactory(status="open"), "closed", "open"),
        (lambda: PetitionFactory(status="open"), "archived", "open"),
        (lambda: OpenLetterFactory(status="open"), "closed", "published"),
    ],
    ids=["petition", "petition-archived", "letter"],
)
def test_closing_in_the_admin_starts_the_clock_and_reopening_stops_it(
    admin_client, make, closed, reopened
) -> None:
    campaign = make()
    assert campaign.closed_at is None
    before = timezone.now()
    assert_saved(admin_edit(admin_client, campaign, {"status": [closed]}))
    campaign.refresh_from_db()
    assert campaign.closed_at is not None and campaign.closed_at >= before
    started = campaign.closed_at

    # Saved again while closed: the clock is not restarted.
    assert_saved(admin_edit(admin_client, campaign, {"status": [closed]}))
    campaign.refresh_from_db()
    assert campaign.closed_at == started

    assert_saved(admin_edit(admin_client, campaign, {"status": [reopened]}))
    campaign.refresh_from_db()
    assert campaign.closed_at is None


def test_a_campaign_closed_long_ago_keeps_its_date(admin_client) -> None:
    long_ago = timezone.now() - timedelta(days=400)
    petition = PetitionFactory(status="closed", closed_at=long_ago)
    assert_saved(admin_edit(admin_client, petition, {"title_en": ["Still closed"]}))
    petition.refresh_from_db()
    assert petition.closed_at == long_ago
