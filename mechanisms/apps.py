from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MechanismsConfig(AppConfig):
    name = "mechanisms"
    verbose_name = _("Email and safeguards")

    def ready(self) -> None:
        # Bounces and complaints from mail providers' webhooks (mechanisms.bounce_webhooks).
        from anymail.signals import tracking

        from mechanisms.bounce_webhooks import tracking_event_receive

        tracking.connect(tracking_event_receive, dispatch_uid="cosign.bounces")
        # The request id travels with Celery tasks (its signal handlers connect on import).
        import mechanisms.request_ids  # noqa: F401
