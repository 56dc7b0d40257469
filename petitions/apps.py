from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "petitions"

    def ready(self) -> None:
        from mechanisms.personal_data import provider_register
        from petitions.paper_personal_data import PaperSignatures
        from petitions.personal_data import PetitionSignatures

        provider_register(PetitionSignatures())
        provider_register(PaperSignatures())
        # Every process that may send an outbox row must know its kind (mechanisms.mail).
        import petitions.drafting.emails
        import petitions.drafting.petition_kind
        import petitions.emails
        import petitions.services.bounces
        import petitions.services.deliveries  # noqa: F401
