"""validate_deliverable_email skips the header parser and IDNA for plain ASCII addresses (the
sign POST's hot path); these hold the shortcut to the full check's verdict."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from mechanisms.validators import (
    _plain,
    undeliverable,
    validate_deliverable_email,
    validate_no_control_characters,
)

PLAIN = [
    "giulia@example.org",
    "Jane.Doe+petition@GMail.com",
    "a_b-c@sub-domain.example.co.uk",
    "x@localhost",
    "1234@123.example",
    f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 57}.org",
]
# Not plain, so the full check decides: non-ASCII, an xn-- label in any case, other characters.
NOT_PLAIN = [
    "hans@faß.de",
    "a@xn--n3h.example",
    "a@XN--zz.example",
    "a@sub.Xn--fa-hia.de",
    "o'brien@example.org",
    '"quoted"@example.org',
    "a@[127.0.0.1]",
    "jörg@example.org",
    # The Kelvin sign (U+212A) lower-cases to an ASCII k: it would pass for "kn--".
    "kelvin1@\u212ab--c.com",
    "a@x\u212a--c.com",
]


@pytest.mark.parametrize("address", PLAIN)
def test_a_plain_address_is_one_the_full_check_accepts(address: str) -> None:
    validate_email(address)
    assert _plain(address)
    assert not undeliverable(address)
    validate_deliverable_email(address)


@pytest.mark.parametrize("address", NOT_PLAIN)
def test_anything_else_goes_through_the_full_check(address: str) -> None:
    assert not _plain(address)


@pytest.mark.parametrize(
    "address", ["a@xn--n3h.example", "a@XN--zz.example", "kelvin1@\u212ab--c.com"]
)
def test_an_xn_label_in_any_case_is_still_refused(address: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_deliverable_email(address)
    assert error.value.code == "undeliverable"


def test_a_plain_address_too_long_to_store_is_refused() -> None:
    # Longer than 254 characters, though every part is within its own limit.
    address = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 60}.org"
    validate_email(address)
    assert len(address) > 254 and _plain(address)
    with pytest.raises(ValidationError) as error:
        validate_deliverable_email(address)
    assert error.value.code == "undeliverable"


@pytest.mark.parametrize(
    "name",
    ["Jane\x00Doe", "Jane\u202eeoD", "Hi\u2028Bcc: x@y.example", "Jane\u2029Doe", "Jane\x1bDoe"],
)
def test_names_with_control_formatting_or_separator_characters_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="invisible or control characters"):
        validate_no_control_characters(name)


@pytest.mark.parametrize(
    "name", ["Jane Doe", "山田太郎", "Zoë O\u2019Brien-Núñez", "Jane\u00a0Doe"]
)
def test_names_in_any_script_pass(name: str) -> None:
    validate_no_control_characters(name)
