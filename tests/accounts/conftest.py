from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import User


@pytest.fixture
def staff_client(client, db):
    client.force_login(User.objects.create_superuser("moderator@cosign.test", "a-long-password"))
    return client


def link_in(message: mail.EmailMessage, path_part: str) -> str:
    """The path of the first link in an email's text whose address contains `path_part`; the
    HTML part must carry the same link."""
    match = re.search(rf"https?://[^/\s]+(\S*{re.escape(path_part)}\S*)", message.body)
    assert match, f"no link with {path_part!r} in:\n{message.body}"
    html = message.alternatives[0][0]
    assert match.group(1) in html
    return match.group(1)
