import pytest

from mechanisms.addresses import email_canonicalize


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Maria@Example.ORG", "maria@example.org"),
        ("  maria@example.org  ", "maria@example.org"),
        ("maria+petition@example.org", "maria@example.org"),
        ("maria+a+b@example.org", "maria@example.org"),
        ("Jane.Doe+ring@GMail.com", "janedoe@gmail.com"),
        ("jane.doe@googlemail.com", "janedoe@gmail.com"),
        # Dots matter outside Gmail: these are two different mailboxes.
        ("jane.doe@example.org", "jane.doe@example.org"),
        # A local part that is only a suffix keeps it rather than becoming empty.
        ("+tag@example.org", "+tag@example.org"),
    ],
)
def test_email_canonicalize(typed: str, canonical: str) -> None:
    assert email_canonicalize(typed) == canonical


def test_gmail_spellings_of_one_mailbox_compare_equal() -> None:
    spellings = ["j.doe@gmail.com", "JDoe+x@googlemail.com", "jdoe@GMAIL.COM"]
    assert len({email_canonicalize(s) for s in spellings}) == 1
