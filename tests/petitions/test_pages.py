"""The petition page as supporters and campaigners see it: text, updates, sharing, languages,
lifecycle and the staff preview."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from petitions.models import Petition, PetitionUpdate
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(settings):
    settings.SITE_URL = "https://cosign.example"
    petition = PetitionFactory(
        slug="cancel-ring",
        title_en="Cancel the Ring partnership",
        title_it="Chiudete l'accordo con Ring",
        summary_en="Doorbell footage should not flow to the police.",
        demand_en="End the police partnership with Amazon Ring.",
        demand_it="Chiudete l'accordo della polizia con Amazon Ring.",
        addressed_to_en="The Mayor and City Council of Oakland",
        body_en="## Why\n\nNobody **voted** for it.",
    )
    petition.sponsors.add(OrganizationFactory(name="Oakland Privacy"))
    return petition


def test_page_shows_demand_target_body_and_sponsors(client, campaign) -> None:
    html = client.get("/en/p/cancel-ring/").content.decode()
    assert "To: The Mayor and City Council of Oakland" in html
    assert "End the police partnership with Amazon Ring." in html
    # The text's top heading is the first section under the h1, whatever level it was written.
    assert "<h2>Why</h2>" in html
    assert "<strong>voted</strong>" in html
    assert "Oakland Privacy" in html


def test_share_meta_and_canonical_use_the_site_address_not_the_host_header(
    client, campaign, settings
) -> None:
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    html = client.get("/en/p/cancel-ring/", HTTP_HOST="evil.example").content.decode()
    url = "https://cosign.example/en/p/cancel-ring/"
    assert f'<link rel="canonical" href="{url}">' in html
    assert f'<meta property="og:url" content="{url}">' in html
    assert '<meta property="og:title" content="Cancel the Ring partnership">' in html
    # The share card (mechanisms.share_cards) is named by the site's address too.
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert f'<meta property="og:image" content="{url}card/0.png">' in html
    assert "evil.example" not in html


def test_share_links_are_plain_links_with_no_third_party_script(client, campaign) -> None:
    html = client.get("/en/p/cancel-ring/").content.decode()
    assert "https://bsky.app/intent/compose?text=Cancel+the+Ring+partnership" in html
    assert "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fcosign.example" in html
    assert "mailto:?subject=Cancel%20the%20Ring%20partnership" in html
    # Our own proof-of-work solver is the only script, served from this host.
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/js/proof-of-work.js" defer>'
    ]
    assert "<iframe" not in html


def test_updates_show_newest_first_and_drafts_stay_hidden(client, campaign) -> None:
    now = timezone.now()
    PetitionUpdate.objects.create(
        petition=campaign, title_en="Council hearing set", body_en="On *Tuesday*.",
        published_at=now - timedelta(days=2),
    )  # fmt: skip
    PetitionUpdate.objects.create(
        petition=campaign, title_en="We delivered 1,000 signatures", body_en="Thank you.",
        published_at=now,
    )  # fmt: skip
    PetitionUpdate.objects.create(petition=campaign, title_en="Not ready yet", body_en="Draft.")
    html = client.get("/en/p/cancel-ring/").content.decode()
    assert html.index("We delivered 1,000 signatures") < html.index("Council hearing set")
    assert "<em>Tuesday</em>" in html
    assert "Not ready yet" not in html


def test_recent_signers_appear_as_each_chose(client, campaign) -> None:
    for name, display in [
        ("Maria Rossi", "short"),
        ("Alex Kim", "withheld"),
        ("Sam Lee", "full"),
    ]:
        SignatureFactory(petition=campaign, name=name, display=display, confirmed=True)
    SignatureFactory(petition=campaign, name="Pending Person")
    html = client.get("/en/p/cancel-ring/").content.decode()
    listed = re.findall(r"<li>([^<]+)</li>", html.split('id="recent-signers"')[1].split("</ul>")[0])
    assert sorted(listed) == ["Maria R.", "Name withheld", "Sam Lee"]
    assert "Alex" not in html
    assert "Pending" not in html


def test_italian_page_has_italian_interface_and_content_with_fallback(client, campaign) -> None:
    html = client.get("/it/p/cancel-ring/").content.decode()
    assert '<html lang="it">' in html
    assert "Chiudete l&#x27;accordo con Ring" in html
    assert "Chiudete l&#x27;accordo della polizia con Amazon Ring." in html
    assert "Firma la petizione" in html
    # No Italian body or target was written: the English ones stand in.
    assert "Nobody <strong>voted</strong> for it." in html
    assert "The Mayor and City Council of Oakland" in html


@pytest.mark.parametrize("status", [Petition.Status.CLOSED, Petition.Status.ARCHIVED])
def test_ended_petition_shows_final_count_and_outcome_instead_of_the_form(client, status) -> None:
    petition = PetitionFactory(
        status=status, signature_count=1234, outcome_en="The council **cancelled** the deal."
    )
    html = client.get(petition.get_absolute_url()).content.decode()
    assert "1,234" in html
    assert "Final count" in html
    assert "<strong>cancelled</strong>" in html
    assert 'name="email"' not in html
    assert "no longer takes signatures" in html


def test_outcome_is_not_shown_while_the_petition_is_open(client) -> None:
    petition = PetitionFactory(outcome_en="Spoiler.")
    assert "Spoiler." not in client.get(petition.get_absolute_url()).content.decode()


def test_draft_is_hidden_from_the_public_and_previewed_for_staff(client) -> None:
    draft = PetitionFactory(status=Petition.Status.DRAFT, title_en="Coming soon")
    assert client.get(draft.get_absolute_url()).status_code == 404

    client.force_login(User.objects.create_superuser("editor@cosign.test", "a-long-password"))
    response = client.get(draft.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview: this petition is a draft" in html
    assert '<meta name="robots" content="noindex">' in html
    assert 'name="email"' not in html
    # Even staff cannot sign a draft.
    sign = client.post(
        f"{draft.get_absolute_url()}sign/",
        {"name": "Editor", "email": "editor@example.org", "display": "full"},
    )
    assert sign.status_code == 404


def test_a_fixed_goal_replaces_the_steps(client) -> None:
    petition = PetitionFactory(goal=5000, signature_count=120)
    html = client.get(petition.get_absolute_url()).content.decode()
    assert "Let's reach 5,000" in html
    assert 'max="5000"' in html


def test_the_goal_steps_up_as_the_count_grows(client) -> None:
    petition = PetitionFactory(signature_count=260)
    html = client.get(petition.get_absolute_url()).content.decode()
    assert "Let's reach 500" in html


def test_page_records_deliveries_and_published_responses(client, campaign) -> None:
    from petitions.models import Delivery, Response, Target
    from petitions.services import deliveries

    mayor = Target.objects.create(
        name="Office of the Mayor", title="Mayor of Oakland", level="local",
        country="US", region="CA", locality="Oakland", email="mayor@example.org",
    )  # fmt: skip
    Delivery.objects.create(
        petition=campaign, target=mayor, period="2026-W47", status=Delivery.Status.SENT,
        total_count=412, new_count=12, sent_at=timezone.now(),
    )  # fmt: skip
    Delivery.objects.create(petition=campaign, target=mayor, period="2026-W48")  # not sent yet
    response = Response.objects.create(
        petition=campaign, target=mayor, text="We will hold a hearing in **March**."
    )
    html = client.get("/en/p/cancel-ring/").content.decode()
    assert "Delivered to Mayor of Oakland on" in html
    assert ": 412 signatures" in html
    assert html.count("Delivered to") == 1
    assert "hold a hearing" not in html  # not published yet

    deliveries.response_publish(response_id=response.pk)
    html = client.get("/en/p/cancel-ring/").content.decode()
    assert "We will hold a hearing in <strong>March</strong>." in html
    # Shown once, as a response, not again among the updates.
    assert html.count("hold a hearing") == 1
