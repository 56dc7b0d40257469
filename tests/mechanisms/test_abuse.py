"""Abuse resistance: rate limits, the honeypot, the fill time, the proof of work and the signals
that flag a signature for a moderator (mechanisms.abuse)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from unittest import mock

import altcha
import pytest
from django import forms
from django.core.cache import caches
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from redis.commands.core import Script
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.models import Organization, User
from mechanisms import counters, redis_breaker
from mechanisms.abuse import proof_of_work, rate_limits, signals
from mechanisms.abuse.forms import (
    HONEYPOT_FIELD,
    PROOF_FIELD,
    STARTED_FIELD,
    HumanCheck,
    HumanCheckMixin,
)
from mechanisms.abuse.proof_of_work import Proof

# The IP hash's key comes from the database (it rotates).
pytestmark = pytest.mark.django_db

NO_LIMIT: dict[str, list[str]] = {"ip": [], "campaign": [], "global": []}


def _signing_flags(
    *, request, form, scope: str, email: str, name: str, trusted_domains: tuple[str, ...] = ()
) -> list[str]:
    """The flags as the sign POST reads them: the signals, their bursts counted and the proof
    spent in one stage of their own (mechanisms.signing adds the budgets' stages before it)."""
    found = signals.signing_signals(
        request=request,
        form=form,
        scope=scope,
        email=email,
        name=name,
        trusted_domains=trusted_domains,
    )
    counted = counters.counters_count(
        request, [counters.Stage(checks=found.checks, stop_all=False)], claim=found.proof.claim
    )
    return found.flags(over=counted.over[0], first_use=counted.claimed)


def _request(ip: str = "198.51.100.7"):
    return RequestFactory().post("/en/p/x/sign/", REMOTE_ADDR=ip)


def _limits(settings, **tiers: list[str]) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign": NO_LIMIT | tiers}


def _try(ip: str, scope: str) -> bool:
    # As the sign view counts a valid submission: its address first, then the shared budgets.
    request = _request(ip)
    return rate_limits.rate_limited(request, action="sign") or rate_limits.submission_rate_limited(
        request, action="sign", scope=scope
    )


def _tries(n: int, *, ip: str = "198.51.100.7", scope: str = "1") -> list[bool]:
    return [_try(ip, scope) for _ in range(n)]


# --- Rate limits ----------------------------------------------------------------------------------


def test_rate_limit_trips_past_the_burst(settings) -> None:
    _limits(settings, ip=["3/m", "100/h"])
    assert _tries(5) == [False, False, False, True, True]


def test_rate_limit_trips_past_the_sustained_window_though_each_burst_resets(
    settings, clock
) -> None:
    _limits(settings, ip=["2/m", "5/h"])
    allowed = 0
    for _ in range(4):
        allowed += _tries(3).count(False)
        clock.now += 61  # a new minute: the burst window starts again, the hour does not
    # Two per minute for the first minutes, until the hour's five are used up.
    assert allowed == 5
    assert _tries(1) == [True]


def test_rate_limit_resets_after_the_window(settings, clock) -> None:
    _limits(settings, ip=["2/m"])
    assert _tries(3) == [False, False, True]
    clock.now += 60
    assert _tries(1) == [False]


def test_each_ip_hash_has_its_own_limit(settings) -> None:
    _limits(settings, ip=["2/m"])
    assert _tries(3, ip="198.51.100.7") == [False, False, True]
    assert _tries(1, ip="198.51.100.8") == [False]
    assert _tries(1, ip="2001:db8::1") == [False]


def test_campaign_limit_counts_every_network_and_only_that_campaign(settings) -> None:
    _limits(settings, campaign=["3/m"])
    assert [_tries(1, ip=f"198.51.100.{n}", scope="1")[0] for n in range(4)] == [
        False,
        False,
        False,
        True,
    ]
    assert _tries(1, ip="198.51.100.99", scope="2") == [False]


def test_global_limit_counts_every_network_and_campaign(settings) -> None:
    _limits(settings, **{"global": ["3/m"]})
    results = [_tries(1, ip=f"198.51.100.{n}", scope=str(n))[0] for n in range(4)]
    assert results == [False, False, False, True]


def test_a_network_stopped_by_its_own_limit_uses_up_nobody_elses(settings) -> None:
    _limits(settings, ip=["1/m"], campaign=["3/m"])
    assert _tries(10, ip="198.51.100.7") == [False] + [True] * 9
    # The nine refused requests did not count towards the campaign's three.
    assert _tries(1, ip="198.51.100.8") == [False]
    assert _tries(1, ip="198.51.100.9") == [False]
    assert _tries(1, ip="198.51.100.10") == [True]


def test_actions_are_counted_apart(settings) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign": NO_LIMIT | {"ip": ["1/m"]},
        "login": NO_LIMIT | {"ip": ["1/m"]},
    }
    request = _request()
    assert rate_limits.rate_limited(request, action="sign") is False
    assert rate_limits.rate_limited(request, action="login") is False
    assert rate_limits.rate_limited(request, action="sign") is True


