"""An organization's supporters (issue 18, item 4): the signers who ticked it, with the words they
agreed to, listed and downloaded by its data stewards, each download recorded; and who may not.
Every boundary is checked from both organizations of a pair: each sponsors the same petition and
has its own supporters."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization
from petitions.models import ConsentWording, Petition, Signature, SponsorOptIn, SupporterExport
from tests.factories import MembershipFactory, OrganizationFactory, PetitionFactory

pytestmark = pytest.mark.django_db

ROLE = Membership.Role
WORDING = "Organizations that may email me about their work: {}"
BOTH_WAYS = (("Oakland Privacy", "Media Alliance"), ("Media Alliance", "Oakland Privacy"))


def _sign(client, petition: Petition, email: str, *ticked: Organization, language: str = "en"):
    data = {
        "name": email.split("@")[0].title(),
        "email": email,
        "postal_code": "94612",
        "country": "US",
        "display": "short",
        "sponsor_opt_ins": [str(organization.pk) for organization in ticked],
    }
    url = reverse("petitions:sign", kwargs={"slug": petition.slug}).replace("/en/", f"/{language}/")
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Signature.objects.get(petition=petition, email=email)


def _confirm(signature: Signature, **extra) -> None:
    # Not held unless the test says so: many signatures from the test client's one address
    # trip the burst signal.
    Signature.objects.filter(pk=signature.pk).update(
        **{
            "status": Signature.Status.CONFIRMED,
            "confirmed_at": timezone.now(),
            "held": False,
            "flags": "",
            **extra,
        }
    )


@pytest.fixture
def world(client, django_capture_on_commit_callbacks):
    """One petition sponsored by both organizations, with signers who ticked one, both, none;
    and signers who should never be exported (pending, held, rejected, anonymized)."""
    oakland = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    alliance = OrganizationFactory(name="Media Alliance", slug="media-alliance")
    petition = PetitionFactory(title="Cancel the camera deal", offer_sponsor_opt_in=True)
    petition.sponsors.add(oakland, alliance)
    other = PetitionFactory(title="Keep encryption legal", offer_sponsor_opt_in=True)
    other.sponsors.add(oakland)
    with django_capture_on_commit_callbacks(execute=True):
        signed = {
            "ada": _sign(client, petition, "ada@example.org", oakland),
            "bo": _sign(client, petition, "bo@example.org", oakland, alliance),
            "cy": _sign(client, petition, "cy@example.org"),
            "di": _sign(client, other, "di@example.org", oakland),
            "pending": _sign(client, petition, "pending@example.org", oakland, alliance),
            "held": _sign(client, petition, "held@example.org", oakland, alliance),
            "rejected": _sign(client, petition, "rejected@example.org", oakland, alliance),
            "gone": _sign(client, petition, "gone@example.org", oakland, alliance),
            "formula": _sign(client, petition, "formula@example.org", alliance),
        }
    for key in ("ada", "bo", "cy", "di", "gone", "formula"):
        _confirm(signed[key])
    _confirm(signed["held"], held=True)
    Signature.objects.filter(pk=signed["rejected"].pk).update(status=Signature.Status.REJECTED)
    Signature.objects.filter(pk=signed["gone"].pk).update(anonymized_at=timezone.now())
    Signature.objects.filter(pk=signed["formula"].pk).update(name='=HYPERLINK("http://x.example")')
    members = {}
    for organization in (oakland, alliance):
        members[organization.name] = {
            role: MembershipFactory(organization=organization, role=role).user
            for role, _label in ROLE.choices
        }
    return {
        "orgs": {"Oakland Privacy": oakland, "Media Alliance": alliance},
        "petition": petition,
        "other": other,
        "signed": signed,
        "members": members,
    }


def _url(name: str, organization: Organization) -> str:
    return reverse(f"supporters:{name}", kwargs={"organization": organization.slug})


def _download(client, organization: Organization, **filters) -> list[list[str]]:
    response = client.post(_url("export", organization), filters)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="supporters-{organization.slug}-'
    )
    assert response["Cache-Control"] == "no-store"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_signing_keeps_the_words_each_organization_was_agreed_to_in(world, client) -> None:
    bo = world["signed"]["bo"]
    words = {opt_in.organization.name: opt_in.wording.text for opt_in in bo.sponsor_opt_ins.all()}
    assert words == {
        "Oakland Privacy": WORDING.format("Oakland Privacy"),
        "Media Alliance": WORDING.format("Media Alliance"),
    }
    # One row per distinct text, however many signers agreed to it.
    assert ConsentWording.objects.filter(text=WORDING.format("Oakland Privacy")).count() == 1
    italian = _sign(
        client, world["petition"], "it@example.org", world["orgs"]["Oakland Privacy"], language="it"
    )
    (opt_in,) = italian.sponsor_opt_ins.all()
    assert opt_in.wording.language == "it"
    assert opt_in.wording.text.endswith(": Oakland Privacy")
    assert opt_in.wording.text != WORDING.format("Oakland Privacy")


def test_a_data_steward_downloads_exactly_their_supporters(world, client) -> None:
    expected = {
        "Oakland Privacy": {"ada@example.org", "bo@example.org", "di@example.org"},
        "Media Alliance": {"bo@example.org", "formula@example.org"},
    }
    for name, _other in BOTH_WAYS:
        organization = world["orgs"][name]
        client.force_login(world["members"][name][ROLE.DATA_STEWARD])
        header, *rows = _download(client, organization)
        assert header == [
            "Name",
            "Email",
            "Postal code",
            "Country",
            "Campaign",
            "Came through the link of",
            "Consent given at",
            "Consent wording",
        ]
        assert {row[1] for row in rows} == expected[name]
        for row in rows:
            assert row[7] == WORDING.format(name)
            assert row[3] == "US"
        if name == "Media Alliance":
            formula = next(row for row in rows if row[1] == "formula@example.org")
            assert formula[0] == '\'=HYPERLINK("http://x.example")'


def test_the_list_shows_the_same_people_and_the_filters_narrow_it(world, client) -> None:
    oakland = world["orgs"]["Oakland Privacy"]
    client.force_login(world["members"]["Oakland Privacy"][ROLE.DATA_STEWARD])
    page = client.get(_url("list", oakland)).content.decode()
    assert "3 supporters" in page
    for email in ("ada@example.org", "bo@example.org", "di@example.org"):
        assert email in page
    assert "pending@example.org" not in page and "cy@example.org" not in page

    only = client.get(_url("list", oakland), {"petition": world["other"].pk}).content.decode()
    assert "1 supporter" in only and "di@example.org" in only and "ada@example.org" not in only
    _header, *rows = _download(client, oakland, petition=world["other"].pk)
    assert [row[1] for row in rows] == ["di@example.org"]

    SponsorOptIn.objects.filter(signature=world["signed"]["ada"]).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    _header, *rows = _download(client, oakland, since=since)
    assert {row[1] for row in rows} == {"bo@example.org", "di@example.org"}
    until = (timezone.localdate() - timedelta(days=5)).isoformat()
    _header, *rows = _download(client, oakland, until=until)
    assert [row[1] for row in rows] == ["ada@example.org"]


def test_bad_filters_get_a_message_and_download_nothing(world, client) -> None:
    oakland = world["orgs"]["Oakland Privacy"]
    alliance_only = PetitionFactory()
    alliance_only.sponsors.add(world["orgs"]["Media Alliance"])
    client.force_login(world["members"]["Oakland Privacy"][ROLE.DATA_STEWARD])
    today = timezone.localdate()
    for filters, message in (
        (
            {"since": today.isoformat(), "until": (today - timedelta(days=1)).isoformat()},
            "The end date must be on or after the start date.",
        ),
        ({"since": "yesterday"}, "Enter a valid date."),
        ({"petition": alliance_only.pk}, "Select a valid choice."),
    ):
        response = client.post(_url("export", oakland), filters)
        assert response.status_code == 400
        html = response.content.decode()
        assert message in html
        assert 'role="alert"' in html
        # Typed dates stay in the form; another organization's campaign is never offered.
        for name in ("since", "until"):
            if name in filters:
                assert f'name="{name}" value="{filters[name]}"' in html
        assert f'<option value="{alliance_only.pk}"' not in html
    assert not SupporterExport.objects.exists()
    assert not SponsorOptIn.objects.filter(exported_at__isnull=False).exists()


def test_each_download_is_recorded_for_the_admins_the_audit_log_and_the_signer(
    world, client
) -> None:
    alliance = world["orgs"]["Media Alliance"]
    steward = world["members"]["Media Alliance"][ROLE.DATA_STEWARD]
    client.force_login(steward)
    _download(client, alliance, petition=world["petition"].pk)

    export = SupporterExport.objects.get()
    assert (export.organization, export.exported_by, export.rows) == (alliance, steward, 2)
    assert export.petition == world["petition"]
    entry = LogEntry.objects.get(object_id=str(alliance.pk))
    assert entry.user == steward
    assert entry.change_message == (
        "Exported 2 supporters: Cancel the camera deal, consent from the start to today."
    )
    bo = world["signed"]["bo"]
    exported = dict(bo.sponsor_opt_ins.values_list("organization__name", "exported_at"))
    assert exported["Media Alliance"] is not None
    assert exported["Oakland Privacy"] is None

    client.force_login(world["members"]["Media Alliance"][ROLE.ADMIN])
    page = client.get(_url("exports", alliance)).content.decode()
    assert steward.get_full_name() in page and "Cancel the camera deal" in page
    client.force_login(world["members"]["Oakland Privacy"][ROLE.ADMIN])
    assert "Nobody has downloaded your supporters yet." in (
        client.get(_url("exports", world["orgs"]["Oakland Privacy"])).content.decode()
    )


@pytest.mark.parametrize("role", [ROLE.VIEWER, ROLE.EDITOR])
def test_a_viewer_or_editor_may_not_list_or_download(world, client, role) -> None:
    for name, _other in BOTH_WAYS:
        organization = world["orgs"][name]
        client.force_login(world["members"][name][role])
        assert client.get(_url("list", organization)).status_code == 403
        assert client.post(_url("export", organization)).status_code == 403
        assert client.get(_url("exports", organization)).status_code == 403
    assert not SupporterExport.objects.exists()


def test_a_data_steward_does_not_read_the_admins_list_of_downloads(world, client) -> None:
    oakland = world["orgs"]["Oakland Privacy"]
    client.force_login(world["members"]["Oakland Privacy"][ROLE.DATA_STEWARD])
    assert client.get(_url("exports", oakland)).status_code == 403


def test_another_organizations_supporters_are_a_404(world, client) -> None:
    for name, other in BOTH_WAYS:
        client.force_login(world["members"][name][ROLE.ADMIN])
        foreign = world["orgs"][other]
        assert client.get(_url("list", foreign)).status_code == 404
        assert client.post(_url("export", foreign)).status_code == 404
        assert client.get(_url("exports", foreign)).status_code == 404
    assert not SupporterExport.objects.exists()


@pytest.mark.parametrize("verification", ["pending", "rejected"])
def test_an_unverified_organization_takes_no_one_away(world, client, verification) -> None:
    oakland = world["orgs"]["Oakland Privacy"]
    Organization.objects.filter(pk=oakland.pk).update(verification=verification, verified_at=None)
    client.force_login(world["members"]["Oakland Privacy"][ROLE.DATA_STEWARD])
    listed = client.get(_url("list", oakland))
    refused = client.post(_url("export", oakland))
    assert refused.status_code == 403
    for page in (listed.content.decode(), refused.content.decode()):
        assert "once our staff have verified it" in page
        assert "3 supporters" in page
        # The count, and no one's details: not on the list, not on the refusal.
        for signature in Signature.objects.all():
            assert signature.email not in page
    assert not SupporterExport.objects.exists()
    assert not SponsorOptIn.objects.filter(exported_at__isnull=False).exists()


def test_a_page_of_the_list_is_recorded_like_a_download(world, client) -> None:
    oakland = world["orgs"]["Oakland Privacy"]
    steward = world["members"]["Oakland Privacy"][ROLE.DATA_STEWARD]
    client.force_login(steward)
    response = client.get(_url("list", oakland), {"petition": world["petition"].pk})
    assert "no-store" in response["Cache-Control"]
    view = SupporterExport.objects.get()
    assert (view.kind, view.rows, view.exported_by) == ("view", 2, steward)
    assert LogEntry.objects.get(object_id=str(oakland.pk)).change_message == (
        "Viewed 2 supporters on the list: Cancel the camera deal, consent from the start to today."
    )
    shown = set(
        SponsorOptIn.objects.filter(organization=oakland, exported_at__isnull=False).values_list(
            "signature__email", flat=True
        )
    )
    assert shown == {"ada@example.org", "bo@example.org"}
    client.force_login(world["members"]["Oakland Privacy"][ROLE.ADMIN])
    assert "Viewed on the list" in client.get(_url("exports", oakland)).content.decode()


def test_a_download_holds_exactly_the_people_its_record_counted(world) -> None:
    from petitions.services.supporters import supporter_export_record
    from petitions.supporters import supporters_of

    oakland = world["orgs"]["Oakland Privacy"]
    steward = world["members"]["Oakland Privacy"][ROLE.DATA_STEWARD]
    export = supporter_export_record(organization=oakland, user=steward)
    # Someone confirms between the record and the stream.
    late = world["signed"]["pending"]
    _confirm(late)
    Signature.objects.filter(pk=late.pk).update(
        confirmed_at=export.created_at + timedelta(seconds=1)
    )
    streamed = supporters_of(organization=oakland, as_of=export.created_at)
    assert streamed.count() == export.rows == 3
    assert supporters_of(organization=oakland).count() == 4


@pytest.mark.parametrize(
    "filters",
    [
        {"until": "9999-12-31"},
        {"since": "0001-01-01"},
        {"since": "0001-01-01", "until": "9999-12-31"},
    ],
)
def test_the_widest_dates_are_answered_not_a_500(world, client, filters) -> None:
    oakland = world["orgs"]["Oakland Privacy"]
    client.force_login(world["members"]["Oakland Privacy"][ROLE.DATA_STEWARD])
    assert client.get(_url("list", oakland), filters).status_code == 200
    _header, *rows = _download(client, oakland, **filters)
    assert len(rows) == 3


def test_the_signers_page_says_who_received_their_details(world, client) -> None:
    from accounts.my_signatures import MY_SIGNATURES_TOKEN_PURPOSE, my_signatures_refs
    from mechanisms.tokens import token_make

    alliance = world["orgs"]["Media Alliance"]
    client.force_login(world["members"]["Media Alliance"][ROLE.DATA_STEWARD])
    _download(client, alliance)
    client.logout()
    bo = world["signed"]["bo"]
    refs = my_signatures_refs(canonical_email=bo.canonical_email)
    assert refs
    token = token_make(purpose=MY_SIGNATURES_TOKEN_PURPOSE, value=refs)
    page = client.get(reverse("accounts:my_signatures_list", kwargs={"token": token}))
    html = page.content.decode()
    details = (
        "Name, Email, Postal code, Country, Campaign, Came through the link of, "
        "Consent given at, Consent wording."
    )
    assert re.search(rf"Media Alliance received these details of yours on [^:]+: {details}", html)
    assert f"Oakland Privacy may receive these details of yours, and has not yet: {details}" in html


def test_staff_read_every_export_in_the_admin_and_change_none(world, client, admin_client) -> None:
    oakland = world["orgs"]["Oakland Privacy"]
    client.force_login(world["members"]["Oakland Privacy"][ROLE.DATA_STEWARD])
    _download(client, oakland)
    export = SupporterExport.objects.get()
    listing = admin_client.get(reverse("admin:petitions_supporterexport_changelist"))
    assert listing.status_code == 200
    assert "Oakland Privacy" in listing.content.decode()
    page = reverse("admin:petitions_supporterexport_change", args=[export.pk])
    assert admin_client.get(page).status_code == 200
    assert admin_client.post(page, {"rows": "0"}).status_code == 403
    delete = reverse("admin:petitions_supporterexport_delete", args=[export.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    export.refresh_from_db()
    assert export.rows == 3
