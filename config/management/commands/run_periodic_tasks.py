from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from celery.schedules import BaseSchedule
from celery.schedules import schedule as celery_schedule
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from config.celery import app


class Command(BaseCommand):
    """Celery beat for the embedded setup (`make run` without REDIS_URL).

    With no broker there is no beat process, yet the counter and the sweep must still run. This
    loop reads the same CELERY_BEAT_SCHEDULE and runs each due task in this process, so development
    behaves like production instead of special-casing the count.
    """

    help = "Run the beat schedule in-process (development without a broker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run every task once and exit.")

    def handle(self, *args: Any, once: bool, **options: Any) -> None:
        # One line per task run would bury the confirmation emails printed in the same terminal.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        app.loader.import_default_modules()  # autodiscovery is lazy until a worker starts
        entries: dict[str, tuple[str, BaseSchedule]] = {}
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            schedule = entry["schedule"]
            if not hasattr(schedule, "is_due"):
                schedule = celery_schedule(schedule)
            schedule.app = app
            entries[name] = (entry["task"], schedule)
        # Like beat, start each clock now: a nightly job waits for its night.
        started = datetime.now(UTC)
        last_run: dict[str, datetime] = dict.fromkeys(entries, started)
        self.stdout.write(f"Running {len(entries)} periodic task(s) in-process; Ctrl+C stops.")
        try:
            self._loop(entries, last_run, once=once)
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def _loop(
        self,
        entries: dict[str, tuple[str, BaseSchedule]],
        last_run: dict[str, datetime],
        *,
        once: bool,
    ) -> None:
        while True:
            for name, (task_name, schedule) in entries.items():
                now = datetime.now(UTC)
                due = once or schedule.is_due(last_run[name]).is_due
                if due:
                    last_run[name] = now
                    try:
                        result = app.tasks[task_name].apply().get()
                    except Exception as error:  # keep the loop alive, like a real beat + worker
                        self.stderr.write(f"{name}: failed: {error!r}")
                    else:
                        if result:
                            self.stdout.write(f"{name}: {result}")
            if once:
                return
            time.sleep(1)
