from __future__ import annotations

import pytest
from django.core import mail
from django.utils import translation

from tests.factories import PetitionFactory


@pytest.fixture
def petition(db):
    """An open petition, the supporter's starting point."""
    return PetitionFactory()


@pytest.fixture
def outbox() -> list[mail.EmailMessage]:
    """Mail sent through Django's locmem backend (pytest-django installs it for every test)."""
    return mail.outbox


@pytest.fixture(autouse=True)
def _english_by_default() -> None:
    """A request to /it/ leaves Italian active in this thread; start each test in English."""
    translation.activate("en")
