import pytest

from mechanisms.domains import domain_is_free_mail, domain_within, email_domain, website_domain


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.eff.org", "eff.org"),
        ("https://WWW.EFF.ORG:8443/about?x=1", "eff.org"),
        ("https://act.eff.org/", "act.eff.org"),
        ("https://bücher.example", "xn--bcher-kva.example"),
        ("https://[::1", ""),
        ("", ""),
    ],
)
def test_website_domain(website: str, domain: str) -> None:
    assert website_domain(website) == domain


def test_a_unicode_domain_and_its_ascii_spelling_are_one() -> None:
    assert email_domain("info@Bücher.example.") == "xn--bcher-kva.example"
    assert domain_within(email_domain("info@xn--bcher-kva.example"), "bücher.example")


@pytest.mark.parametrize(
    ("domain", "parent", "within"),
    [
        ("eff.org", "eff.org", True),
        ("lists.eff.org", "eff.org", True),
        ("noteff.org", "eff.org", False),
        ("eff.org", "lists.eff.org", False),
        ("eff.org", "", False),
    ],
)
def test_domain_within(domain: str, parent: str, within: bool) -> None:
    assert domain_within(domain, parent) is within


def test_free_mail_providers_are_known() -> None:
    assert domain_is_free_mail("GMAIL.com")
    assert domain_is_free_mail("proton.me")
    assert not domain_is_free_mail("eff.org")
