"""The letter sign form keeps its per-address limit behind a proxy that sends "unknown" (as the
petition form does: tests/petitions/test_sign_behind_proxy.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import OpenLetterFactory

pytestmark = pytest.mark.django_db

NO_LIMIT: dict[str, list[str]] = {"ip": [], "campaign": [], "global": []}
SIGNER = {"name": "Dana Whitfield", "title": "Professor of Law"}


def test_unknown_clients_of_a_trusted_proxy_share_the_proxys_bucket(client, settings) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "letter_sign": NO_LIMIT | {"ip": ["1/m"]}}
    url = reverse(
        "letters:sign", kwargs={"slug": OpenLetterFactory(individuals_may_sign=True).slug}
    )
    statuses = [
        client.post(
            url,
            SIGNER | {"email": f"d{n}@example.org"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="unknown",
        ).status_code
        for n in range(2)
    ]
    assert statuses == [302, 429]
