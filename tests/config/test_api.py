"""The API (issue 19): the public read API's open data, caching, CORS and limits; organizations'
tokens, which read their own organization's data only, in OSDI's shape."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from accounts.api_tokens import api_token_create
from accounts.models import ApiToken, Membership, Organization, User
from petitions.models import ConsentWording, Petition, SponsorOptIn, SupporterExport
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory, TargetFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough password 42"


@pytest.fixture
def published(db) -> Petition:
    target = TargetFactory()
    petition = PetitionFactory(
        slug="end-ring", title_en="End Ring", title_it="Basta Ring", targets=[target]
    )
    for n in range(6):
        SignatureFactory(
            petition=petition, confirmed=True, country="US", region="CA", name=f"Ana Diaz{n}"
        )
    SignatureFactory(petition=petition, confirmed=True, country="IT", region="RM")
    SignatureFactory(petition=petition)  # waiting for confirmation
    Petition.objects.filter(pk=petition.pk).update(signature_count=7)
    petition.refresh_from_db()
    return petition


def test_a_published_petition_reads_as_open_data_in_both_languages(client, published) -> None:
    answer = client.get("/api/v1/petitions/end-ring/")
    assert answer.status_code == 200
    data = answer.json()
    assert data["title"] == {"en": "End Ring", "it": "Basta Ring"}
    assert data["signature_count"] == 7
    assert data["urls"]["page"].endswith("/en/p/end-ring/")
    # No area under five signers is listed, and no count that would give one away: the total
    # (7) less the United States (6) would be Italy's 1, so the United States is held back too.
    assert data["by_country"] == [] and data["by_region"] == []
    # Names only as the page shows them; no email or postal code anywhere.
    text = answer.content.decode()
    assert "@example.net" not in text and "94612" not in text
    assert all(signer["name"].endswith(".") for signer in data["recent_signers"])


def _sign(petition: Petition, n: int, *, country: str, region: str = "") -> None:
    for _ in range(n):
        SignatureFactory(petition=petition, confirmed=True, country=country, region=region)


def test_a_regions_small_count_cannot_be_had_by_subtraction(client) -> None:
    """The review's example: eight US signers, six in California and two in New York."""
    petition = PetitionFactory(slug="eight")
    _sign(petition, 6, country="US", region="CA")
    _sign(petition, 2, country="US", region="NY")
    _sign(petition, 9, country="FR")
    data = client.get("/api/v1/petitions/eight/").json()
    # The United States (8) less California (6) would be New York's 2: neither state is listed.
    assert data["by_country"] == [
        {"country": "FR", "region": "", "signatures": 9},
        {"country": "US", "region": "", "signatures": 8},
    ]
    assert data["by_region"] == []
    # Once three US signers of no known state are counted, what the listed state leaves (5) is
    # no longer New York's alone, and California is listed.
    _sign(petition, 3, country="US")
    data = client.get("/api/v1/petitions/eight/", {"_": "again"}).json()
    assert data["by_region"] == [{"country": "US", "region": "CA", "signatures": 6}]


def test_a_countrys_small_count_cannot_be_had_from_the_total(client) -> None:
    """The petition's total is exact (its history adds up to it), so it is a level of its own:
    the total less the countries listed must not give a small country's count."""
    petition = PetitionFactory(slug="total")
    _sign(petition, 12, country="US", region="CA")
    _sign(petition, 5, country="DE")
    _sign(petition, 7, country="FR")
    _sign(petition, 3, country="IT")
    Petition.objects.filter(pk=petition.pk).update(signature_count=27)
    data = client.get("/api/v1/petitions/total/").json()
    history = client.get("/api/v1/petitions/total/history/").json()
    total = sum(day["signatures"] for day in history["daily"])
    assert total == data["signature_count"] == 27
    # 27 - 12 - 7 - 5 would be Italy's 3: the smallest listed country, Germany, is held back.
    assert data["by_country"] == [
        {"country": "US", "region": "", "signatures": 12},
        {"country": "FR", "region": "", "signatures": 7},
    ]
    assert total - sum(row["signatures"] for row in data["by_country"]) == 8
    assert data["by_region"] == [{"country": "US", "region": "CA", "signatures": 12}]


def test_history_and_count(client, published) -> None:
    history = client.get("/api/v1/petitions/end-ring/history/").json()
    assert sum(day["signatures"] for day in history["daily"]) == 7
    assert sum(hour["signatures"] for hour in history["hourly"]) == 7
    count = client.get("/api/v1/petitions/end-ring/count/").json()
    assert count == {"slug": "end-ring", "signature_count": 7, "goal": 100, "status": "open"}


