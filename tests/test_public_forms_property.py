"""Property test: arbitrary input to every public form gives an answer, never a 500, and either
writes nothing or writes complete rows.

Hypothesis posts text in any script, control characters, huge values, missing and unknown fields.
Rows are counted in every table of our apps before and after each post: a refused post must
change no count, and any row an accepted post adds must pass its own model validation (nothing
half-written).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from letters import emails as letter_emails
from mechanisms.tokens import token_make
from petitions import emails as petition_emails
from petitions.models.thresholds import Threshold, ThresholdRequest
from petitions.services.counting import petition_counts_update
from petitions.thresholds.emails import answer_token
from tests.factories import (
    IndividualSignatureFactory,
    OpenLetterFactory,
    OrganizationFactory,
    PetitionFactory,
    SignatureFactory,
    TargetFactory,
)

# Text a browser could send: any Unicode except lone surrogates (which no client can encode).
_any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
_huge = st.builds(
    lambda char, size: char * size,
    st.characters(exclude_categories=("Cs",)),
    st.integers(min_value=300, max_value=200_000),
)
VALUE = st.one_of(
    _any_text,
    _huge,
    st.emails().map(str),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "0",
            "-1",
            "99999999999999999999",
            "full",
            "short",
            "withheld",
            "US",
            "on",
            "true",
            "94612",
            '=HYPERLINK("x")',
            "<script>alert(1)</script>",
            "a@b",
            "%00",
        ]
    ),
)


@dataclass(frozen=True)
class PublicForm:
    name: str
    url: Callable[[dict], str]
    fields: tuple[str, ...]
    # Where an accepted post redirects; anything else must have written nothing.
    accepted: Callable[[dict], str] | None = None
    # Plausible values mixed into the draws, so accepted posts are explored too, not only refusals.
    valid: dict[str, str] | None = None


def _models() -> list[type[models.Model]]:
    return [
        model
        for label in ("accounts", "petitions", "letters", "auth")
        for model in apps.get_app_config(label).get_models()
        if not model._meta.proxy
    ]


def _snapshot() -> dict[type[models.Model], set[int]]:
    return {model: set(model._default_manager.values_list("pk", flat=True)) for model in _models()}


@pytest.fixture
def world(db) -> dict:
    sponsor = OrganizationFactory()
    petition = PetitionFactory(ask_comment=True, offer_sponsor_opt_in=True)
    petition.sponsors.add(sponsor)
    letter = OpenLetterFactory(status="open", individuals_may_sign=True, names_may_be_withheld=True)
    # Real links, so the confirmation and unsubscribe forms are reached, not only the link check.
    pending = SignatureFactory(petition=petition)
    confirmed = SignatureFactory(petition=petition, confirmed=True, consent_updates=True)
    individual = IndividualSignatureFactory(letter=letter)
    # A target asked to respond, with the link in their email.
    petition.targets.add(TargetFactory())
    Threshold.objects.create(petition=petition, count=1, days_to_respond=30)
    petition_counts_update()
    asked = ThresholdRequest.objects.get(petition=petition)
    return {
        "threshold_answer": reverse(
            "petitions:threshold_answer",
            kwargs={"slug": petition.slug, "token": answer_token(request=asked)},
        ),
        "petition": petition.slug,
        "letter": letter.slug,
        "confirm": token_make(purpose=petition_emails.CONFIRM_TOKEN_PURPOSE, value=pending.pk),
        "unsubscribe": token_make(
            purpose=petition_emails.UNSUBSCRIBE_TOKEN_PURPOSE, value=confirmed.pk
        ),
        "letter_confirm": token_make(
            purpose=letter_emails.CONFIRM_TOKEN_PURPOSE, value=individual.pk
        ),
    }


FORMS = [
    PublicForm(
        "petition sign",
        lambda w: reverse("petitions:sign", kwargs={"slug": w["petition"]}),
        (
            "name",
            "email",
            "postal_code",
            "country",
            "display",
            "comment",
            "consent_updates",
            "sponsor_opt_ins",
        ),
        accepted=lambda w: reverse("petitions:check_inbox", kwargs={"slug": w["petition"]}),
        valid={"name": "Ada Lovelace", "email": "ada@example.com", "display": "full"},
    ),
    PublicForm(
        "petition new link",
        lambda w: reverse("petitions:new_link", kwargs={"slug": w["petition"]}),
        ("email",),
    ),
    PublicForm(
        "petition confirm",
        lambda w: reverse(
            "petitions:confirm", kwargs={"slug": w["petition"], "token": w["confirm"]}
        ),
        ("name", "display"),
    ),
    PublicForm(
        "petition unsubscribe",
        lambda w: reverse(
            "petitions:unsubscribe", kwargs={"slug": w["petition"], "token": w["unsubscribe"]}
        ),
        ("confirm",),
    ),
    PublicForm(
        "letter sign",
        lambda w: reverse("letters:sign", kwargs={"slug": w["letter"]}),
        ("name", "email", "title", "affiliation", "withhold_name"),
        accepted=lambda w: reverse("letters:check_inbox", kwargs={"slug": w["letter"]}),
        valid={"name": "Ada Lovelace", "email": "ada@example.com"},
    ),
    PublicForm(
        "letter confirm",
        lambda w: reverse(
            "letters:confirm", kwargs={"slug": w["letter"], "token": w["letter_confirm"]}
        ),
        ("name",),
    ),
    PublicForm(
        "organization join",
        lambda w: reverse("accounts:organization_join"),
        ("name", "website", "contact_name", "contact_email"),
        accepted=lambda w: reverse("accounts:organization_check_inbox"),
        valid={
            "name": "Analytical Rights",
            "website": "https://rights.example.org",
            "contact_name": "Ada Lovelace",
            "contact_email": "ada@rights.example.org",
        },
    ),
    PublicForm(
        "threshold answer",
        lambda w: w["threshold_answer"],
        ("answer", "preview", "save"),
        accepted=lambda w: w["threshold_answer"],
        valid={"answer": "We will vote on Monday.", "save": "1"},
    ),
    PublicForm("login", lambda w: reverse("accounts:login"), ("username", "password")),
    PublicForm("password link", lambda w: reverse("accounts:password_reset"), ("email",)),
    PublicForm(
        "your signatures",
        lambda w: reverse("accounts:my_signatures"),
        ("email",),
        accepted=lambda w: reverse("accounts:my_signatures_sent"),
        valid={"email": "ada@example.com"},
    ),
]


@pytest.fixture
def no_rate_limits(settings) -> None:
    """Hundreds of posts from one address would trip the limits, and every draw would then meet
    the same 429; the limits have their own tests (tests/accounts/test_abuse.py)."""
    settings.RATE_LIMITS = {
        action: {tier: [] for tier in tiers} for action, tiers in settings.RATE_LIMITS.items()
    }


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
@pytest.mark.usefixtures("no_rate_limits")
def test_arbitrary_input_never_breaks_a_public_form(form: PublicForm, world: dict) -> None:
    url = form.url(world)
    accepted = form.accepted(world) if form.accepted else None
    accepted_posts: list[dict] = []
    valid = form.valid or {}

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=True,
    )
    @given(
        data=st.fixed_dictionaries(
            {field: st.one_of(st.just(value), VALUE) for field, value in valid.items()},
            optional={field: VALUE for field in form.fields if field not in valid},
        ),
        extra=st.dictionaries(_any_text, VALUE, max_size=2),
    )
    def post(data: dict, extra: dict) -> None:
        before = _snapshot()
        response = Client().post(url, {**extra, **data})
        assert response.status_code < 500, (form.name, data)
        after = _snapshot()
        added = {model: after[model] - before[model] for model in after}
        removed = {model: before[model] - after[model] for model in after}
        assert not any(removed.values()), (form.name, data, removed)
        if response.status_code in (301, 302) and accepted and response["Location"] == accepted:
            accepted_posts.append(data)
            for model, pks in added.items():
                for row in model._default_manager.filter(pk__in=pks):
                    try:
                        row.full_clean(validate_unique=False, validate_constraints=False)
                    except ValidationError as error:  # pragma: no cover - the failure message
                        pytest.fail(f"{form.name} wrote an invalid {model.__name__}: {error}")
        else:
            assert not any(added.values()), (form.name, data, response.status_code, added)

    post()
    if accepted:
        # The draws above must have reached the accepting branch, or the property was never tried.
        assert accepted_posts, f"no draw was accepted by {form.name}"
