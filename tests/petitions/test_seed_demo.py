from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from accounts.models import Organization, User
from petitions.demo_signatures import DEMO_PETITION, HELD, MODERATOR_EMAIL, SPAM_WAVE, SUPPORTERS
from petitions.demo_workspace import MEMBER_EMAIL, SIGNERS, WORKSPACE_ORGANIZATION
from petitions.models import Petition, PetitionUpdate, Signature, Topic

pytestmark = pytest.mark.django_db

GENERATED_LOGIN = re.compile(r"Staff login: (\S+) / (\S+) \(shown only now\)")


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, int, int, int]:
    return (
        Topic.objects.count(),
        Organization.objects.count(),
        Petition.objects.count(),
        User.objects.count(),
    )


@pytest.fixture(autouse=True)
def _no_demo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)


def test_second_run_creates_nothing() -> None:
    _seed()
    first = _counts()

    output = _seed()

    assert _counts() == first
    # The staff login, the demo moderator and the organization's login; six petitions and the
    # organization's draft.
    assert first == (4, 11, 7, 3)
    assert (
        "Demo data: 4 topics (0 new), 11 organizations (0 new), 6 petitions (0 new), "
        "staff account admin@cosign.test (existing)." in output
    )


def test_seeded_content_is_valid_and_complete() -> None:
    _seed()

    for obj in [*Topic.objects.all(), *Organization.objects.all(), *Petition.objects.all()]:
        obj.full_clean()
    assert all(org.is_verified and org.verified_at for org in Organization.objects.all())
    for petition in Petition.objects.select_related("topic").prefetch_related("sponsors"):
        assert petition.topic is not None
        assert petition.sponsors.exists()
        # Only the moderation demo's petition has signers; the counter counted them exactly.
        counted = petition.signatures.filter(counted=True).count()
        assert petition.signature_count == counted
        # TextField's max_length is only enforced by forms, so full_clean() does not check it.
        assert len(petition.summary) <= 600
        assert "<" not in petition.body
        assert "\n\n" in petition.body
    assert Petition.objects.get(slug="fourth-amendment-not-for-sale").goal == 5000


def test_only_the_closed_petition_refuses_signatures() -> None:
    _seed()

    closed = Petition.objects.get(slug="drop-proctorio")
    assert closed.status == Petition.Status.CLOSED
    assert closed.opens_at < closed.closes_at
    assert not closed.is_accepting_signatures()
    others = Petition.objects.exclude(pk=closed.pk).filter(review="")
    assert others.count() == 5
    assert all(petition.is_accepting_signatures() for petition in others)
    # The organization's draft, being written, takes none.
    draft = Petition.objects.get(review="editing")
    assert not draft.is_accepting_signatures()


def test_admin_password_comes_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ADMIN_EMAIL", "Staff@Example.org")
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "demo-password-1")

    output = _seed()

    user = User.objects.get(email="staff@example.org")
    assert user.is_staff and user.is_superuser
    assert user.check_password("demo-password-1")
    assert "demo-password-1" not in output


def test_admin_password_from_environment_replaces_existing_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _seed()
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "demo-password-2")

    _seed()

    assert User.objects.get(email="admin@cosign.test").check_password("demo-password-2")


def test_generated_password_is_printed_once_and_kept() -> None:
    first = _seed()
    match = GENERATED_LOGIN.search(first)
    assert match is not None
    email, password = match.groups()
    assert email == "admin@cosign.test"

    second = _seed()

    assert password not in second
    assert "already exists" in second
    assert User.objects.get(email=email).check_password(password)


def test_demo_reads_in_italian_and_has_an_update() -> None:
    _seed()
    translated = Petition.objects.exclude(title_it__isnull=True).exclude(title_it="")
    assert translated.count() >= 2
    for petition in translated:
        assert petition.summary_it and petition.body_it and petition.demand_it
    assert all(topic.name_it for topic in Topic.objects.all())
    update = PetitionUpdate.objects.get()
    assert update.published_at is not None and update.title_it
    closed = Petition.objects.get(status=Petition.Status.CLOSED)
    assert closed.outcome


def test_demo_petition_to_local_officials_has_officials_in_several_cities() -> None:
    _seed()
    petition = Petition.objects.get(slug="cancel-police-doorbell-partnerships")
    localities = {t.locality for t in petition.targets.all() if t.level == "local" and t.email}
    assert {"Oakland", "San Francisco", "Chicago", "New York"} <= localities
    assert petition.delivery_schedule == "weekly"
    assert all(p.targets.exists() for p in Petition.objects.all())


def test_demo_has_signers_to_moderate_and_a_moderator_who_is_not_a_superuser() -> None:
    output = _seed()

    petition = Petition.objects.get(slug=DEMO_PETITION)
    assert petition.signature_count == len(SUPPORTERS) + len(SPAM_WAVE) + len(SIGNERS)
    held = petition.signatures.filter(held=True)
    assert held.count() == len(HELD)
    assert all(signature.flags for signature in held)
    assert not held.filter(counted=True).exists()
    assert petition.signatures.filter(status=Signature.Status.CONFIRMED).count() == (
        len(SUPPORTERS) + len(SPAM_WAVE) + len(HELD) + len(SIGNERS)
    )
    moderator = User.objects.get(email=MODERATOR_EMAIL)
    assert moderator.is_staff and not moderator.is_superuser
    assert list(moderator.groups.values_list("name", flat=True)) == ["Moderator"]
    assert re.search(rf"Moderator login: {MODERATOR_EMAIL} / \S+ \(shown only now\)", output)


def test_the_organizations_workspace_has_two_weeks_through_three_links(client) -> None:
    output = _seed()
    match = re.search(rf"Organization login \(Oakland Privacy\): {MEMBER_EMAIL} / (\S+)", output)
    assert match
    assert client.login(username=MEMBER_EMAIL, password=match.group(1))
    petition = Petition.objects.get(slug=DEMO_PETITION)
    mine = petition.signatures.filter(email__endswith="@supporters.test")
    assert mine.count() == len(SIGNERS)
    assert set(mine.values_list("source__slug", flat=True)) == {
        WORKSPACE_ORGANIZATION,
        "fight-for-the-future",
        None,
    }
    days = {signature.confirmed_at.date() for signature in mine}
    assert len(days) >= 10
    dashboard = client.get(f"/en/organizations/{WORKSPACE_ORGANIZATION}/petitions/{DEMO_PETITION}/")
    assert dashboard.status_code == 200
    assert "Fight for the Future's link" in dashboard.content.decode()
    supporters = client.get(f"/en/organizations/{WORKSPACE_ORGANIZATION}/supporters/")
    assert supporters.status_code == 200
    opted_in = mine.filter(sponsor_opt_ins__organization__slug=WORKSPACE_ORGANIZATION).count()
    assert opted_in > len(SIGNERS) // 2
    assert f"{opted_in} supporters" in supporters.content.decode()
    # Its draft, being written, with its history and a co-sponsor invited.
    draft = Petition.objects.get(organization__slug=WORKSPACE_ORGANIZATION, review="editing")
    workspace = client.get(f"/en/organizations/{WORKSPACE_ORGANIZATION}/campaigns/")
    assert draft.title in workspace.content.decode()
    page = client.get(f"/en/organizations/{WORKSPACE_ORGANIZATION}/campaigns/petition/{draft.pk}/")
    assert page.status_code == 200
    assert "Fight for the Future: Co-sponsor, waiting for an answer" in page.content.decode()
    assert draft.versions.count() >= 2
    assert draft.targets.exists()