def test_drafts_are_not_in_the_api(client, published) -> None:
    draft = PetitionFactory(status=Petition.Status.DRAFT, slug="secret")
    assert client.get("/api/v1/petitions/secret/").status_code == 404
    assert client.get("/api/v1/petitions/secret/count/").status_code == 404
    slugs = [row["slug"] for row in client.get("/api/v1/petitions/").json()["results"]]
    assert slugs == ["end-ring"]
    assert draft.slug not in slugs


def test_answers_are_conditional_cacheable_and_open_to_other_origins(client, published) -> None:
    first = client.get("/api/v1/petitions/end-ring/", HTTP_ORIGIN="https://news.example")
    assert first["Access-Control-Allow-Origin"] == "*"
    assert "public" in first["Cache-Control"] and "max-age=30" in first["Cache-Control"]
    again = client.get("/api/v1/petitions/end-ring/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    listed = client.get("/api/v1/petitions/?status=open", HTTP_IF_NONE_MATCH='"other"')
    assert listed.status_code == 200 and listed["ETag"]


def test_over_the_limit_the_api_answers_429_with_retry_after(client, published, settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": {"ip": ["3/m"], "global": []}}
    # A query string each, so no answer comes from the page cache.
    answers = [client.get(f"/api/v1/petitions/?page=1&n={n}") for n in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1]["Retry-After"] == "60"
    assert "throttled" in answers[-1].json()["detail"].lower()


# --- Organizations' tokens ----------------------------------------------------------------------


def _admin(organization: Organization, email: str) -> User:
    user = User.objects.create_user(email, PASSWORD)
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.ADMIN)
    return user


def _supporter(petition: Petition, organization: Organization, email: str) -> SponsorOptIn:
    signature = SignatureFactory(petition=petition, confirmed=True, email=email, name="Rosa Chen")
    wording = ConsentWording.objects.get_or_create(
        digest=f"d-{organization.pk}",
        defaults={"text": f"Yes, {organization.name}", "language": "en"},
    )[0]
    return SponsorOptIn.objects.create(
        signature=signature, organization=organization, wording=wording
    )


@pytest.fixture
def pair(published):
    a = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    b = OrganizationFactory(name="Media Alliance", slug="media-alliance")
    other_petition = PetitionFactory(slug="ban-face-recognition")
    published.sponsors.add(a)
    other_petition.sponsors.add(b)
    return {
        a: (published, _supporter(published, a, "rosa@a.example"), _admin(a, "admin@a.example")),
        b: (
            other_petition,
            _supporter(other_petition, b, "li@b.example"),
            _admin(b, "admin@b.example"),
        ),
    }


def _token(organization, user, scope=ApiToken.Scope.READ_SUPPORTERS) -> str:
    return api_token_create(organization=organization, user=user, name="CRM", scope=scope)[1]


def _get(path: str, key: str, *, osdi_header: bool = False):
    headers = (
        {"HTTP_OSDI_API_TOKEN": key} if osdi_header else {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    )
    return Client().get(path, **headers)


@pytest.mark.parametrize("reader_index", [0, 1])
def test_a_token_reads_its_own_organization_and_never_the_others(pair, reader_index) -> None:
    organizations = list(pair)
    reader, other = organizations[reader_index], organizations[1 - reader_index]
    petition, opt_in, admin = pair[reader]
    other_petition, other_opt_in, _other_admin = pair[other]
    key = _token(reader, admin)

    people = _get("/api/v1/osdi/people/", key)
    assert people.status_code == 200
    assert people["Content-Type"] == "application/hal+json"
    emails = [p["email_addresses"][0]["address"] for p in people.json()["_embedded"]["osdi:people"]]
    assert emails == [opt_in.signature.email]
    consent = people.json()["_embedded"]["osdi:people"][0]["custom_fields"]["consent_wording"]
    assert consent == f"Yes, {reader.name}"
    # The other's people and petitions: by id, as if they did not exist.
    assert _get(f"/api/v1/osdi/people/{other_opt_in.pk}/", key).status_code == 404
    assert _get(f"/api/v1/osdi/petitions/{other_petition.pk}/", key).status_code == 404
    assert _get(f"/api/v1/osdi/petitions/{other_petition.pk}/signatures/", key).status_code == 404
    listed = _get("/api/v1/osdi/petitions/", key).json()["_embedded"]["osdi:petitions"]
    assert [p["identifiers"] for p in listed] == [[f"cosign:{petition.pk}"]]
    # Every page of people read is recorded as an export by the token's maker.
    export = SupporterExport.objects.get(organization=reader)
    assert (export.kind, export.rows, export.exported_by) == ("api", 1, admin)
    assert not SupporterExport.objects.filter(organization=other).exists()


@pytest.mark.parametrize("reader_index", [0, 1])
def test_pagination_links_stay_within_the_organization(pair, reader_index) -> None:
    reader = list(pair)[reader_index]
    petition, _opt_in, admin = pair[reader]
    for n in range(4):
        _supporter(petition, reader, f"more{n}@{reader.slug}.example")
    key = _token(reader, admin)
    page = _get("/api/v1/osdi/people/?per_page=2", key).json()
    assert (page["total_records"], page["total_pages"]) == (5, 3)
    seen = []
    href = "/api/v1/osdi/people/?per_page=2"
    while href:
        body = _get(href, key).json()
        seen += [p["email_addresses"][0]["address"] for p in body["_embedded"]["osdi:people"]]
        href = body["_links"].get("next", {}).get("href", "").replace("http://testserver", "")
    assert len(seen) == 5 and all(reader.slug in e or e.startswith(("rosa", "li")) for e in seen)


def test_a_revoked_or_wrong_token_gets_401_at_once(pair) -> None:
    organization = next(iter(pair))
    _petition, _opt_in, admin = pair[organization]
    key = _token(organization, admin)
    assert _get("/api/v1/osdi/", key, osdi_header=True).status_code == 200
    token = ApiToken.objects.get()
    token.revoked_at = timezone.now()
    token.save()
    refused = _get("/api/v1/osdi/", key)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert _get("/api/v1/osdi/", key[:-1] + "x").status_code == 401
    assert Client().get("/api/v1/osdi/").status_code == 401


def test_a_campaigns_token_cannot_read_people(pair) -> None:
    organization = next(iter(pair))
    petition, _opt_in, admin = pair[organization]
    key = _token(organization, admin, scope=ApiToken.Scope.READ_CAMPAIGNS)
    assert _get("/api/v1/osdi/petitions/", key).status_code == 200
    assert _get("/api/v1/osdi/people/", key).status_code == 403
    assert _get(f"/api/v1/osdi/petitions/{petition.pk}/signatures/", key).status_code == 403
    assert not SupporterExport.objects.exists()


def test_a_token_records_when_it_was_last_used(pair) -> None:
    organization = next(iter(pair))
    _petition, _opt_in, admin = pair[organization]
    key = _token(organization, admin, scope=ApiToken.Scope.READ_CAMPAIGNS)
    assert ApiToken.objects.get().last_used_at is None
    _get("/api/v1/osdi/petitions/", key)
    assert ApiToken.objects.get().last_used_at is not None


def test_only_the_organizations_administrators_make_and_revoke_tokens(client, pair) -> None:
    organization = next(iter(pair))
    _petition, _opt_in, admin = pair[organization]
    page = f"/en/organizations/{organization.slug}/api-tokens/"
    viewer = User.objects.create_user("viewer@a.example", PASSWORD)
    Membership.objects.create(user=viewer, organization=organization, role="viewer")
    client.force_login(viewer)
    assert client.get(page).status_code == 403
    stranger = User.objects.create_user("stranger@x.example", PASSWORD)
    client.force_login(stranger)
    assert client.get(page).status_code == 404

    client.force_login(admin)
    missing = client.post(page, {"name": "Our CRM"})
    assert (
        missing.status_code == 400 and "Choose what the token may do." in missing.content.decode()
    )
    assert not ApiToken.objects.exists()
    made = client.post(page, {"name": "Our CRM", "scope": "read_supporters"})
    key = made.context["key"]
    assert key.startswith("cosign_") and key in made.content.decode()
    token = ApiToken.objects.get()
    assert key not in (token.digest, token.prefix)
    # Shown once: the list shows its prefix only.
    assert key not in client.get(page).content.decode()
    client.post(f"{page}{token.pk}/revoke/")
    assert _get("/api/v1/osdi/", key).status_code == 401


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("per_page=0", "“per_page” must be from 1 to 100."),
        ("per_page=many", "“per_page” must be a whole number."),
        ("page=-1", "“page” must be 1 or more."),
        ("status=secret", "“status” must be one of: open, closed, archived."),
        ("topic=a%00b", "“topic” must be a slug"),
    ],
)
def test_bad_parameters_are_a_clear_400(client, published, query, message) -> None:
    answer = client.get(f"/api/v1/petitions/?{query}")
    assert answer.status_code == 400
    assert message in answer.json()["detail"]


