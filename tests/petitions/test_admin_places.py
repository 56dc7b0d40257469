"""The admin pages for targets and postal areas, finding signatures whose postal code was not
found, and a signature's place following a postal code or country staff correct."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from petitions import services
from petitions.models import PostalArea, Target
from tests.factories import SignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = User.objects.create_superuser("moderator@cosign.test", "a-long-password")
    client.force_login(admin)
    return client


def test_target_and_postal_area_pages_render(staff_client) -> None:
    target = Target.objects.create(
        name="Barbara Lee", title="Mayor of Oakland", level="local", country="US", region="CA",
        locality="Oakland",
    )  # fmt: skip
    area = PostalArea.objects.create(
        country="DE", postal_code="10115", region="BE", locality="Berlin"
    )
    for name, obj in {"petitions_target": target, "petitions_postalarea": area}.items():
        assert staff_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
        assert staff_client.get(reverse(f"admin:{name}_change", args=[obj.pk])).status_code == 200
        assert staff_client.get(reverse(f"admin:{name}_add")).status_code == 200
    search = staff_client.get(reverse("admin:petitions_target_changelist"), {"q": "oakland"})
    assert "Mayor of Oakland" in search.content.decode()
    without_email = staff_client.get(
        reverse("admin:petitions_target_changelist"), {"email__isempty": "1"}
    )
    assert "Mayor of Oakland" in without_email.content.decode()


def test_postal_area_typed_in_the_admin_is_stored_as_codes_are_matched(staff_client) -> None:
    response = staff_client.post(
        reverse("admin:petitions_postalarea_add"),
        {"country": "GB", "postal_code": " sw1a   1aa", "region": "ENG", "locality": "London"},
    )
    assert response.status_code == 302
    assert PostalArea.objects.get().postal_code == "SW1A 1AA"


def test_staff_list_signatures_whose_postal_code_was_not_found(staff_client) -> None:
    found = SignatureFactory(name="Found Signer", postal_code="94612")
    lost = SignatureFactory(name="Lost Signer", country="FR", postal_code="75001")
    for signature in (found, lost):
        services.signature_confirm(signature_id=signature.pk)
    url = reverse("admin:petitions_signature_changelist")
    page = staff_client.get(url, {"postal_code_known": "not_found"}).content.decode()
    assert "Lost Signer" in page
    assert "Found Signer" not in page
    change = staff_client.get(reverse("admin:petitions_signature_change", args=[found.pk]))
    content = change.content.decode()
    assert "Oakland" in content
    assert 'name="locality"' not in content  # shown, not editable


def _change_form_data(page) -> dict[str, object]:
    """What the signature's change form posts untouched: its fields and the inline's forms."""
    form = page.context["adminform"].form
    data: dict[str, object] = {
        name: value
        for name, field in form.fields.items()
        if (value := form.initial.get(name, field.initial)) is not None
    }
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data |= {management.add_prefix(name): value for name, value in management.initial.items()}
    return data


@pytest.mark.parametrize(
    ("changes", "place"),
    [
        ({"postal_code": "10001"}, ("NY", "New York", True)),
        ({"postal_code": "99999"}, ("", "", False)),
        ({"country": "FR"}, ("", "", False)),
    ],
)
def test_a_postal_code_or_country_corrected_in_the_admin_moves_the_signature(
    staff_client, changes, place
) -> None:
    signature = SignatureFactory(postal_code="94612", country="US")
    services.signature_confirm(signature_id=signature.pk)
    url = reverse("admin:petitions_signature_change", args=[signature.pk])
    data = _change_form_data(staff_client.get(url)) | changes
    response = staff_client.post(url, data)
    assert response.status_code == 302
    signature.refresh_from_db()
    assert (signature.region, signature.locality, signature.postal_code_known) == place


def test_editing_only_the_name_in_the_admin_leaves_the_place_alone(staff_client) -> None:
    signature = SignatureFactory(postal_code="94612", country="US")
    services.signature_confirm(signature_id=signature.pk)
    # Not what the code resolves to, so a needless second lookup would show.
    type(signature).objects.filter(pk=signature.pk).update(locality="Piedmont")
    url = reverse("admin:petitions_signature_change", args=[signature.pk])
    data = _change_form_data(staff_client.get(url)) | {"name": "Ada L."}
    assert staff_client.post(url, data).status_code == 302
    signature.refresh_from_db()
    assert (signature.name, signature.locality) == ("Ada L.", "Piedmont")


def test_a_pending_signature_gets_its_place_only_when_confirmed(staff_client) -> None:
    signature = SignatureFactory(postal_code="94612", country="US")
    url = reverse("admin:petitions_signature_change", args=[signature.pk])
    data = _change_form_data(staff_client.get(url)) | {"postal_code": "10001"}
    assert staff_client.post(url, data).status_code == 302
    signature.refresh_from_db()
    assert (signature.postal_code, signature.postal_code_known) == ("10001", None)
    services.signature_confirm(signature_id=signature.pk)
    signature.refresh_from_db()
    assert signature.locality == "New York"


def _target_form(**changes: str) -> dict[str, str]:
    return {
        "name": "Barbara Lee",
        "title": "Mayor of Oakland",
        "level": "local",
        "country": "US",
        "region": "CA",
        "locality": "Oakland",
        "email": "mayor@oaklandca.example",
        "active": "on",
        **changes,
    }


@pytest.mark.parametrize(
    ("contact_url", "message"),
    [
        ("https://evil.example\\@oaklandca.gov", "cannot contain a backslash"),
        ("https://mayor@evil.example", "Remove the part before the @ sign"),
        ("https:/evil.example", "Enter a full web address"),
        ("data:text/html,hi", "starts with http:// or https://"),
    ],
)
def test_a_target_contact_page_a_browser_reads_differently_is_refused(
    staff_client, contact_url: str, message: str
) -> None:
    response = staff_client.post(
        reverse("admin:petitions_target_add"), _target_form(contact_url=contact_url)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Target.objects.exists()


def test_a_target_contact_page_is_stored_as_a_browser_reads_it(staff_client) -> None:
    response = staff_client.post(
        reverse("admin:petitions_target_add"), _target_form(contact_url="OaklandCA.gov/Mayor")
    )
    assert response.status_code == 302
    assert Target.objects.get().contact_url == "https://oaklandca.gov/Mayor"
