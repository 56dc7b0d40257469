from __future__ import annotations

from django.contrib import admin
from django_countries.filters import CountryFilter

from petitions.models import Petition, Signature, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(Petition)
class PetitionAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "topic", "signature_count", "opens_at", "closes_at")
    list_filter = ("status", "topic", "language")
    search_fields = ("title", "slug", "summary")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("sponsors",)
    # The count belongs to the counter and the recount command; editing it by hand would drift.
    readonly_fields = ("signature_count", "created_at", "updated_at")


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "petition", "status", "country", "created_at", "confirmed_at")
    # CountryFilter lists only the countries signers chose, not all 250.
    list_filter = ("status", "petition", ("country", CountryFilter))
    search_fields = ("name", "email", "canonical_email")
    list_select_related = ("petition",)
    date_hierarchy = "created_at"
    # The email is what the signer proved they own, and the uniqueness check is keyed on its
    # canonical form: staff may correct a name, never swap the address.
    readonly_fields = (
        "petition",
        "email",
        "canonical_email",
        "ip_hash",
        "created_at",
        "confirmed_at",
        "confirmation_sent_at",
        "counted",
        "status",
    )
    fields = (
        "petition",
        "name",
        "email",
        "canonical_email",
        "postal_code",
        "country",
        "display",
        "consent_updates",
        "language",
        "status",
        "created_at",
        "confirmed_at",
        "confirmation_sent_at",
        "counted",
        "ip_hash",
    )

    def has_add_permission(self, request: object) -> bool:
        # Signatures come from signers confirming by email, never from staff typing them in.
        return False