def test_every_named_action_has_limits(settings) -> None:
    for action in ("sign", "letter_sign", "join", "new_link", "login", "my_data"):
        assert set(settings.RATE_LIMITS[action]) == {"ip", "campaign", "global"}
        assert settings.RATE_LIMITS[action]["ip"], action


def test_rate_limits_fail_open_when_redis_raises(settings) -> None:
    _limits(settings, ip=["1/m"], campaign=["1/m"], **{"global": ["1/m"]})
    with (
        mock.patch.object(
            Script, "__call__", side_effect=RedisConnectionError("Redis went away")
        ) as script,
        mock.patch.object(redis_breaker.logger, "warning") as warning,
    ):
        assert _tries(3) == [False, False, False]
    # Logged once for the trip, not once per request.
    assert warning.call_count == 1
    # The first request pays for the failure; the process's breaker spares the next ones even
    # the attempt (each request would otherwise wait for Redis's timeout).
    assert script.call_count == 1


def test_after_a_cache_failure_the_request_tries_no_other_counter(settings) -> None:
    # A hung Redis would otherwise cost one timeout for the limits and another for the signals.
    _limits(settings, ip=["1/m"])
    request = _request()
    form = SimpleNamespace(human_check=HumanCheck())
    with (
        mock.patch.object(Script, "__call__", side_effect=RedisConnectionError("down")) as script,
        mock.patch.object(counters.logger, "warning"),
    ):
        assert rate_limits.rate_limited(request, action="sign") is False
        flags = _signing_flags(
            request=request, form=form, scope="petition:1", email="m@example.org", name="M"
        )
    assert flags == []
    assert script.call_count == 1


def test_each_counter_expires_soon_after_its_window(settings) -> None:
    _limits(settings, ip=["2/m", "5/h"])
    _tries(1)
    backend = caches["default"]
    redis = backend._cache.get_client(write=True)
    ip = rate_limits.request_ip_hash(_request())
    for rate, window in (("2/m", 60), ("5/h", 3600)):
        counter = counters._counters([("rl:sign:ip", ip, [rate])])[0]
        key = backend.make_and_validate_key(counter.key)
        assert int(redis.get(key)) == 1
        assert window < redis.ttl(key) <= window + 5


