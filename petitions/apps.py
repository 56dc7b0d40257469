from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "petitions"

    def ready(self) -> None:
        from mechanisms.personal_data import provider_register
        from petitions.personal_data import PetitionSignatures

        provider_register(PetitionSignatures())
