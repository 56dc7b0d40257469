"""The sign POST's screening and answer, shared by petitions and letters (mechanisms.signing).

The counters are the real ones (Redis, a fresh prefix per test); a spy only records which stages
of the one round trip Redis counted, to show that each budget is spent only by what reached it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django import forms
from django.http import HttpResponse
from django.test import RequestFactory
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError

from mechanisms import redis_breaker, signing
from mechanisms.abuse import proof_of_work, rate_limits, signals
from mechanisms.abuse.forms import HONEYPOT_FIELD, PROOF_FIELD, HumanCheckMixin
from mechanisms.abuse.proof_of_work import Proof
from mechanisms.counters import Counted, Stage
from mechanisms.models import AbuseFlag
from mechanisms.signing import Screen, Verdict, sign_post, sign_request_screen
from tests.mechanisms.test_abuse import _solved

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


# The stages of a sign POST's one round trip to Redis, by the checks they count.
STAGES = {
    ("rl:sign:ip",): "sender's budget",
    ("rl:sign:campaign", "rl:sign:global"): "shared budgets",
    ("ip:petition:7", "domain:petition:7", "name:petition:7"): "signals",
}


@pytest.fixture
def steps() -> Iterator[list[str]]:
    """The budget and signal stages Redis counted, in order: the ones the script reached, not
    the ones it was given (a stage over its limit stops the ones after it)."""
    seen: list[str] = []
    real = signing.counters_count

    def record(request: Any, stages: list[Stage], **kwargs: Any) -> Counted:
        counted = real(request, stages, **kwargs)
        for stage in stages[: counted.reached]:
            seen.append(STAGES[tuple(group for group, _value, _rates in stage.checks)])
        return counted

    with mock.patch.object(signing, "counters_count", record):
        yield seen


# --- The screen -----------------------------------------------------------------------------------


def test_a_valid_signature_is_accepted_after_every_step_in_order(settings, steps) -> None:
    screen, _form = _screen()
    assert screen.verdict is Verdict.ACCEPTED
    assert steps == ["sender's budget", "shared budgets", "signals"]
    assert screen.ip_hash == rate_limits.request_ip_hash(_post(VALID))
    assert screen.ip_hash
    assert screen.flags == []


def test_a_sender_over_their_own_limit_is_refused_with_429_and_counts_nothing_else(
    settings, steps
) -> None:
    _limits(settings, ip=["1/m"], campaign=["2/m"])
    assert _screen()[0].verdict is Verdict.ACCEPTED
    steps.clear()
    screen, _form = _screen()
    assert screen == Screen(
        Verdict.REFUSED, status=429, message=rate_limits.rate_limit_message("sign")
    )
    assert "Too many signatures" in screen.message
    # The form was valid and the campaign open: the script was given the shared budgets and the
    # signals too, and stopped at the sender's.
    assert steps == ["sender's budget"]
    # The campaign's second signature is still there for another sender.
    assert _screen(ip="198.51.100.8")[0].verdict is Verdict.ACCEPTED


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
    assert steps == ["sender's budget"]
    # The one signature the shared budgets allow is still there for a valid post.
    assert _screen()[0].verdict is Verdict.ACCEPTED


def test_a_filled_honeypot_is_trapped_and_counts_no_shared_budget_or_signal(
    settings, steps
) -> None:
    _limits(settings, campaign=["1/m"])
    screen, _form = _screen(VALID | {HONEYPOT_FIELD: "buy now"})
    assert screen == Screen(Verdict.TRAPPED)
    assert steps == ["sender's budget"]
    assert _screen()[0].verdict is Verdict.ACCEPTED


def test_a_trapped_post_still_spends_the_senders_own_budget(settings) -> None:
    _limits(settings, ip=["1/m"])
    assert _screen(VALID | {HONEYPOT_FIELD: "x"})[0].verdict is Verdict.TRAPPED
    assert _screen()[0].status == 429


def test_a_closed_campaign_is_refused_with_409_before_the_shared_budgets(settings, steps) -> None:
    _limits(settings, campaign=["1/m"])
    screen, _form = _screen(accepting=False)
    assert screen == Screen(Verdict.REFUSED, status=409)
    assert steps == ["sender's budget"]
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
    assert steps == ["sender's budget", "shared budgets"]


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
    # Over at once: the flag comes from what Redis counted, through the screen.
    settings.ABUSE_IP_BURST = ["0/m"]
    with mock.patch.object(signals, "signing_signals", wraps=signals.signing_signals) as seen:
        screen, form = _screen(trusted_domains=["example.org"])
    assert screen.flags == [AbuseFlag.IP_BURST, AbuseFlag.NO_PROOF_OF_WORK]
    assert seen.call_args.kwargs == {
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


@pytest.fixture(params=["redis", "locmem"])
def cache_kind(request, settings) -> str:
    """Redis (one script), and development's cache without REDIS_URL (a call per counter)."""
    if request.param == "locmem":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return request.param


@pytest.fixture
def cheap_pow(settings) -> None:
    settings.ALTCHA_MAX_NUMBER = 2000


def _proof() -> str:
    return _solved(proof_of_work.pow_challenge_create())


def test_a_proof_of_work_is_spent_by_the_first_signature_only(
    settings, cheap_pow, cache_kind
) -> None:
    # A signal fires for both, so a missing (or replayed) proof shows as no_pow beside it.
    proof = _proof()
    data = VALID | {"email": "maria@mailinator.com", PROOF_FIELD: proof}
    assert _screen(data)[0].flags == [AbuseFlag.DISPOSABLE_EMAIL]
    assert _screen(data, ip="198.51.100.8")[0].flags == [
        AbuseFlag.DISPOSABLE_EMAIL,
        AbuseFlag.NO_PROOF_OF_WORK,
    ]


def test_a_signature_the_shared_budgets_refuse_spends_no_proof_of_work(
    settings, cheap_pow, cache_kind
) -> None:
    _limits(settings, campaign=["1/m"])
    assert _screen(ip="198.51.100.1")[0].verdict is Verdict.ACCEPTED
    proof = _proof()
    refused, _form = _screen(VALID | {PROOF_FIELD: proof}, ip="198.51.100.2")
    assert refused.status == 429
    assert proof_of_work.pow_verify(proof) == Proof.GOOD


def test_a_sender_over_their_own_limit_spends_no_proof_of_work(
    settings, cheap_pow, cache_kind
) -> None:
    _limits(settings, ip=["1/m"])
    assert _screen()[0].verdict is Verdict.ACCEPTED
    proof = _proof()
    assert _screen(VALID | {PROOF_FIELD: proof})[0].status == 429
    assert proof_of_work.pow_verify(proof) == Proof.GOOD


def test_the_screen_fails_open_in_one_attempt_when_redis_is_down(settings, cheap_pow) -> None:
    _limits(settings, ip=["0/m"], campaign=["0/m"])
    settings.ABUSE_IP_BURST = ["0/m"]
    with (
        mock.patch.object(Script, "__call__", side_effect=RedisConnectionError("down")) as script,
        mock.patch.object(redis_breaker.logger, "warning"),
    ):
        screen, _form = _screen(VALID | {PROOF_FIELD: _proof()})
    # Every limit would refuse and every signal fire: none is known, and the good proof counts.
    assert screen.verdict is Verdict.ACCEPTED
    assert screen.flags == []
    assert script.call_count == 1


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
        title="A campaign",
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
