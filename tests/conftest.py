from __future__ import annotations

import pytest
from django.core import mail

from tests.factories import PetitionFactory


@pytest.fixture
def petition(db):
    """An open petition, the supporter's starting point."""
    return PetitionFactory()


@pytest.fixture
def outbox() -> list[mail.EmailMessage]:
    """Mail sent through Django's locmem backend (pytest-django installs it for every test)."""
    return mail.outbox
