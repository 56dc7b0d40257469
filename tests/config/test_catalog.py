"""The "join a cause" catalog at /: grouped by topic, filtered by the query string."""

from __future__ import annotations

import re

import pytest

from letters.models import OpenLetter, OrganizationSignature
from petitions.models import Petition
from tests.factories import OrganizationFactory, PetitionFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def topics():
    return {
        "biometric": TopicFactory(
            slug="biometric-surveillance",
            name_en="Biometric surveillance",
            name_it="Sorveglianza biometrica",
            position=1,
        ),
        "encryption": TopicFactory(slug="encryption", name_en="Strong encryption", position=2),
    }


@pytest.fixture
def campaigns(topics):
    face = PetitionFactory(
        title_en="Ban government use of face recognition",
        title_it="Vietare il riconoscimento facciale",
        summary_en="Face surveillance has no place in a free society.",
        topic=topics["biometric"],
        signature_count=40,
    )
    face.sponsors.add(OrganizationFactory(name="Fight for the Future"))
    backdoors = PetitionFactory(
        title_en="No backdoors in our encryption",
        summary_en="No door opens only for the good guys.",
        topic=topics["encryption"],
    )
    closed = PetitionFactory(
        title_en="Drop remote proctoring",
        summary_en="Students should not be filmed at home to sit a test.",
        topic=topics["biometric"],
        status=Petition.Status.CLOSED,
        outcome_en="The signatures were delivered to the publisher.",
    )
    PetitionFactory(title_en="A draft nobody should see", status=Petition.Status.DRAFT)
    PetitionFactory(title_en="An archived campaign", status=Petition.Status.ARCHIVED)
    return {"face": face, "backdoors": backdoors, "closed": closed}


def _titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="h5 card-title"><a [^>]*>([^<]+)</a>', html)


def _headings(html: str) -> list[str]:
    return re.findall(r'<h2 class="h3" id="topic-\d+">([^<]+)</h2>', html)


def test_catalog_groups_campaigns_by_topic_open_first(client, campaigns) -> None:
    html = client.get("/en/").content.decode()
    assert _headings(html) == ["Biometric surveillance", "Strong encryption"]
    assert _titles(html) == [
        "Ban government use of face recognition",
        "Drop remote proctoring",
        "No backdoors in our encryption",
    ]
    assert "A draft nobody should see" not in html
    assert "An archived campaign" not in html


def test_each_card_has_sponsors_pitch_count_and_a_call_to_action(client, campaigns) -> None:
    html = client.get("/en/").content.decode()
    assert "Sponsored by Fight for the Future" in html
    assert "Face surveillance has no place in a free society." in html
    assert "40 signatures" in html
    assert f'href="{campaigns["face"].get_absolute_url()}#sign"' in html
    # A closed campaign offers its outcome instead of a form.
    assert "See the outcome" in html
    assert "The signatures were delivered to the publisher." in html


def test_filter_by_topic(client, campaigns) -> None:
    html = client.get("/en/", {"topic": "encryption"}).content.decode()
    assert _titles(html) == ["No backdoors in our encryption"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", ["Ban government use of face recognition", "No backdoors in our encryption"]),
        ("closed", ["Drop remote proctoring"]),
    ],
)
def test_filter_open_or_closed(client, campaigns, status, expected) -> None:
    assert _titles(client.get("/en/", {"status": status}).content.decode()) == expected


def test_search_needs_every_word_in_any_language(client, campaigns) -> None:
    assert _titles(client.get("/en/", {"q": "FACE recognition"}).content.decode()) == [
        "Ban government use of face recognition"
    ]
    # Italian words find the campaign on the English site too.
    assert _titles(client.get("/en/", {"q": "riconoscimento"}).content.decode()) == [
        "Ban government use of face recognition"
    ]
    assert _titles(client.get("/en/", {"q": "face backdoors"}).content.decode()) == []


