"""The sign POST's screening and answer, shared by petitions and letters (mechanisms.signing).

The counters are the real ones (Redis, a fresh prefix per test); spies only record which steps
ran, to show that each budget is spent only by what reached it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django import forms
from django.http import HttpResponse
from django.test import RequestFactory

from mechanisms.abuse import rate_limits, signals
from mechanisms.abuse.forms import HONEYPOT_FIELD, HumanCheckMixin
from mechanisms.models import AbuseFlag
from mechanisms.signing import Screen, Verdict, sign_post, sign_request_screen

# The IP hash's key comes from the database (it rotates).
pytestmark = pytest.mark.django_db

NO_LIMIT: dict[str, list[str]] = {"ip": [], "campaign": [], "global": []}
VALID = {"name": "Maria Rossi", "email": "maria@example.org"}
DONE_URL = "/en/p/x/check-your-inbox/"


class _SignForm(HumanCheckMixin, forms.Form):
    name = forms.CharField()
    email = forms.EmailField()


def _limits(settings, action: str = "sign", **tiers: list[str]) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, action: NO_LIMIT | tiers}


def _post(data: dict[str, str], *, ip: str = "198.51.100.7"):
    return RequestFactory().post("/en/p/x/sign/", data, REMOTE_ADDR=ip)


def _screen(
    data: dict[str, str] = VALID,
    *,
    ip: str = "198.51.100.7",
    accepting: bool = True,
    action: str = "sign",
    **options: Any,
) -> tuple[Screen, _SignForm]:
    request = _post(data, ip=ip)
    form = _SignForm(request.POST)
    screen = sign_request_screen(
        request,
        form=form,
        action=action,
        campaign_kind="petition",
        campaign_id=7,
        accepting=accepting,
        **options,
    )
    return screen, form


@pytest.fixture
def steps() -> Iterator[list[str]]:
    """The budget and signal steps that ran, in order."""
    seen: list[str] = []

    def spy(module: Any, name: str) -> Any:
        real = getattr(module, name)

        def record(*args: Any, **kwargs: Any) -> Any:
            seen.append(name)
            return real(*args, **kwargs)

        return mock.patch.object(module, name, record)

    with (
        spy(rate_limits, "rate_limited"),
        spy(rate_limits, "submission_rate_limited"),
        spy(signals, "signing_flags"),
    ):
        yield seen


# --- The screen -----------------------------------------------------------------------------------


def test_a_valid_signature_is_accepted_after_every_step_in_order(settings, steps) -> None:
    screen, _form = _screen()
    assert screen.verdict is Verdict.ACCEPTED
    assert steps == ["rate_limited", "submission_rate_limited", "signing_flags"]
    assert screen.ip_hash == rate_limits.request_ip_hash(_post(VALID))
    assert screen.ip_hash
    assert screen.flags == []


def test_a_sender_over_their_own_limit_is_refused_with_429_before_the_form_is_read(
    settings, steps
) -> None:
    _limits(settings, ip=["1/m"])
    assert _screen()[0].verdict is Verdict.ACCEPTED
    steps.clear()
    screen, form = _screen()
    assert screen == Screen(
        Verdict.REFUSED, status=429, message=rate_limits.rate_limit_message("sign")
    )
    assert "Too many signatures" in screen.message
    assert steps == ["rate_limited"]
    # Not validated: the typed values are shown back as they were, with no errors.
    assert form._errors is None


def test_each_kind_of_campaign_is_refused_with_its_own_actions_message(settings) -> None:
    _limits(settings, action="letter_sign", ip=["1/m"])
    _screen(action="letter_sign")
    screen, _form = _screen(action="letter_sign")
    assert screen.status == 429
    assert screen.message == rate_limits.rate_limit_message("letter_sign")


def test_an_invalid_form_is_refused_with_400_and_spends_no_shared_budget(settings, steps) -> None:
    _limits(settings, campaign=["1/m"], **{"global": ["1/m"]})
    screen, form = _screen({"name": "Maria", "email": "not an address"})
    assert screen == Screen(Verdict.REFUSED, status=400)
    assert "email" in form.errors
    assert steps == ["rate_limited"]
    # The one signature the shared budgets allow is still there for a valid post.
    assert _screen()[0].verdict is Verdict.ACCEPTED


def test_a_filled_honeypot_is_trapped_and_counts_no_shared_budget_or_signal(
    settings, steps
) -> None:
    _limits(settings, campaign=["1/m"])
    screen, _form = _screen(VALID | {HONEYPOT_FIELD: "buy now"})
    assert screen == Screen(Verdict.TRAPPED)
    assert steps == ["rate_limited"]
    assert _screen()[0].verdict is Verdict.ACCEPTED


def test_a_trapped_post_still_spends_the_senders_own_budget(settings) -> None:
    _limits(settings, ip=["1/m"])
    assert _screen(VALID | {HONEYPOT_FIELD: "x"})[0].verdict is Verdict.TRAPPED
    assert _screen()[0].status == 429


def test_a_closed_campaign_is_refused_with_409_before_the_shared_budgets(settings, steps) -> None:
    _limits(settings, campaign=["1/m"])
    screen, _form = _screen(accepting=False)
    assert screen == Screen(Verdict.REFUSED, status=409)
    assert steps == ["rate_limited"]
    assert _screen()[0].verdict is Verdict.ACCEPTED


def test_a_closed_campaign_answers_a_bot_as_if_signed(settings) -> None:
    # The honeypot comes first: a bot learns nothing about the campaign either.
    screen, _form = _screen(VALID | {HONEYPOT_FIELD: "x"}, accepting=False)
    assert screen.verdict is Verdict.TRAPPED


def test_a_campaign_over_its_shared_budget_is_refused_with_429_and_counts_no_signal(
    settings, steps
) -> None:
    _limits(settings, campaign=["1/m"])
    assert _screen(ip="198.51.100.1")[0].verdict is Verdict.ACCEPTED
    steps.clear()
    screen, _form = _screen(ip="198.51.100.2")
    assert screen == Screen(
        Verdict.REFUSED, status=429, message=rate_limits.rate_limit_message("sign")
    )
    assert steps == ["rate_limited", "submission_rate_limited"]


def test_the_shared_budget_is_per_campaign(settings) -> None:
    _limits(settings, campaign=["1/m"])
    request = _post(VALID)
    assert _screen()[0].verdict is Verdict.ACCEPTED
    other = sign_request_screen(
        request,
        form=_SignForm(request.POST),
        action="sign",
        campaign_kind="petition",
        campaign_id=8,
        accepting=True,
    )
    assert other.verdict is Verdict.ACCEPTED


def test_the_signals_are_counted_on_the_campaign_with_its_trusted_domains(settings) -> None:
    with mock.patch.object(signals, "signing_flags", return_value=["ip_burst"]) as flags:
        screen, form = _screen(trusted_domains=["example.org"])
    assert screen.flags == ["ip_burst"]
    assert flags.call_args.kwargs == {
        "request": mock.ANY,
        "form": form,
        "scope": "petition:7",
        "email": "maria@example.org",
        "name": "Maria Rossi",
        "trusted_domains": ["example.org"],
    }


def test_a_signal_flags_an_accepted_signature_and_refuses_nothing(settings) -> None:
    screen, _form = _screen(VALID | {"email": "someone@mailinator.com"})
    assert screen.verdict is Verdict.ACCEPTED
    assert AbuseFlag.DISPOSABLE_EMAIL in screen.flags


# --- The answer -----------------------------------------------------------------------------------


class _Pages:
    """What the view would pass: the service and the campaign's page, recording their calls."""

    def __init__(self, *, raises: Exception | None = None) -> None:
        self.created: list[dict[str, Any]] = []
        self.refusals: list[tuple[int, str]] = []
        self.raises = raises

    def create(self, **kwargs: Any) -> int:
        if self.raises is not None:
            raise self.raises
        self.created.append(kwargs)
        return 1

    def refused(self, *, status: int, rate_limit_message: str) -> HttpResponse:
        self.refusals.append((status, rate_limit_message))
        return HttpResponse("the form again", status=status)


