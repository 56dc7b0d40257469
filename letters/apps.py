from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"

    def ready(self) -> None:
        from accounts.personal_data import provider_register
        from letters.personal_data import LetterSignatures

        provider_register(LetterSignatures())
