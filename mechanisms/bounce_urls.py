"""The mail providers' bounce and complaint webhooks (mechanisms.bounce_webhooks): the addresses
to give each provider, outside the language prefix."""

from __future__ import annotations

from django.urls import path

from mechanisms import bounce_webhooks

app_name = "bounces"

urlpatterns = [
    path("mailgun/", bounce_webhooks.mailgun_webhook, name="mailgun"),
    path("mandrill/", bounce_webhooks.mandrill_webhook, name="mandrill"),
]
