"""Shared rate-limit budgets are spent only by submissions that pass validation (issue 14,
finding 4).

A review used up the organization form's site-wide budget with empty posts from about fifty
addresses and so locked everyone out for an hour. On every form with a limit, invalid posts from
many addresses must leave the campaign's and the site's budgets untouched, while valid ones
spend them; the per-address limit counts every attempt, valid or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from petitions.models import Petition
from petitions.models.thresholds import Threshold, ThresholdRequest
from petitions.services.counting import petition_counts_update
from petitions.thresholds.emails import answer_token
from tests.factories import OpenLetterFactory, PetitionFactory, SignatureFactory, TargetFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Form:
    action: str
    url: Callable[[], str]
    invalid: dict[str, str]
    # A valid submission, the n-th of a run (some forms refuse the same one twice).
    valid: Callable[[int], dict[str, str]]
    # What a valid post answers when no limit refuses it (a login with a wrong password is a
    # valid submission, refused as a 400 by the password check itself).
    answers: int = 302


def _petition_url(view: str) -> Callable[[], str]:
    def url() -> str:
        return reverse(view, kwargs={"slug": PetitionFactory(slug="budget").slug})

    return url


def _letter_url() -> str:
    letter = OpenLetterFactory(slug="budget", individuals_may_sign=True)
    return reverse("letters:sign", kwargs={"slug": letter.slug})


def _threshold_answer_url() -> str:
    # A target asked when the petition reached its threshold: the link in their email.
    petition = PetitionFactory(slug="budget", targets=[TargetFactory()])
    Threshold.objects.create(petition=petition, count=1, days_to_respond=30)
    SignatureFactory(petition=petition, confirmed=True)
    petition_counts_update()
    request = ThresholdRequest.objects.get(petition=petition)
    token = answer_token(request=request)
    return reverse("petitions:threshold_answer", kwargs={"slug": petition.slug, "token": token})


FORMS = {
    "petition sign": Form(
        "sign",
        _petition_url("petitions:sign"),
        {"name": "", "email": "not an address"},
        lambda n: {
            "name": f"Signer {n}",
            "email": f"signer{n}@example.org",
            "postal_code": "94612",
            "country": "US",
            "display": "short",
        },
    ),
    "petition new link": Form(
        "new_link",
        _petition_url("petitions:new_link"),
        {"email": ""},
        lambda n: {"email": f"signer{n}@example.org"},
    ),
    "letter sign": Form(
        "letter_sign",
        _letter_url,
        {"name": "", "email": ""},
        lambda n: {"name": f"Signer {n}", "email": f"signer{n}@example.org"},
    ),
    "organization join": Form(
        "join",
        lambda: reverse("accounts:organization_join"),
        {},
        lambda n: {
            "name": f"Group {n}",
            "website": f"https://group{n}.example.org",
            "contact_name": "Someone",
            "contact_email": f"press@group{n}.example.org",
        },
    ),
    "login": Form(
        "login",
        lambda: reverse("accounts:login"),
        {},
        lambda n: {"username": f"person{n}@example.org", "password": "a guess"},
        answers=400,
    ),
    "admin login": Form(
        "login",
        lambda: reverse("admin:login"),
        {"username": "", "password": ""},
        lambda n: {"username": f"person{n}@example.org", "password": "a guess"},
        answers=200,
    ),
    "password link": Form(
        "new_link",
        lambda: reverse("accounts:password_reset"),
        {"email": "nope"},
        lambda n: {"email": f"person{n}@example.org"},
    ),
    "my signatures": Form(
        "my_data",
        lambda: reverse("accounts:my_signatures"),
        {"email": ""},
        lambda n: {"email": f"signer{n}@example.org"},
    ),
    "threshold answer": Form(
        "threshold_answer",
        _threshold_answer_url,
        {"answer": "", "save": "1"},
        lambda n: {"answer": f"Our answer, version {n}.", "save": "1"},
    ),
}


def _only(settings, action: str, **tiers: list[str]) -> None:
    limits = {"ip": [], "campaign": [], "global": [], **tiers}
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, action: limits}


def _post(url: str, data: dict[str, str], address: str) -> int:
    return Client(REMOTE_ADDR=address).post(url, data).status_code


@pytest.mark.parametrize("name", FORMS)
def test_invalid_posts_from_many_addresses_leave_the_shared_budgets_to_everyone(
    settings, name: str
) -> None:
    form = FORMS[name]
    url = form.url()
    _only(settings, form.action, campaign=["3/m"], **{"global": ["3/m"]})
    for n in range(20):
        assert _post(url, form.invalid, f"198.51.100.{n + 1}") != 429, "an invalid post"
    # Everyone else can still use the form...
    for n in range(3):
        assert _post(url, form.valid(n), f"203.0.113.{n + 1}") == form.answers
    # ...and valid submissions do spend the budget, so it still stops a flood.
    assert _post(url, form.valid(3), "203.0.113.99") == 429


@pytest.mark.parametrize("name", FORMS)
def test_the_per_address_limit_counts_every_attempt(settings, name: str) -> None:
    form = FORMS[name]
    url = form.url()
    _only(settings, form.action, ip=["2/m"])
    assert _post(url, form.invalid, "198.51.100.7") != 429
    assert _post(url, form.invalid, "198.51.100.7") != 429
    assert _post(url, form.valid(0), "198.51.100.7") == 429
    # Another address is not held by it.
    assert _post(url, form.valid(1), "198.51.100.8") == form.answers


def test_registrations_the_service_refuses_spend_no_shared_budget(settings) -> None:
    # The form is valid, but the contact is not at the website's domain: refused with a 400 by
    # the registration's own checks, which run before the budget is counted.
    url = reverse("accounts:organization_join")
    _only(settings, "join", **{"global": ["3/m"]})
    mismatched = {
        "name": "Group",
        "website": "https://a.example",
        "contact_name": "Someone",
        "contact_email": "press@b.example",
    }
    for n in range(10):
        assert _post(url, mismatched | {"name": f"Group {n}"}, f"198.51.100.{n + 1}") == 400
    assert _post(url, FORMS["organization join"].valid(0), "203.0.113.1") == 302


def test_signatures_a_closed_petition_refuses_spend_no_shared_budget(settings) -> None:
    closed = PetitionFactory(slug="closed", status=Petition.Status.CLOSED)
    closed_url = reverse("petitions:sign", kwargs={"slug": closed.slug})
    _only(settings, "sign", **{"global": ["3/m"]})
    signer = FORMS["petition sign"].valid
    for n in range(10):
        assert _post(closed_url, signer(n), f"198.51.100.{n + 1}") == 409
    assert _post(FORMS["petition sign"].url(), signer(99), "203.0.113.1") == 302
