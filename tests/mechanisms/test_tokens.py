import time
from datetime import timedelta
from unittest import mock

import pytest

from mechanisms.tokens import TokenExpired, TokenInvalid, token_make, token_read

DAY = timedelta(days=1)


def _made_days_ago(days: float, **kwargs) -> str:
    with mock.patch("django.core.signing.time.time", return_value=time.time() - days * 86400):
        return token_make(**kwargs)


def test_token_round_trip() -> None:
    token = token_make(purpose="confirm", value=42)
    assert token_read(purpose="confirm", token=token, max_age=DAY) == 42


def test_token_for_another_purpose_is_invalid() -> None:
    token = token_make(purpose="confirm", value=42)
    with pytest.raises(TokenInvalid):
        token_read(purpose="unsubscribe", token=token, max_age=DAY)


@pytest.mark.parametrize(
    "damage",
    [lambda t: t[:-2], lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "x" + t],
    ids=["truncated", "altered", "prefixed"],
)
def test_tampered_token_is_invalid(damage) -> None:
    token = token_make(purpose="confirm", value=42)
    with pytest.raises(TokenInvalid):
        token_read(purpose="confirm", token=damage(token), max_age=DAY)


def test_token_within_its_age_is_accepted() -> None:
    token = _made_days_ago(0.5, purpose="confirm", value=7)
    assert token_read(purpose="confirm", token=token, max_age=DAY) == 7


def test_expired_token_carries_its_value() -> None:
    token = _made_days_ago(2, purpose="confirm", value=42)
    with pytest.raises(TokenExpired) as expired:
        token_read(purpose="confirm", token=token, max_age=DAY)
    assert expired.value.value == 42