def test_no_match_says_so_and_links_back(client, campaigns) -> None:
    response = client.get("/en/", {"q": "zeppelin"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "No campaign matches these filters." in html
    assert 'href="/en/"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"topic": "astrology"}, "Select a valid choice"),
        ({"status": "maybe"}, "Select a valid choice"),
        ({"q": "x" * 101}, "at most 100 characters"),
        ({"q": "face\x00"}, "Null characters are not allowed"),
        ({"q": "face\u202e"}, "invisible or control characters"),
    ],
)
def test_bad_filters_get_a_message_and_every_campaign(client, campaigns, query, message) -> None:
    response = client.get("/en/", query)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Some filters could not be used" in html
    assert message in html
    assert len(_titles(html)) == 3


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999999999999999", "", "1.5"])
def test_any_page_number_gives_a_page(client, campaigns, page) -> None:
    response = client.get("/en/", {"page": page})
    assert response.status_code == 200
    assert len(_titles(response.content.decode())) == 3


def test_pages_keep_the_filters(client, topics) -> None:
    for n in range(30):
        PetitionFactory(title_en=f"Encryption campaign {n:02}", topic=topics["encryption"])
    html = client.get("/en/", {"topic": "encryption"}).content.decode()
    assert len(_titles(html)) == 24
    assert "Page 1 of 2" in html
    assert 'href="?topic=encryption&amp;page=2"' in html
    second = client.get("/en/", {"topic": "encryption", "page": "2"}).content.decode()
    assert len(_titles(second)) == 6


def test_repeated_and_unknown_parameters_do_no_harm(client, campaigns) -> None:
    response = client.get("/en/?topic=encryption&topic=biometric-surveillance&utm_source=x&q=")
    assert response.status_code == 200
    assert _headings(response.content.decode()) == ["Biometric surveillance"]


def test_italian_catalog_has_italian_interface_and_content(client, campaigns) -> None:
    html = client.get("/it/").content.decode()
    assert '<html lang="it">' in html
    assert "Unisciti a una causa" in html
    assert _headings(html)[0] == "Sorveglianza biometrica"
    assert "Vietare il riconoscimento facciale" in html
    # Untranslated content falls back to English rather than disappearing.
    assert _headings(html)[1] == "Strong encryption"
    assert "No backdoors in our encryption" in html
    assert "40 firme" in html


def _letter(**fields) -> OpenLetter:
    return OpenLetter.objects.create(
        **{
            "slug": "stop-selling-face-recognition",
            "title_en": "Stop selling face recognition to governments",
            "summary_en": "A coalition asks a CEO to stop.",
            "body_en": "We ask you to stop.",
            "addressed_to_en": "The CEO",
            "ask_en": "Stop selling it.",
            "status": OpenLetter.Status.PUBLISHED,
            **fields,
        }
    )


def _letter_titles(html: str) -> list[str]:
    section = (
        html.split('id="letters-heading"')[1].split("</section>")[0]
        if ('id="letters-heading"' in html)
        else ""
    )
    return _titles(section)


def test_open_letters_join_the_catalog_with_their_organization_count(client, campaigns) -> None:
    letter = _letter(topic=campaigns["face"].topic)
    signer = OrganizationFactory(name="ACLU")
    OrganizationSignature.objects.create(
        letter=letter, organization=signer, status=OrganizationSignature.Status.APPROVED
    )
    OrganizationSignature.objects.create(letter=letter, organization=OrganizationFactory())
    _letter(slug="draft-letter", title_en="A draft letter", status=OpenLetter.Status.DRAFT)
    html = client.get("/en/").content.decode()
    assert _letter_titles(html) == ["Stop selling face recognition to governments"]
    # Only the approved signature of a verified organization counts.
    assert re.search(r">1 organization\s*<", html)
    assert "A draft letter" not in html


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ({"q": "face recognition"}, True),
        ({"q": "encryption"}, False),
        ({"status": "open"}, True),
        ({"status": "closed"}, False),
        ({"topic": "encryption"}, False),
        ({"topic": "biometric-surveillance"}, True),
    ],
)
def test_catalog_filters_apply_to_letters_too(client, campaigns, topics, query, listed) -> None:
    _letter(topic=topics["biometric"])
    html = client.get("/en/", query).content.decode()
    assert bool(_letter_titles(html)) is listed
