"""The privacy page says what the settings and the code do, and follows them when they change."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils.translation import gettext_lazy

from petitions import supporters
from petitions.services import deliveries

pytestmark = pytest.mark.django_db

URL = "/en/privacy/"


def _text(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    # Rendered text without tags or line breaks, as a reader sees it.
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_page_states_the_defaults(client) -> None:
    text = _text(client)
    assert "180 days after a campaign closes, we delete the names" in text
    assert "changes every month, on the 1st at midnight UTC" in text
    assert "We keep the keys of the last 2 months" in text
    assert "Your IP address itself is never stored" in text
    assert "A confirmation link works for 7 days" in text
    assert (
        "30 days after its last confirmation link stopped working, we delete a signature that "
        "was never confirmed" in text
    )
    assert "it works for 24 hours" in text
    assert "Apart from the organizations you tick, only staff see email addresses" in text
    assert "comments, which reach the officials" in text


def test_the_page_follows_the_settings(client) -> None:
    with override_settings(
        SIGNATURE_RETENTION_DAYS=30,
        IP_HASH_KEY_ROTATION="week",
        IP_HASH_KEYS_KEPT=3,
        SIGNATURE_CONFIRM_MAX_AGE=timedelta(days=1),
        MY_SIGNATURES_LINK_MAX_AGE=timedelta(hours=6),
        UNCONFIRMED_RETENTION_DAYS=1,
    ):
        text = _text(client)
    assert "30 days after a campaign closes" in text
    assert "180 days" not in text
    assert "changes every week, on Monday at midnight UTC" in text
    assert "We keep the keys of the last 3 weeks" in text
    assert "A confirmation link works for 1 day." in text
    assert "it works for 6 hours" in text
    assert "1 day after its last confirmation link stopped working, we delete" in text


def test_what_officials_receive_is_read_from_the_delivery_code(client, monkeypatch) -> None:
    shown = re.search(
        r'<ul id="delivery-columns">(.*?)</ul>', client.get(URL).content.decode(), re.S
    )
    assert shown is not None
    assert re.findall(r"<li>(.*?)</li>", shown.group(1)) == [
        "name",
        "locality",
        "region",
        "date confirmed",
        "comment",
    ]

    monkeypatch.setattr(
        deliveries,
        "DELIVERY_CSV_COLUMNS",
        (*deliveries.DELIVERY_CSV_COLUMNS, gettext_lazy("email")),
    )
    assert "<li>email</li>" in client.get(URL).content.decode()


def test_what_organizations_receive_is_read_from_the_export_code(client, monkeypatch) -> None:
    def shown() -> list[str]:
        found = re.search(
            r'<ul id="supporter-columns">(.*?)</ul>', client.get(URL).content.decode(), re.S
        )
        assert found is not None
        return re.findall(r"<li>(.*?)</li>", found.group(1))

    assert shown() == [
        "Name",
        "Email",
        "Postal code",
        "Country",
        "Campaign",
        "Came through the link of",
        "Consent given at",
        "Consent wording",
    ]
    monkeypatch.setattr(
        supporters,
        "SUPPORTER_COLUMNS",
        (*supporters.SUPPORTER_COLUMNS, ("phone", gettext_lazy("Phone"))),
    )
    assert shown()[-1] == "Phone"


def test_the_public_name_choices_come_with_what_they_show(client) -> None:
    text = _text(client)
    assert "“My full name”: Maria Rossi appears as “Maria Rossi”." in text
    assert "“My first name and last initial”: Maria Rossi appears as “Maria R.”." in text
    assert "“Don't show my name”: Maria Rossi appears as “Name withheld”." in text


def test_every_page_links_to_it(client) -> None:
    page = client.get("/en/").content.decode()
    assert 'href="/en/privacy/"' in page
    assert 'href="/en/my-signatures/"' in page


def test_the_page_is_translated_with_the_site(client) -> None:
    assert client.get("/it/privacy/").status_code == 200


def test_an_unknown_rotation_period_stops_the_start() -> None:
    from tests.config.test_settings import _settings

    result = _settings(IP_HASH_KEY_ROTATION="fortnight")
    assert result.returncode != 0
    assert "IP_HASH_KEY_ROTATION='fortnight' must be day, week or month" in result.stderr
