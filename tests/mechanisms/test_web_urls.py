"""Web addresses read as browsers read them (WHATWG): refused when they could mean two things,
stored and linked in normalized form, and their domain taken from the browser's reading."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Organization
from mechanisms.domains import website_domain
from mechanisms.web_urls import (
    WebURLFormField,
    markup_href,
    stored_web_urls_normalize,
    stored_web_urls_report,
    web_url_domain,
    web_url_normalize,
    web_url_or_blank,
)
from tests.factories import (
    OpenLetterFactory,
    OrganizationFactory,
    OrganizationSignatureFactory,
    PetitionFactory,
)

EVIL = "https://evil.example\\@eff.org"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://www.eff.org", "https://www.eff.org/"),
        ("www.eff.org", "https://www.eff.org/"),  # no scheme: taken as https
        ("eff.org/about?x=1#top", "https://eff.org/about?x=1#top"),
        ("  https://eff.org  ", "https://eff.org/"),
        ("http://eff.org", "http://eff.org/"),
        ("HTTPS://WWW.EFF.ORG/About", "https://www.eff.org/About"),
        ("https://eff.org:443/", "https://eff.org/"),
        ("https://eff.org:8443/", "https://eff.org:8443/"),
        ("https://eff.org.", "https://eff.org./"),  # a fully qualified name: the same site
        ("https://eff.org.evil.example", "https://eff.org.evil.example/"),  # evil's, plainly
        ("https://bücher.example/ä", "https://xn--bcher-kva.example/%C3%A4"),
        ("https://BÜCHER.example", "https://xn--bcher-kva.example/"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example/"),
        ("https://\uff25\uff26\uff26.org", "https://eff.org/"),  # full-width letters, mapped
        ("https://eff\u3002org", "https://eff.org/"),  # an ideographic full stop is a dot
        ("https://[::1]/", "https://[::1]/"),
        ("https://[0:0::1]:8443/x", "https://[::1]:8443/x"),
        ("https://192.0.2.1/", "https://192.0.2.1/"),
        ("https://eff.org/?next=@evil.example", "https://eff.org/?next=@evil.example"),
        ("https://eff.org/#@evil.example", "https://eff.org/#@evil.example"),
    ],
)
def test_safe_addresses_are_stored_as_the_browser_reads_them(typed: str, stored: str) -> None:
    assert web_url_normalize(typed) == stored
    assert web_url_normalize(stored) == stored  # normalizing again changes nothing


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        (EVIL, "backslash"),  # browsers go to evil.example; urlsplit saw eff.org
        ("https://evil.example\\\\@eff.org", "backslash"),
        ("https:\\\\evil.example", "backslash"),
        ("https://eff.org\\.evil.example", "backslash"),
        ("https://eff.org/path\\to", "backslash"),
        ("https://user:secret@eff.org", "userinfo"),
        ("https://eff.org@evil.example", "userinfo"),
        ("https://@eff.org", "userinfo"),
        ("https://evil.example%5C@eff.org", "userinfo"),
        ("https:/evil.example", "incomplete"),
        ("https:evil.example", "incomplete"),
        ("https:///evil.example", "incomplete"),
        ("//evil.example", "incomplete"),
        ("", "incomplete"),
        ("https://ev\til.example", "invisible"),  # browsers drop tabs and newlines
        ("https://evil.example\n@eff.org", "invisible"),
        ("https://eff.org/\r/", "invisible"),
        ("https://eff.org/\x00", "invisible"),
        ("https://eff.org/\u202egro.live", "invisible"),  # a right-to-left override
        ("https://eff\u200b.org", "invisible"),  # a zero-width space
        ("https://eff.org/a b", "invisible"),
        ("https://eff.org/\u00a0/", "invisible"),
        ("javascript:alert(1)", "scheme"),
        ("JavaScript:alert(1)", "scheme"),
        ("data:text/html,<script>alert(1)</script>", "scheme"),
        ("ftp://eff.org", "scheme"),
        ("mailto:press@eff.org", "scheme"),
        ("eff.org:8080", "scheme"),  # read as the scheme "eff.org" by browsers too
        ("https://%65ff.org", "disguised_host"),  # percent-encoded letters
        ("https://0x7f.1/", "disguised_host"),  # 127.0.0.1 in disguise
        ("https://2130706433/", "disguised_host"),
        ("https://127.1/", "disguised_host"),
        ("https://eff..org", "invalid"),
        ("https://eff_org.example", "invalid"),
        ("https://eff.org\uff0f.evil.example", "invalid"),  # a full-width solidus
        ("https://[::1", "invalid"),
        ("https://eff.org:99999/", "invalid"),
        ("https://intranet/", "invalid"),
    ],
)
def test_addresses_that_could_mean_two_things_are_refused(typed: str, code: str) -> None:
    with pytest.raises(ValidationError) as error:
        web_url_normalize(typed)
    assert error.value.code == code
    assert web_url_or_blank(typed) == ""
    assert web_url_domain(typed) == ""


def test_without_an_assumed_scheme_an_address_must_name_one() -> None:
    with pytest.raises(ValidationError) as error:
        web_url_normalize("www.eff.org", assume_scheme=None)
    assert error.value.code == "scheme"


def test_the_messages_tell_a_person_what_to_change() -> None:
    messages = {}
    for typed in (EVIL, "https://me:pw@eff.org", "javascript:alert(1)", "https://%65ff.org"):
        with pytest.raises(ValidationError) as error:
            web_url_normalize(typed)
        messages[error.value.code] = error.value.messages[0]
    assert "backslash" in messages["backslash"]
    assert "before the @ sign" in messages["userinfo"]
    assert "http:// or https://" in messages["scheme"]
    assert "plainly" in messages["disguised_host"]


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.eff.org/", "eff.org"),
        ("https://WWW.EFF.ORG:8443/about?x=1", "eff.org"),
        ("www.eff.org", "eff.org"),
        ("https://act.eff.org/", "act.eff.org"),
        ("https://bücher.example", "xn--bcher-kva.example"),
        ("https://eff.org.", "eff.org"),
        ("https://eff.org.evil.example", "eff.org.evil.example"),
        (EVIL, ""),  # never eff.org, as urlsplit read it
        ("https://evil.example\\@eff.org/", ""),
        ("https://eff.org@evil.example", ""),
        ("https://evil.example%5C@eff.org", ""),
        ("https://ev\til.example", ""),
        ("https:/eff.org", ""),
        ("https://%65ff.org", ""),
        ("https://[::1]/", ""),  # no email address is at an IP address we could check
        ("https://192.0.2.1/", ""),
        ("https://[::1", ""),
        ("", ""),
    ],
)
def test_the_website_domain_is_the_host_a_browser_visits(website: str, domain: str) -> None:
    assert website_domain(website) == domain


@pytest.mark.parametrize(
    ("href", "rendered"),
    [
        ("https://WWW.EFF.ORG", "https://www.eff.org/"),
        ("/p/ring/", "/p/ring/"),
        ("#sign", "#sign"),
        ("relative/page", "relative/page"),
        ("mailto:press@eff.org", "mailto:press@eff.org"),
        (EVIL, ""),
        ("https://user@eff.org", ""),
        ("https:/evil.example", ""),
        ("/\\evil.example", ""),  # browsers read /\ as //, another host
        ("//evil.example", ""),
        ("https://ev\til.example", ""),
        ("mailto:press@eff.org\n", ""),
    ],
)
def test_links_in_campaign_text_keep_only_addresses_read_one_way(href: str, rendered: str) -> None:
    assert markup_href(href) == rendered


def test_the_form_field_cleans_to_the_normalized_address() -> None:
    field = WebURLFormField(max_length=200, required=False)
    assert field.clean("WWW.EFF.org") == "https://www.eff.org/"
    assert field.clean("  ") == ""
    with pytest.raises(ValidationError) as error:
        field.clean(EVIL)
    assert error.value.code == "backslash"


def test_the_form_field_checks_the_length_of_what_it_stores() -> None:
    # Unicode hosts grow in their xn-- spelling: the column must hold the stored form.
    typed = "https://" + "ü" * 40 + ".example"
    assert len(typed) < 60
    with pytest.raises(ValidationError) as error:
        WebURLFormField(max_length=60).clean(typed)
    assert [e.code for e in error.value.error_list] == ["max_length"]


@pytest.mark.django_db
def test_full_clean_stores_the_normalized_address_and_refuses_an_unsafe_one() -> None:
    organization = OrganizationFactory.build(website="HTTPS://Www.EFF.org")
    organization.full_clean(exclude=["slug"])
    assert organization.website == "https://www.eff.org/"
    organization.website = EVIL
    with pytest.raises(ValidationError) as error:
        organization.full_clean(exclude=["slug"])
    assert error.value.message_dict["website"] == [
        "A web address cannot contain a backslash (\\). Check the address, and use / instead."
    ]


@pytest.mark.django_db
def test_stored_addresses_are_normalized_and_unsafe_ones_blanked_and_reported() -> None:
    fine = OrganizationFactory(website="https://www.eff.org/")
    old_style = OrganizationFactory(website="https://EFF.example")
    evil = OrganizationFactory(name="Spoof", website=EVIL)
    blank = OrganizationFactory(website="")
    rewritten, blanked = stored_web_urls_normalize(Organization, field="website", label="name")
    assert rewritten == 1
    assert blanked == [("Spoof", EVIL)]
    websites = dict(Organization.objects.values_list("pk", "website"))
    assert websites == {
        fine.pk: "https://www.eff.org/",
        old_style.pk: "https://eff.example/",
        evil.pk: "",
        blank.pk: "",
    }
    report = stored_web_urls_report("Organization websites", rewritten, blanked)
    assert "Organization websites: 1 rewritten in normalized form, 1 blanked" in report
    assert "Spoof: 'https://evil.example\\\\@eff.org'" in report
    # Run again: nothing left to change, nothing to say.
    assert stored_web_urls_normalize(Organization, field="website") == (0, [])
    assert stored_web_urls_report("Organization websites", 0, []) == ""


@pytest.mark.django_db
@pytest.mark.parametrize("campaign", ["petition", "letter"])
def test_pages_link_an_organization_only_through_its_normalized_address(
    client, campaign: str
) -> None:
    # Rows written around full_clean (a shell, an old import) must not become links either.
    safe = OrganizationFactory(name="Safe Org", website="https://SAFE.example")
    spoof = OrganizationFactory(name="Spoof Org", website=EVIL)
    if campaign == "petition":
        petition = PetitionFactory()
        petition.sponsors.add(safe, spoof)
        url = reverse("petitions:detail", kwargs={"slug": petition.slug})
    else:
        letter = OpenLetterFactory()
        for organization in (safe, spoof):
            OrganizationSignatureFactory(letter=letter, organization=organization, approved=True)
        url = reverse("letters:detail", kwargs={"slug": letter.slug})
    html = client.get(url).content.decode()
    assert '<a href="https://safe.example/" rel="noopener">Safe Org</a>' in html
    assert "Spoof Org" in html
    assert "evil.example" not in html
