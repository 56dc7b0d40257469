from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"

    def ready(self) -> None:
        from letters.personal_data import LetterSignatures
        from mechanisms.personal_data import provider_register

        provider_register(LetterSignatures())
        # Every process that may send an outbox row must know its kind (mechanisms.mail).
        import letters.delivery
        import letters.drafting
        import letters.emails  # noqa: F401