class _Closed(Exception):
    pass


def _answer(pages: _Pages, data: dict[str, str] = VALID, *, accepting: bool = True) -> HttpResponse:
    request = _post(data)
    return sign_post(
        request,
        form=_SignForm(request.POST),
        action="sign",
        campaign_kind="petition",
        campaign_id=7,
        accepting=accepting,
        create=pages.create,
        closed=(_Closed,),
        refused=pages.refused,
        done_url=DONE_URL,
    )


def test_an_accepted_signature_is_written_with_its_flags_and_ip_hash_then_redirected() -> None:
    pages = _Pages()
    response = _answer(pages)
    assert (response.status_code, response["Location"]) == (302, DONE_URL)
    assert pages.created == [
        {
            "ip_hash": rate_limits.request_ip_hash(_post(VALID)),
            "flags": [],
            "name": "Maria Rossi",
            "email": "maria@example.org",
        }
    ]
    assert pages.refusals == []


def test_a_trapped_bot_gets_the_same_answer_as_a_signer_and_nothing_is_written() -> None:
    signed, trapped = _Pages(), _Pages()
    person = _answer(signed)
    bot = _answer(trapped, VALID | {HONEYPOT_FIELD: "buy now"})
    assert (bot.status_code, bot["Location"]) == (person.status_code, person["Location"])
    assert trapped.created == []
    assert trapped.refusals == []


def test_a_refused_signature_shows_the_page_with_the_status_and_message(settings) -> None:
    _limits(settings, ip=["1/m"])
    _answer(_Pages())
    pages = _Pages()
    response = _answer(pages)
    assert response.status_code == 429
    assert pages.refusals == [(429, rate_limits.rate_limit_message("sign"))]
    assert pages.created == []


def test_an_invalid_form_shows_the_page_with_400_and_no_message() -> None:
    pages = _Pages()
    assert _answer(pages, {"name": "", "email": ""}).status_code == 400
    assert pages.refusals == [(400, "")]


def test_a_campaign_closed_before_the_write_is_answered_as_closed() -> None:
    pages = _Pages()
    assert _answer(pages, accepting=False).status_code == 409
    assert pages.refusals == [(409, "")]


def test_a_campaign_closed_between_the_screen_and_the_write_is_answered_as_closed() -> None:
    pages = _Pages(raises=_Closed())
    response = _answer(pages)
    assert response.status_code == 409
    assert pages.refusals == [(409, "")]


def test_an_error_the_view_did_not_name_is_not_hidden() -> None:
    with pytest.raises(ValueError):
        _answer(_Pages(raises=ValueError("a bug")))
