"""LOG_FORMAT=json: one JSON object per line, for a log collector (Loki, Elasticsearch, journald's
JSON output) to index by field rather than parse text.

The standard library's json rather than python-json-logger: the object has a handful of fixed
fields, and the formatter must print the traceback as the redaction filter left it
(`record.exc_text`), which python-json-logger formats again from `exc_info`, unredacted. Extra
attributes of a record are not printed: Django's SQL lines carry their parameters as `params`,
and a request as `request`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """time (UTC, ISO 8601), level, logger, message, request_id, process, and the traceback or
    stack when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            # No redaction filter ran (a handler added by hand): format it here all the same.
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)
