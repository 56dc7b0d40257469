"""Thin Celery tasks of the bottom layer: retention of personal data and of IP-hash keys."""

from __future__ import annotations

from celery import shared_task


@shared_task
def ip_hash_keys_prune() -> dict[str, int]:
    from mechanisms.network import ip_hash_keys_prune as prune

    pruned = prune()
    return {"keys_deleted": pruned.keys_deleted, "hashes_cleared": pruned.hashes_cleared}


# Retention after a long outage may have many campaigns to catch up on; it works in committed
# batches, so a run that hits even this limit leaves the rest to the next day's run.
@shared_task(soft_time_limit=1800, time_limit=1860)
def personal_data_anonymize_expired() -> dict[str, dict[str, int]]:
    from mechanisms.personal_data import personal_data_anonymize_expired as anonymize

    done = anonymize()
    return {"anonymized": done.anonymized, "unconfirmed_deleted": done.unconfirmed_deleted}


# --- The outbox -------------------------------------------------------------------------------


# No Celery retries: the outbox row holds the attempts and the backoff, and the sweep is the
# retry of last resort, so a task lost with its retry loses nothing.
@shared_task
def outbox_send(email_ids: list[int]) -> dict[str, int]:
    from mechanisms.outbox import emails_send

    outcome = emails_send(email_ids=email_ids)
    return vars(outcome)


# Ticked every OUTBOX_DISPATCH_SECONDS by beat, with an expiry of the same: a tick that waited
# longer (the worker was down) is dropped, not run late in a pile. Two ticks running at once
# share the work (each claim skips the other's rows). Stops after OUTBOX_DISPATCH_RUN_SECONDS
# (config.settings says why); the next tick goes on.
@shared_task
def outbox_dispatch() -> dict[str, int]:
    from django.conf import settings

    from mechanisms.outbox import emails_dispatch

    outcome = emails_dispatch(seconds=settings.OUTBOX_DISPATCH_RUN_SECONDS)
    return vars(outcome)


@shared_task
def outbox_sweep() -> int:
    from mechanisms.outbox import emails_sweep

    return emails_sweep()


@shared_task
def outbox_prune() -> int:
    from mechanisms.outbox import emails_prune

    return emails_prune()


# --- Bounces ----------------------------------------------------------------------------------


# Every BOUNCE_MAILBOX_SECONDS, expiring with the next tick; idempotent (each report acts once).
@shared_task
def bounce_mailbox_read() -> dict[str, int]:
    from mechanisms.bounce_mailbox import bounce_mailbox_read as read

    done = read()
    counts = {
        "messages": done.messages,
        "acted_on": done.acted_on,
        "ignored": done.ignored,
        "unreadable": done.unreadable,
    }
    # Empty when there was nothing: `make run` prints a periodic task's result only if any.
    return {name: count for name, count in counts.items() if count}


@shared_task
def bounces_prune() -> dict[str, int]:
    from mechanisms.bounces import bounces_prune as prune

    return prune()
