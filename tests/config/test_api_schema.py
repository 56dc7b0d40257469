"""The API fuzzed against its own OpenAPI schema (schemathesis): for a bounded number of generated
requests per operation, with and without an organization's token, no answer is a server error,
and every answer's status, content type and body are what the schema says."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from accounts.api_tokens import api_token_create
from accounts.models import ApiToken, Membership, User
from config.wsgi import application
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory

# Parameters the schema does not name are left out of the generated requests: the API ignores
# them on purpose (a client's cache-busting `?_=...` must not break its reads).
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/schema/?format=json",
    application,
    config=SchemathesisConfig.from_dict({"generation": {"allow-extra-parameters": False}}),
)

# Enough to reach every parameter's edges in each operation; CI's time stays small (one run
# makes about 25 requests per operation).
EXAMPLES = 25


@pytest.fixture
def _connections_kept():
    """The WSGI app closes the database connection after each request, as a server should; the
    test's transaction lives on that connection, so (as Django's test client does) not here."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, settings, _connections_kept):
    # The fuzzer sends far more than a reader would: the limits are tested on their own.
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "api": {"ip": [], "global": []},
        "api_token": {"ip": [], "global": []},
    }
    organization = OrganizationFactory()
    petition = PetitionFactory(slug="end-ring")
    petition.sponsors.add(organization)
    SignatureFactory(petition=petition, confirmed=True)
    user = User.objects.create_user("admin@org.example", "a long enough password 42")
    Membership.objects.create(user=user, organization=organization, role="admin")
    return api_token_create(
        organization=organization, user=user, name="fuzz", scope=ApiToken.Scope.READ_SUPPORTERS
    )[1]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_as_its_schema_says(case, world) -> None:
    case.call_and_validate()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_a_token_as_its_schema_says(case, world) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {world}"})
