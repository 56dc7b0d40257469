"""A lead organization's dashboard of its open letter (issue 18, item 3, for letters): its
figures and its daily chart, and who may see it. Every boundary is checked from both
organizations of a pair: each leads a letter of its own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from accounts.models import Membership
from letters import dashboard
from letters.models import OpenLetter
from tests.factories import (
    IndividualSignatureFactory,
    MembershipFactory,
    OpenLetterFactory,
    OrganizationFactory,
    OrganizationSignatureFactory,
    StatementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 15, 30, tzinfo=UTC)
BOTH_WAYS = (("Fight for the Future", "Media Alliance"), ("Media Alliance", "Fight for the Future"))


def _url(organization, letter: OpenLetter | None = None) -> str:
    if letter is None:
        return reverse("letter_dashboards:list", kwargs={"organization": organization.slug})
    return reverse(
        "letter_dashboards:dashboard",
        kwargs={"organization": organization.slug, "slug": letter.slug},
    )


@pytest.fixture
def pair() -> dict[str, tuple]:
    found = {}
    for name, _other in BOTH_WAYS:
        organization = OrganizationFactory(name=name)
        letter = OpenLetterFactory(
            title=f"{name}'s letter", leads=[organization], individuals_may_sign=True
        )
        viewer = MembershipFactory(organization=organization, role=Membership.Role.VIEWER)
        found[name] = (organization, letter, viewer.user)
    return found


def test_the_daily_series_counts_confirmed_unheld_individuals() -> None:
    letter = OpenLetterFactory(individuals_may_sign=True)
    for days in (0, 0, 2):
        IndividualSignatureFactory(
            letter=letter, status="confirmed", confirmed_at=NOW - timedelta(days=days)
        )
    IndividualSignatureFactory(letter=letter, status="confirmed", confirmed_at=NOW, held=True)
    IndividualSignatureFactory(letter=letter)  # pending
    series = dashboard.individuals_daily(letter=letter, now=NOW)
    counts = [count for _label, count in series.periods]
    assert len(counts) == dashboard.DAYS_SHOWN
    assert (counts[-1], counts[-2], counts[-3]) == (2, 0, 1)
    assert series.total == 3


def test_a_member_of_a_lead_organization_sees_its_letters_figures(client, pair) -> None:
    organization, letter, viewer = pair["Fight for the Future"]
    _other_org, other_letter, _ = pair["Media Alliance"]
    OrganizationSignatureFactory(letter=letter, approved=True)
    OrganizationSignatureFactory(letter=letter, approved=True)
    pending = OrganizationSignatureFactory(letter=letter)
    OrganizationSignatureFactory(letter=letter, withdrawn=True)
    StatementFactory(signature=pending)
    IndividualSignatureFactory(letter=letter, confirmed=True)
    IndividualSignatureFactory(letter=letter, confirmed=True, held=True)
    IndividualSignatureFactory(letter=other_letter, confirmed=True)

    client.force_login(viewer)
    listing = client.get(_url(organization)).content.decode()
    assert "Fight for the Future&#x27;s letter" in listing
    assert "Media Alliance&#x27;s letter" not in listing
    response = client.get(_url(organization, letter))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()

    def figures(section: str) -> dict[str, str]:
        block = re.search(rf'<dl class="row" id="{section}">(.*?)</dl>', html, re.S)[1]
        return dict(re.findall(r'<dt class="col-8 fw-normal">(.*?)</dt><dd[^>]*>(.*?)</dd>', block))

    assert figures("organization-figures") == {
        "Awaiting approval": "1",
        "Approved": "2",
        "Rejected": "0",
        "Withdrawn": "1",
    }
    assert figures("statement-figures")["Awaiting approval"] == "1"
    individuals = figures("individual-figures")
    assert (individuals["Confirmed"], individuals["Held for a moderator"]) == ("1", "1")
    assert "Individual signers confirmed per day, last 60 days" in html
    for signature in letter.individual_signatures.all():
        assert signature.email not in html and signature.name not in html


def test_nobody_outside_the_lead_organizations_reaches_the_dashboards(client, pair) -> None:
    for name, other in BOTH_WAYS:
        organization, letter, viewer = pair[name]
        other_org, other_letter, _ = pair[other]
        client.force_login(viewer)
        for url in (
            _url(other_org),
            _url(other_org, other_letter),
            _url(organization, other_letter),
            _url(other_org, letter),
        ):
            assert client.get(url).status_code == 404, url
        assert client.get(_url(organization, letter)).status_code == 200
    client.force_login(UserFactory())
    organization, letter, _ = pair["Fight for the Future"]
    assert client.get(_url(organization, letter)).status_code == 404
    OpenLetter.objects.filter(pk=letter.pk).update(status="draft")
    client.force_login(pair["Fight for the Future"][2])
    assert client.get(_url(organization, letter)).status_code == 404
    assert client.get(_url(organization)).content.decode().count("Dashboard:") == 0
    client.logout()
    assert client.get(_url(organization)).status_code == 302
