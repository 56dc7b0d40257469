"""Thin Celery tasks of accounts: organizations' webhooks (accounts.webhooks)."""

from __future__ import annotations

from celery import shared_task


# No Celery retries: the delivery row holds its attempts and backoff, and the dispatcher is the
# retry, so a task lost with its retry loses nothing.
@shared_task
def webhooks_send(delivery_ids: list[int]) -> dict[str, int]:
    from accounts.webhooks import webhooks_send as send

    return vars(send(delivery_ids=delivery_ids))


# Ticked every WEBHOOK_DISPATCH_SECONDS by beat, expiring as fast: a tick that waited is dropped.
@shared_task
def webhooks_dispatch() -> dict[str, int]:
    from accounts.webhooks import webhooks_dispatch as dispatch

    return vars(dispatch())


@shared_task
def webhooks_prune() -> int:
    from accounts.webhooks import webhook_deliveries_prune

    return webhook_deliveries_prune()
