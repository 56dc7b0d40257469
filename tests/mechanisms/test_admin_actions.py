"""The one bulk-action helper every admin uses (mechanisms.admin_actions): it counts what it
did and, by reason, what it left alone, audits the rows it changed, and stops at a refusal."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.test import RequestFactory
from django.utils.translation import ngettext_lazy

from accounts.models import Organization, User
from mechanisms.admin_actions import action_run
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

DONE = ngettext_lazy("Did %d.", "Did %d.")
ALREADY = ngettext_lazy("%d was done already.", "%d were done already.")
UNFIT = ngettext_lazy("%d does not fit.", "%d do not fit.")


@pytest.fixture
def request_() -> HttpRequest:
    request = RequestFactory().post("/admin/")
    request.user = User.objects.create_superuser("root@cosign.test", "a-long-password")
    request._messages = CookieStorage(request)  # type: ignore[attr-defined]
    return request


@pytest.fixture
def model_admin() -> admin.ModelAdmin:
    return admin.ModelAdmin(Organization, admin.site)


def _said(request: HttpRequest) -> list[tuple[str, int]]:
    return [(m.message, m.level) for m in request._messages]  # type: ignore[attr-defined]


def _organizations(*names: str) -> QuerySet[Organization]:
    for name in names:
        OrganizationFactory(name=name)
    return Organization.objects.order_by("name")


def test_rows_left_alone_are_counted_by_reason_and_only_rows_done_are_audited(
    request_, model_admin
) -> None:
    rows = _organizations("a-done", "b-already", "c-unfit", "d-already")

    acted = action_run(
        model_admin,
        request_,
        rows,
        run=lambda row: row.name.endswith("done"),
        done=DONE,
        left=lambda row: ALREADY if row.name.endswith("already") else UNFIT,
        audit="Did it.",
    )

    assert [row.name for row in acted] == ["a-done"]
    assert _said(request_) == [
        ("Did 1.", messages.SUCCESS),
        ("2 were done already.", messages.WARNING),
        ("1 does not fit.", messages.WARNING),
    ]
    logged = LogEntry.objects.values_list("object_repr", "change_message")
    assert list(logged) == [("a-done", "Did it.")]


def test_nothing_done_is_a_warning(request_, model_admin) -> None:
    action_run(
        model_admin,
        request_,
        _organizations("a", "b"),
        run=lambda row: False,
        done=DONE,
        left=ALREADY,
    )

    assert _said(request_) == [
        ("Did 0.", messages.WARNING),
        ("2 were done already.", messages.WARNING),
    ]


def test_a_refusal_stops_at_its_row_and_what_was_done_before_it_stands(
    request_, model_admin
) -> None:
    tried: list[str] = []

    def run(row: Organization) -> bool:
        tried.append(row.name)
        if row.name == "b":
            raise ValidationError("Say why.")
        return True

    acted = action_run(
        model_admin,
        request_,
        _organizations("a", "b", "c"),
        run=run,
        done=DONE,
        left=ALREADY,
        audit="Did it.",
    )

    assert tried == ["a", "b"]
    assert [row.name for row in acted] == ["a"]
    assert _said(request_) == [("Did 1.", messages.SUCCESS), ("Say why.", messages.ERROR)]
    assert list(LogEntry.objects.values_list("object_repr", flat=True)) == ["a"]


def test_the_rows_changed_and_their_audit_entries_stand_or_fall_together(
    request_, model_admin
) -> None:
    def rename(row: Organization) -> bool:
        Organization.objects.filter(pk=row.pk).update(name="renamed")
        return True

    with (
        mock.patch("mechanisms.admin_actions.audit_log", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        action_run(
            model_admin,
            request_,
            _organizations("a"),
            run=rename,
            done=DONE,
            left=ALREADY,
            audit="Did it.",
        )

    assert list(Organization.objects.values_list("name", flat=True)) == ["a"]