@pytest.fixture
def locmem(settings) -> None:
    """Development without REDIS_URL: the counters go through the cache API, a call each."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def test_without_redis_the_tiers_count_alike(settings, locmem, clock) -> None:
    _limits(settings, ip=["1/m", "3/h"], campaign=["3/m"])
    assert _tries(3, ip="198.51.100.7") == [False, True, True]
    assert _tries(1, ip="198.51.100.8") == [False]
    assert _tries(1, ip="198.51.100.9") == [False]
    assert _tries(1, ip="198.51.100.10") == [True]
    clock.now += 60
    # The two refused requests did not use up the hour's three.
    assert _tries(3, ip="198.51.100.7", scope="2") == [False, True, True]
    clock.now += 60
    assert _tries(1, ip="198.51.100.7", scope="3") == [False]
    clock.now += 60
    assert _tries(1, ip="198.51.100.7", scope="4") == [True]


def test_without_redis_the_counters_fail_open_when_the_cache_raises(settings) -> None:
    _limits(settings, ip=["1/m"], campaign=["1/m"], **{"global": ["1/m"]})
    broken = mock.MagicMock()
    broken.add.side_effect = ConnectionError("cache went away")
    with (
        mock.patch.object(counters, "caches", {"default": broken}),
        mock.patch.object(counters.logger, "warning") as warning,
    ):
        assert _tries(3) == [False, False, False]
    assert warning.called
    assert broken.add.call_count == 3


def test_a_rate_string_in_the_environment_is_checked_at_start(monkeypatch) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from config.settings import env_rates

    monkeypatch.setenv("RATE_LIMIT_X", "10/m, 5/10m ,")
    assert env_rates("RATE_LIMIT_X", []) == ["10/m", "5/10m"]
    monkeypatch.setenv("RATE_LIMIT_X", "")
    assert env_rates("RATE_LIMIT_X", ["1/s"]) == []
    for bad in ("ten/m", "10/0m", "10/w", "0/m", "10"):
        monkeypatch.setenv("RATE_LIMIT_X", bad)
        with pytest.raises(ImproperlyConfigured):
            env_rates("RATE_LIMIT_X", [])


# --- Honeypot and the invisible fields ------------------------------------------------------------


class _Form(HumanCheckMixin, forms.Form):
    name = forms.CharField()


def test_the_honeypot_is_hidden_from_people_and_labelled() -> None:
    html = str(_Form())
    trap = html.split('<div class="form-trap" aria-hidden="true">', 1)[1].split("</div>", 1)[0]
    assert '<label for="id_ref_code">Leave this field empty</label>' in trap
    assert 'tabindex="-1"' in trap
    assert 'autocomplete="off"' in trap
    assert 'type="text"' in trap


def test_a_filled_honeypot_is_noticed_never_echoed_and_never_reaches_the_service() -> None:
    form = _Form({"name": "Maria", HONEYPOT_FIELD: "http://spam.example"})
    assert form.is_valid()
    assert form.human_check.honeypot_filled
    assert set(form.cleaned_data) == {"name"}
    assert "spam.example" not in str(form)


def test_an_empty_honeypot_and_odd_hidden_values_are_no_error() -> None:
    form = _Form({"name": "Maria", PROOF_FIELD: "\x00" * 5000, STARTED_FIELD: "x"})
    assert form.is_valid()
    assert not form.human_check.honeypot_filled
    assert form.human_check.proof == "\x00" * 5000


def test_an_unbound_form_carries_a_fresh_timestamp_and_the_challenge_address() -> None:
    html = str(_Form())
    token = html.split('name="form_started" value="', 1)[1].split('"', 1)[0]
    assert (
        abs(proof_of_work.signing.loads(token, salt="cosign.abuse.form-started") - time.time()) < 5
    )
    assert 'data-pow-challenge="/abuse/challenge"' in html


# --- Fill time ------------------------------------------------------------------------------------


def test_a_form_sent_sooner_than_the_minimum_is_too_fast(settings) -> None:
    settings.ABUSE_MIN_FILL_SECONDS = 3
    settings.CLOCK_SKEW_ALLOWANCE_SECONDS = 0
    now = time.time()
    assert proof_of_work.fill_too_fast(proof_of_work.form_started_token(now=now - 1), now=now)
    assert not proof_of_work.fill_too_fast(proof_of_work.form_started_token(now=now - 4), now=now)


@pytest.mark.parametrize("token", ["", "garbage", "1700000000", "x" * 500])
def test_a_missing_or_forged_timestamp_is_too_fast(settings, token) -> None:
    settings.ABUSE_MIN_FILL_SECONDS = 3
    assert proof_of_work.fill_too_fast(token)


def test_a_timestamp_signed_for_something_else_is_too_fast(settings) -> None:
    settings.ABUSE_MIN_FILL_SECONDS = 3
    other = proof_of_work.signing.dumps(int(time.time()) - 60, salt="another purpose")
    assert proof_of_work.fill_too_fast(other)


def test_a_timestamp_older_than_a_day_counts_as_missing(settings) -> None:
    # A token harvested once must not serve a bot for ever.
    settings.ABUSE_MIN_FILL_SECONDS = 3
    rendered_at = time.time()
    token = proof_of_work.form_started_token(now=rendered_at)

    def read_at(moment: float) -> bool:
        # The signature's own timestamp is checked against signing's clock.
        with mock.patch.object(proof_of_work.signing, "time", SimpleNamespace(time=lambda: moment)):
            return proof_of_work.fill_too_fast(token, now=moment)

    max_age = proof_of_work.STARTED_MAX_AGE.total_seconds()
    assert not read_at(rendered_at + max_age - 60)
    assert read_at(rendered_at + max_age + 60)


def test_zero_seconds_switches_the_fill_time_check_off(settings) -> None:
    settings.ABUSE_MIN_FILL_SECONDS = 0
    assert not proof_of_work.fill_too_fast("")


# --- Proof of work --------------------------------------------------------------------------------


def _solved(challenge: dict) -> str:
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], "SHA-256", challenge["maxNumber"]
    )
    assert solution is not None
    payload = {key: challenge[key] for key in ("algorithm", "challenge", "salt", "signature")}
    return base64.b64encode(json.dumps(payload | {"number": solution.number}).encode()).decode()


@pytest.fixture
def cheap_pow(settings) -> None:
    settings.ALTCHA_MAX_NUMBER = 2000


def test_the_challenge_endpoint_gives_a_fresh_uncacheable_challenge(client, cheap_pow) -> None:
    response = client.get("/abuse/challenge")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    challenge = response.json()
    assert set(challenge) == {"algorithm", "challenge", "maxNumber", "salt", "signature"}
    assert challenge["algorithm"] == "SHA-256"
    assert challenge["maxNumber"] == 2000
    assert "expires=" in challenge["salt"]
    assert client.get("/abuse/challenge").json()["challenge"] != challenge["challenge"]
    assert client.post("/abuse/challenge").status_code == 405


def test_a_solved_challenge_is_good_once_and_a_replay_is_no_proof_not_a_bad_one(
    cheap_pow,
) -> None:
    # Back button and resubmit in the same browser sends the spent proof again.
    payload = _solved(proof_of_work.pow_challenge_create())
    assert proof_of_work.pow_verify(payload) == Proof.GOOD
    assert proof_of_work.pow_verify(payload) == Proof.REPLAYED


def test_a_wrong_number_is_bad(cheap_pow) -> None:
    payload = json.loads(base64.b64decode(_solved(proof_of_work.pow_challenge_create())))
    payload["number"] += 1
    assert (
        proof_of_work.pow_verify(base64.b64encode(json.dumps(payload).encode()).decode())
        == Proof.BAD
    )


def test_a_challenge_signed_with_another_key_is_bad(cheap_pow) -> None:
    forged = altcha.create_challenge_v1(
        algorithm="SHA-256",
        max_number=2000,
        hmac_key="not our key",
        expires=timezone.now() + timedelta(minutes=5),
    )
    assert proof_of_work.pow_verify(_solved(forged.to_dict())) == Proof.BAD


def test_an_expired_proof_counts_as_none_not_as_bad(cheap_pow) -> None:
    stale = altcha.create_challenge_v1(
        algorithm="SHA-256",
        max_number=2000,
        hmac_key=proof_of_work._altcha_key(),
        expires=timezone.now() - timedelta(minutes=1),
    )
    assert proof_of_work.pow_verify(_solved(stale.to_dict())) == Proof.EXPIRED


@pytest.mark.parametrize(
    "payload",
    [
        "not base64!",
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b"42").decode(),
        base64.b64encode(b'{"algorithm": "SHA-256"}').decode(),
        base64.b64encode(
            json.dumps(
                {"algorithm": "MD5", "challenge": "a", "number": 1, "salt": "s", "signature": "x"}
            ).encode()
        ).decode(),
        base64.b64encode(
            json.dumps(
                {"algorithm": "SHA-256", "challenge": 1, "number": "1", "salt": [], "signature": 0}
            ).encode()
        ).decode(),
        "A" * 5000,
        # Under the length cap, yet nested deeper than the JSON parser's recursion limit.
        base64.b64encode(b"[" * 1490).decode(),
        base64.b64encode(b'{"a": ' * 300 + b"1" + b"}" * 300).decode(),
        # The right fields, and something nested beside them: not a flat object.
        base64.b64encode(
            json.dumps(
                {
                    "algorithm": "SHA-256",
                    "challenge": "a",
                    "number": 1,
                    "salt": "s",
                    "signature": "x",
                    "extra": [[1]],
                }
            ).encode()
        ).decode(),
    ],
)
def test_a_malformed_proof_is_bad_never_an_error(payload) -> None:
    assert proof_of_work.pow_verify(payload) == Proof.BAD


def test_no_proof_is_missing() -> None:
    assert proof_of_work.pow_verify("") == Proof.MISSING


def test_a_good_proof_is_accepted_when_the_cache_is_down(cheap_pow) -> None:
    payload = _solved(proof_of_work.pow_challenge_create())
    with (
        mock.patch.object(proof_of_work.cache, "add", side_effect=RedisConnectionError("down")),
        mock.patch.object(proof_of_work.logger, "warning"),
    ):
        assert proof_of_work.pow_verify(payload) == Proof.GOOD


# --- Clocks that disagree -------------------------------------------------------------------------
# A form shown by one app host is often sent to another, whose clock may run a little behind.


def _sent_after(seconds: float) -> bool:
    # The timestamp is whole seconds: measured from one, the boundaries are exact.
    rendered_at = int(time.time())
    return proof_of_work.fill_too_fast(
        proof_of_work.form_started_token(now=rendered_at), now=rendered_at + seconds
    )


def test_the_fill_time_allows_for_a_clock_behind_the_one_that_rendered_the_form(settings) -> None:
    settings.ABUSE_MIN_FILL_SECONDS = 3
    settings.CLOCK_SKEW_ALLOWANCE_SECONDS = 2
    # A person took 3 s; this host's clock runs 2 s behind the renderer's, so it measures 1 s.
    assert not _sent_after(1)
    assert _sent_after(0.9)


def test_without_an_allowance_the_fill_time_is_measured_as_is(settings) -> None:
    settings.ABUSE_MIN_FILL_SECONDS = 3
    settings.CLOCK_SKEW_ALLOWANCE_SECONDS = 0
    assert _sent_after(2.9)
    assert not _sent_after(3)


def test_a_timestamp_from_the_future_passes_only_within_the_allowance(settings) -> None:
    # The renderer's clock is ahead of this one's: the form seems sent before it was shown.
    settings.ABUSE_MIN_FILL_SECONDS = 1
    settings.CLOCK_SKEW_ALLOWANCE_SECONDS = 2
    assert not _sent_after(-1)
    assert _sent_after(-1.1)
    assert _sent_after(-60)


def test_the_timestamps_age_limit_allows_for_skew_too(settings) -> None:
    settings.ABUSE_MIN_FILL_SECONDS = 3
    settings.CLOCK_SKEW_ALLOWANCE_SECONDS = 2
    rendered_at = 1_800_000_000

    def at(moment: float):
        # The signature carries the renderer's clock; its age is read on this host's.
        return mock.patch.object(
            proof_of_work.signing, "time", SimpleNamespace(time=lambda: moment)
        )

    with at(rendered_at):
        token = proof_of_work.form_started_token(now=rendered_at)
    max_age = proof_of_work.STARTED_MAX_AGE.total_seconds()
    for moment, too_fast in ((max_age + 2, False), (max_age + 3, True)):
        with at(rendered_at + moment):
            assert proof_of_work.fill_too_fast(token, now=rendered_at + moment) is too_fast


def _expiring_proof(*, expires_at: int) -> str:
    challenge = altcha.create_challenge_v1(
        algorithm="SHA-256",
        max_number=2000,
        hmac_key=proof_of_work._altcha_key(),
        expires=datetime.fromtimestamp(expires_at, tz=UTC),
    )
    return _solved(challenge.to_dict())


def test_a_proof_is_accepted_until_its_expiry_plus_the_allowance(settings) -> None:
    settings.CLOCK_SKEW_ALLOWANCE_SECONDS = 2
    expires = int(time.time()) + 600
    assert (
        proof_of_work.pow_verify(_expiring_proof(expires_at=expires), now=expires + 1.9)
        == Proof.GOOD
    )
    assert (
        proof_of_work.pow_verify(_expiring_proof(expires_at=expires), now=expires + 2)
        == Proof.EXPIRED
    )


def test_without_an_allowance_a_proof_expires_at_the_time_it_names(settings) -> None:
    settings.CLOCK_SKEW_ALLOWANCE_SECONDS = 0
    expires = int(time.time()) + 600
    assert (
        proof_of_work.pow_verify(_expiring_proof(expires_at=expires), now=expires - 0.1)
        == Proof.GOOD
    )
    assert (
        proof_of_work.pow_verify(_expiring_proof(expires_at=expires), now=expires) == Proof.EXPIRED
    )


# --- Signals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "disposable"),
    [
        ("x@mailinator.com", True),
        ("x@MAILINATOR.com", True),
        ("x@inbox.mailinator.com", True),
        ("x@a.b.mailinator.com.", True),
        ("x@xmailinator.com", False),
        ("x@example.org", False),
        ("x@gmail.com", False),
    ],
)
def test_disposable_domains_and_their_subdomains(email, disposable) -> None:
    assert signals.email_is_disposable(email) is disposable


@pytest.mark.parametrize(
    ("name", "skeleton"),
    [
        ("John Smith", "johnsmith"),
        ("  JÖHN  smith-2 ", "johnsmith"),
        ("J.o.h.n. S.m.i.t.h!!", "johnsmith"),
        # Full-width letters.
        ("\uff4a\uff4f\uff48\uff4e \uff53\uff4d\uff49\uff54\uff48", "johnsmith"),
        ("Straße", "strasse"),
        ("Zoë Müller-Lüdenscheidt", "zoemullerludenscheidt"),
        ("李小龙", "李小龙"),
    ],
)
def test_name_skeletons(name, skeleton) -> None:
    assert signals.name_skeleton(name) == skeleton


def _flags(
    *,
    email: str = "maria@example.org",
    name: str = "Maria Rossi",
    proof: str = "",
    ip: str = "198.51.100.7",
    scope: str = "petition:1",
    trusted: tuple[str, ...] = (),
) -> list[str]:
    form = SimpleNamespace(human_check=HumanCheck(proof=proof))
    return _signing_flags(
        request=_request(ip),
        form=form,
        scope=scope,
        email=email,
        name=name,
        trusted_domains=trusted,
    )


def test_a_plain_signature_without_javascript_is_not_flagged() -> None:
    assert _flags() == []


def test_no_proof_of_work_is_added_only_beside_another_signal() -> None:
    assert _flags(email="maria@mailinator.com") == ["disposable", "no_pow"]


def test_a_good_proof_means_no_no_pow_flag_beside_another_signal(cheap_pow) -> None:
    proof = _solved(proof_of_work.pow_challenge_create())
    assert _flags(email="maria@mailinator.com", proof=proof) == ["disposable"]


def test_a_bad_proof_is_flagged_on_its_own() -> None:
    assert _flags(proof="forged") == ["bad_pow"]


def test_a_replayed_proof_counts_as_no_proof(cheap_pow) -> None:
    proof = _solved(proof_of_work.pow_challenge_create())
    assert _flags(proof=proof) == []
    # Alone it flags nothing, like a missing proof; beside another signal it is no_pow.
    assert _flags(email="bruno@example.org", name="Bruno", proof=proof) == []
    assert _flags(email="maria@mailinator.com", name="Carla", proof=proof) == [
        "disposable",
        "no_pow",
    ]


def test_too_fast_is_flagged_when_the_check_is_on(settings) -> None:
    settings.ABUSE_MIN_FILL_SECONDS = 3
    assert _flags() == ["too_fast", "no_pow"]


def test_a_burst_from_one_ip_hash_on_one_campaign_is_flagged(settings) -> None:
    settings.ABUSE_IP_BURST = ["2/m"]
    results = [_flags(email=f"p{n}@example.org", name=f"Person {chr(65 + n)}") for n in range(3)]
    assert results == [[], [], ["ip_burst", "no_pow"]]
    # The same network on another campaign, and another network here, are not a burst.
    assert _flags(email="q@example.org", name="Quinn", scope="petition:2") == []
    assert _flags(email="r@example.org", name="Rosa", ip="198.51.100.8") == []


def test_a_burst_from_one_email_domain_is_flagged_with_a_higher_bar_for_free_mail(
    settings,
) -> None:
    settings.ABUSE_DOMAIN_BURST = ["2/m"]
    settings.ABUSE_FREE_MAIL_BURST = ["4/m"]

    def sign(domain: str, n: int) -> list[str]:
        return _flags(email=f"p{n}@{domain}", name=f"Person {chr(65 + n)}", ip=f"192.0.2.{n}")

    assert [sign("corp.example", n) for n in range(3)] == [[], [], ["domain_burst", "no_pow"]]
    assert [sign("gmail.com", n) for n in range(4)] == [[], [], [], []]
    assert sign("gmail.com", 5) == ["domain_burst", "no_pow"]


def test_subdomains_of_one_domain_count_towards_one_domain_burst(settings) -> None:
    # A spammer with a wildcard MX mints a subdomain per signature.
    settings.ABUSE_DOMAIN_BURST = ["2/m"]
    results = [
        _flags(email=f"p{n}@s{n}.spam.example", name=f"Person {chr(65 + n)}", ip=f"192.0.2.{n}")
        for n in range(3)
    ]
    assert "domain_burst" in results[2]
    assert results[:2] == [[], []]


@pytest.mark.parametrize(
    ("domain", "registrable"),
    [
        ("s1.spam.example", "spam.example"),
        ("spam.example", "spam.example"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("lists.eff.org", "eff.org"),
        # Each project under a shared suffix is its own registrant.
        ("alice.github.io", "alice.github.io"),
        # A bare public suffix names no registrant: counted as itself.
        ("co.uk", "co.uk"),
        ("localhost", "localhost"),
    ],
)
def test_the_domain_burst_counts_the_registrable_domain(domain, registrable) -> None:
    assert signals.registrable_domain(domain) == registrable


def test_domains_a_letter_expects_are_no_burst(settings) -> None:
    settings.ABUSE_DOMAIN_BURST = ["1/m"]
    for n in range(3):
        flags = _flags(
            email=f"p{n}@eu.amazon.com",
            name=f"Person {chr(65 + n)}",
            ip=f"192.0.2.{n}",
            trusted=("amazon.com",),
        )
        assert flags == []


def test_the_third_near_identical_name_is_flagged() -> None:
    names = ["John Smith", "john smith 2", "JÖHN-SMITH!", "Jane Doe"]
    results = [
        _flags(email=f"p{n}@example.org", name=name, ip=f"192.0.2.{n}")
        for n, name in enumerate(names)
    ]
    assert results == [[], [], ["near_duplicate", "no_pow"], []]


def test_signals_fail_open_when_the_cache_raises(settings) -> None:
    settings.ABUSE_IP_BURST = ["1/m"]
    with (
        mock.patch.object(Script, "__call__", side_effect=RedisConnectionError("Redis went away")),
        mock.patch.object(counters.logger, "warning"),
    ):
        assert [_flags(name="Same Name") for _ in range(4)] == [[], [], [], []]


def test_a_signal_over_its_limit_does_not_stop_the_others_counting(settings) -> None:
    settings.ABUSE_IP_BURST = ["1/m"]
    settings.ABUSE_DOMAIN_BURST = ["2/m"]
    results = [_flags(email=f"p{n}@corp.example", name="John Smith") for n in range(3)]
    assert results == [
        [],
        ["ip_burst", "no_pow"],
        ["ip_burst", "domain_burst", "near_duplicate", "no_pow"],
    ]


def test_without_redis_the_signals_count_alike(settings, locmem) -> None:
    settings.ABUSE_IP_BURST = ["1/m"]
    settings.ABUSE_DOMAIN_BURST = ["2/m"]
    results = [_flags(email=f"p{n}@corp.example", name="John Smith") for n in range(3)]
    assert results == [
        [],
        ["ip_burst", "no_pow"],
        ["ip_burst", "domain_burst", "near_duplicate", "no_pow"],
    ]


# --- The accounts forms: joining, logging in, asking for a password link ----------------------

EFF = {
    "name": "Electronic Frontier Foundation",
    "website": "www.eff.org",
    "contact_name": "Cindy Cohn",
    "contact_email": "press@eff.org",
}


def _only(settings, action: str, **tiers: list[str]) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, action: NO_LIMIT | tiers}


def test_joining_with_the_honeypot_filled_pretends_and_registers_nothing(client, outbox) -> None:
    response = client.post(reverse("accounts:organization_join"), EFF | {"ref_code": "x"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:organization_check_inbox")
    assert not Organization.objects.exists()
    assert outbox == []


def test_joining_past_the_rate_limit_is_a_429_that_keeps_the_values(
    client, settings, outbox
) -> None:
    _only(settings, "join", ip=["1/m"])
    url = reverse("accounts:organization_join")
    assert client.post(url, EFF | {"contact_email": ""}).status_code == 400
    response = client.post(url, EFF)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many attempts from your network right now." in html
    assert 'value="press@eff.org"' in html
    assert not Organization.objects.exists()
    assert outbox == []


def test_login_past_the_rate_limit_is_refused_without_checking_the_password(
    client, settings
) -> None:
    _only(settings, "login", ip=["2/m"])
    User.objects.create_user("member@eff.org", "the right password")
    url = reverse("accounts:login")
    for _ in range(2):
        wrong = client.post(url, {"username": "member@eff.org", "password": "guess"})
        assert wrong.status_code == 400
    with mock.patch("django.contrib.auth.forms.authenticate") as authenticate:
        response = client.post(
            url, {"username": "member@eff.org", "password": "the right password"}
        )
    assert response.status_code == 429
    assert not authenticate.called
    html = response.content.decode()
    assert "Too many attempts from your network right now." in html
    assert 'value="member@eff.org"' in html
    assert "_auth_user_id" not in client.session


def test_asking_for_a_password_link_past_the_rate_limit_is_a_429(client, settings, outbox) -> None:
    _only(settings, "new_link", ip=["1/m"])
    url = reverse("accounts:password_reset")
    assert client.post(url, {"email": "member@eff.org"}).status_code == 302
    response = client.post(url, {"email": "member@eff.org"})
    assert response.status_code == 429
    assert "Too many attempts from your network right now." in response.content.decode()


# --- Round trips ----------------------------------------------------------------------------------


class _RoundTrips:
    """Counts what is sent to Redis, a packed pipeline or script being one round trip."""

    def __init__(self) -> None:
        self.count = 0

    @contextmanager
    def counting(self) -> Iterator[None]:
        original = AbstractConnection.send_packed_command

        def send(connection, *args, **kwargs):
            self.count += 1
            return original(connection, *args, **kwargs)

        with mock.patch.object(AbstractConnection, "send_packed_command", send):
            yield


def test_all_counters_of_a_sign_request_and_its_proof_of_work_cost_one_round_trip(
    client, petition, cheap_pow
) -> None:
    # Every tier of the production limits, every burst signal and the proof's one-time claim.
    url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    form = {"name": "Maria Rossi", "postal_code": "94612", "country": "US", "display": "short"}
    # The first request may load the counting script into Redis.
    assert client.post(url, form | {"email": "first@example.org"}).status_code == 302
    proof = _solved(proof_of_work.pow_challenge_create())
    trips = _RoundTrips()
    with trips.counting():
        response = client.post(url, form | {"email": "second@example.org", "altcha": proof})
    assert response.status_code == 302
    assert trips.count == 1
    # The proof was spent in that trip: sent again, it is a replay.
    assert proof_of_work.pow_verify(proof) == Proof.REPLAYED
