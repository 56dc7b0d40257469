"""A moderator at work, in a browser: a burst of spam hit a petition. Part of it was held for
review, part got through and was counted before the burst was noticed. The moderator (a staff
member of the Moderator group, not a superuser) rejects the held ones from the flagged queue
with a reason, marks the counted ones as spam, sees the public count drop, and finds both bulk
actions in the audit log."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import MODERATOR
from petitions import services
from petitions.models import Petition, Signature
from tests.conftest import STAFF_PASSWORD, staff_in_role
from tests.e2e.helpers import public_count, screenshot, signers_listed, visit
from tests.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def burst(transactional_db) -> Petition:
    petition = PetitionFactory(title="Cancel the doorbell camera partnership in Oakland")
    for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson"):
        SignatureFactory(petition=petition, name=name, display="full", confirmed=True)
    # Got through before the burst tripped the signal: confirmed, counted, flagged afterwards.
    for n in range(3):
        SignatureFactory(
            petition=petition, name=f"Buy Cheap Pills {n}", display="full", confirmed=True,
            flags="ip_burst",
        )  # fmt: skip
    # Held for review once it had: neither counted nor shown.
    for n in range(2):
        SignatureFactory(
            petition=petition, name=f"Casino Bonus {n}", display="full", held=True,
            flags="ip_burst disposable",
        )  # fmt: skip
    services.petition_counts_update()
    return petition


def _select_all_and_run(page: Page, action: str) -> None:
    for checkbox in page.get_by_role("checkbox", name="Select this object for an action").all():
        checkbox.check()
    page.get_by_role("combobox", name="Action").select_option(label=action)
    page.get_by_role("button", name="Go").click()


def test_a_moderator_rejects_a_batch_of_spam_and_the_public_count_drops(
    browse, burst, settings
) -> None:
    settings.STAFF_REQUIRE_2FA = False  # its own journey: tests/e2e/test_two_factor_journey.py
    staff_in_role(MODERATOR, "moderator@cosign.example")
    public = browse()
    visit(public, burst.get_absolute_url())
    assert public_count(public) == "7"
    assert "Buy Cheap Pills 0" in signers_listed(public)

    moderator = browse()
    visit(moderator, "/admin/")
    moderator.get_by_label("Email address").fill("moderator@cosign.example")
    moderator.get_by_label("Password").fill(STAFF_PASSWORD)
    moderator.get_by_role("button", name="Log in").click()
    # A moderator does not manage people.
    expect(moderator.get_by_role("link", name="Users")).to_have_count(0)

    # The queue: only the held ones, with why they were held.
    moderator.get_by_role("link", name="Flagged signatures").click()
    rows = moderator.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Burst from one network address, Disposable email domain")
    screenshot(moderator, "moderation-queue")
    _select_all_and_run(moderator, "Reject the selected signatures, with a reason")
    expect(moderator.get_by_role("heading", level=1)).to_have_text(
        "Reject signatures with a reason"
    )
    moderator.get_by_label("Reason").fill("Casino spam from one address")
    moderator.get_by_role("button", name="Reject").click()
    expect(moderator.locator(".messagelist")).to_have_text("Rejected 2 signatures.")
    expect(rows).to_have_count(0)

    # The rest of the burst was counted: find it by the same flag and mark it as spam.
    moderator.get_by_role("link", name="Signatures", exact=True).click()
    moderator.get_by_role("link", name="Burst from one network address").click()
    moderator.get_by_role("link", name="Confirmed", exact=True).click()
    expect(rows).to_have_count(3)
    _select_all_and_run(moderator, "Mark the selected signatures as spam")
    expect(moderator.locator(".messagelist")).to_have_text("Marked 3 signatures as spam.")

    visit(public, burst.get_absolute_url())
    assert public_count(public) == "4"
    assert not [name for name in signers_listed(public) if "Pills" in name or "Casino" in name]
    assert Signature.objects.filter(petition=burst, counted=True).count() == 4

    # Both bulk actions are in the audit log, with who did them and why.
    visit(moderator, "/admin/")
    moderator.get_by_role("link", name="Log entries").click()
    log = moderator.locator("#result_list")
    expect(log.get_by_text("Marked as spam by a moderator.")).to_have_count(3)
    expect(
        log.get_by_text("Rejected by a moderator. Reason: Casino spam from one address")
    ).to_have_count(2)
    expect(log.get_by_text("moderator@cosign.example").first).to_be_visible()
    screenshot(moderator, "moderation-audit-log")