def test_unknown_parameters_and_paths(client, published) -> None:
    # A client's cache-busting parameter is ignored; an unknown path is the API's JSON 404.
    assert client.get("/api/v1/petitions/?_=1701234567").status_code == 200
    missing = client.get("/api/v1/nothing/here/")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})


@pytest.mark.parametrize("reader_index", [0, 1])
def test_a_webhooks_token_manages_its_own_organizations_endpoints_only(
    pair, settings, reader_index
) -> None:
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    organizations = list(pair)
    reader, other = organizations[reader_index], organizations[1 - reader_index]
    key = _token(reader, pair[reader][2], scope=ApiToken.Scope.MANAGE_WEBHOOKS)
    other_key = _token(other, pair[other][2], scope=ApiToken.Scope.MANAGE_WEBHOOKS)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    made = Client().post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "events": ["milestone.reached"]},
        content_type="application/json",
        **auth,
    )
    assert made.status_code == 201
    assert made.json()["secret"].startswith("whsec_")
    endpoint_id = made.json()["id"]
    bad = Client().post(
        "/api/v1/webhooks/", {"url": "http://127.0.0.1:9/", "events": ["nope"]},
        content_type="application/json", **auth,
    )  # fmt: skip
    assert bad.status_code == 400
    listed = Client().get("/api/v1/webhooks/", **auth).json()
    assert [row["id"] for row in listed] == [endpoint_id] and "secret" not in listed[0]
    # The other organization's token: neither sees nor removes it.
    assert _get("/api/v1/webhooks/", other_key).json() == []
    gone = Client().delete(
        f"/api/v1/webhooks/{endpoint_id}/", HTTP_AUTHORIZATION=f"Bearer {other_key}"
    )
    assert gone.status_code == 404
    # A token of another scope may not touch webhooks.
    reading = _token(reader, pair[reader][2])
    assert _get("/api/v1/webhooks/", reading).status_code == 403
    assert Client().delete(f"/api/v1/webhooks/{endpoint_id}/", **auth).status_code == 204
    assert _get("/api/v1/webhooks/", key).json() == []


