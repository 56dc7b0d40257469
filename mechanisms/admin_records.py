"""Admin pages of records: what happened (an email sent, an audit entry, an export of
supporters), which staff read and nobody adds, changes or deletes, superusers included. A
record its subjects could edit would prove nothing."""

from __future__ import annotations

from django.http import HttpRequest


class RecordAdminMixin:
    """For a ModelAdmin of records: viewing only."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
