from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"

    def ready(self) -> None:
        from letters.personal_data import LetterSignatures
        from mechanisms.personal_data import provider_register

        provider_register(LetterSignatures())