def test_a_shared_answer_serves_readers_on_other_sites_too(client, published, settings) -> None:
    settings.PETITION_PAGE_CACHE_SECONDS = 60
    first = client.get("/api/v1/petitions/end-ring/count/")  # no Origin: a server, a script
    assert first["Access-Control-Allow-Origin"] == "*"
    # The next reader is a browser on a newspaper's site, served the copy the first one made.
    Petition.objects.filter(slug="end-ring").update(signature_count=99)
    browser = client.get("/api/v1/petitions/end-ring/count/", HTTP_ORIGIN="https://news.example")
    assert browser.json()["signature_count"] == 7  # the shared copy
    assert browser["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in browser["Access-Control-Expose-Headers"]


def test_a_token_stops_working_when_its_maker_stops_administering(pair) -> None:
    organization = next(iter(pair))
    _petition, _opt_in, admin = pair[organization]
    key = _token(organization, admin)
    assert _get("/api/v1/osdi/people/", key).status_code == 200
    Membership.objects.filter(user=admin).update(role="viewer")
    assert _get("/api/v1/osdi/people/", key).status_code == 401
    Membership.objects.filter(user=admin).update(role="admin")
    User.objects.filter(pk=admin.pk).update(is_active=False)
    assert _get("/api/v1/osdi/people/", key).status_code == 401


def test_supporters_details_go_only_where_an_administrator_sent_them(pair, settings) -> None:
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    organization = next(iter(pair))
    key = _token(organization, pair[organization][2], scope=ApiToken.Scope.MANAGE_WEBHOOKS)
    for body in (
        {"url": "http://127.0.0.1:9/", "events": ["signature.confirmed"]},
        {"url": "http://127.0.0.1:9/", "kind": "osdi_push", "osdi_api_key": "k"},
    ):
        refused = Client().post(
            "/api/v1/webhooks/", body, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )  # fmt: skip
        assert refused.status_code == 403
        assert "administrator" in refused.json()["detail"]
    deep = "[" * 100_000 + "]" * 100_000
    nested = Client().post(
        "/api/v1/webhooks/", deep, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert nested.status_code == 400


def test_open_data_gives_no_small_target_count_and_no_withheld_name(client, published) -> None:
    SignatureFactory(petition=published, confirmed=True, display="withheld", name="Secret Person")
    data = client.get("/api/v1/petitions/end-ring/").json()
    assert all(row["signatures"] is None or row["signatures"] >= 5 for row in data["targets"])
    withheld = [s for s in data["recent_signers"] if s["withheld"]]
    assert withheld and withheld[0]["name"] is None
    assert "Secret" not in json.dumps(data)
