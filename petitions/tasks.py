"""Thin Celery tasks: each takes ids (or nothing), imports the one service it runs, and is safe to
run twice. Emails are not sent here: services owe them to the outbox (mechanisms.outbox)."""

from __future__ import annotations

from celery import shared_task


@shared_task
def petition_counts_update() -> dict[str, int]:
    from petitions.services.campaigns import petition_counts_and_milestones_update

    added = petition_counts_and_milestones_update()
    return {str(k): v for k, v in added.items()}


@shared_task
def petitions_open_and_close() -> dict[str, int]:
    from petitions.services.campaigns import petitions_open_and_close_due

    transitions = petitions_open_and_close_due()
    return {"opened": transitions.opened, "closed": transitions.closed}


@shared_task
def petition_recount_all() -> int:
    """Nightly drift correction; returns how many petitions were corrected."""
    from petitions.services.counting import petitions_recount_all

    return petitions_recount_all()


@shared_task
def deliveries_schedule() -> int:
    from petitions.services.deliveries import deliveries_schedule as schedule

    return schedule()
