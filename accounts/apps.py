from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organizations"

    def ready(self) -> None:
        # Every process that may send an outbox row must know its kind (mechanisms.mail).
        import accounts.organization_emails
        import accounts.privacy_emails
        import accounts.webhooks  # noqa: F401
