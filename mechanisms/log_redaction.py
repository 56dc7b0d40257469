"""Secrets in URLs stay out of the logs.

Confirmation, answer, unsubscribe, "your signatures", organization-contact and set-password links
carry their secret in the path, and Django logs the path of every 4xx ("Not Found: /en/p/…/
respond/<token>/"), gunicorn of every request it fails (and of each one, if an operator turns its
access log on). SecretRedactionFilter replaces each secret path segment in a record's message,
arguments and formatted traceback with "[redacted]".

Which segments are secret comes from the URL patterns themselves: every URL argument named in
SECRET_ARGUMENTS, wherever the pattern sits (tests/mechanisms/test_log_redaction.py fails when a
pattern brings an argument name nobody has classed as secret or not). The match keeps the path's
fixed parts (so "/p/<slug>/respond/" is needed, and a slug or an id elsewhere is left alone) and
takes any language prefix; it stops at the secret, so a link with something stuck to its end (an
email client's trailing dot) is redacted too.

Personal data, wherever it turns up in a line: email addresses, IP addresses (v4 and v6),
organizations' API keys and anything after "Bearer " become "[email]", "[ip]" and "[redacted]".
SQL that Django logs at DEBUG (django.db.backends, with the statement's values interpolated and
its parameters appended) keeps its shape and timing with every string literal blanked and the
parameters dropped: those values are emails, names, session keys and token digests.
tests/mechanisms/test_log_leaks.py drives real flows with every logger at DEBUG and finds none of
them in any formatted line, text or JSON.

logging_configure is Django's LOGGING_CONFIG: it applies settings.LOGGING, then puts the filter
(and mechanisms.request_ids.RequestIdFilter) on every handler of every logger, Django's own
(mail_admins) and gunicorn's included.
"""

from __future__ import annotations

import ipaddress
import logging
import logging.config
import re
import threading
from collections.abc import Iterator
from typing import Any

SECRET_ARGUMENTS = frozenset({"token", "key", "signature", "secret", "uidb64"})
# URL arguments that carry nothing secret: slugs, ids, counts, the admin's own paths.
PUBLIC_ARGUMENTS = frozenset(
    {
        "action",
        "app_label",
        "content_type_id",
        "count",
        "delivery_id",
        "endpoint_id",
        "id",
        "kind",
        "membership_id",
        "name",
        "number",
        "object_id",
        "organization",
        "petition_id",
        "pk",
        "question_pk",
        "row",
        "signature_id",
        "slug",
        "source",
        "statement_id",
        "token_id",
        "url",
    }
)
REDACTED = "[redacted]"

_ARGUMENT = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
# A path segment as it may appear in a log line: up to a slash, a query, a quote or a space.
_SEGMENT = r"[^/?#\s\"'<>]+"


def url_routes() -> Iterator[tuple[list[object], str]]:
    """Every URL pattern of the project: its chain of patterns (outermost first) and its name."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver: URLResolver, chain: list[object]) -> Iterator[tuple[list[object], str]]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry, [*chain, entry.pattern])
            elif isinstance(entry, URLPattern):
                yield [*chain, entry.pattern], str(entry.name or "")

    yield from walk(get_resolver(), [])


def route_arguments(chain: list[object]) -> list[str]:
    """The argument names of a pattern chain (route arguments and regex groups alike)."""
    from django.urls.resolvers import LocalePrefixPattern, RoutePattern

    names: list[str] = []
    for pattern in chain:
        if isinstance(pattern, LocalePrefixPattern):
            continue
        if isinstance(pattern, RoutePattern):
            names += [m.group("name") for m in _ARGUMENT.finditer(str(pattern))]
        else:
            names += list(pattern.regex.groupindex)  # type: ignore[attr-defined]
    return names


def _secret_regex(chain: list[object]) -> str | None:
    """A regular expression for the path of a secret-bearing pattern, each secret a capturing
    group and the rest not; None when the pattern carries no secret or is not a route."""
    from django.urls.resolvers import LocalePrefixPattern, RoutePattern

    if not SECRET_ARGUMENTS & set(route_arguments(chain)):
        return None
    parts: list[str] = []
    for pattern in chain:
        if isinstance(pattern, LocalePrefixPattern):
            # Whatever language the logging thread has active: any prefix, or none.
            parts.append(r"(?:[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?/)?")
            continue
        if not isinstance(pattern, RoutePattern):
            # A regex pattern with a secret argument: covered by no route, refused by the test.
            return None
        route = str(pattern)
        position = 0
        for match in _ARGUMENT.finditer(route):
            parts.append(re.escape(route[position : match.start()]))
            if match.group("name") in SECRET_ARGUMENTS:
                parts.append(f"({_SEGMENT})")
            else:
                parts.append(f"(?:{_SEGMENT})")
            position = match.end()
        parts.append(re.escape(route[position:]))
    text = "".join(parts)
    # Stop at the last secret: whatever follows it may be mangled.
    return "/" + text[: text.rindex(")") + 1]


class _Redactor:
    def __init__(self) -> None:
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        self._building = threading.local()

    def pattern(self) -> re.Pattern[str] | None:
        if self._pattern is not None:
            return self._pattern
        if getattr(self._building, "active", False):
            # Importing the URLconf logged something: that line has no path of ours yet.
            return None
        self._building.active = True
        try:
            with self._lock:
                if self._pattern is None:
                    expressions = [
                        expression
                        for chain, _name in url_routes()
                        if (expression := _secret_regex(chain)) is not None
                    ]
                    self._pattern = re.compile("|".join(expressions))
        finally:
            self._building.active = False
        return self._pattern

    def reset(self) -> None:
        """Forget the patterns (a test that swaps the URLconf)."""
        self._pattern = None

    def redact(self, text: str) -> str:
        if "/" not in text:
            return text
        pattern = self.pattern()
        if pattern is None:
            return text
        return pattern.sub(_blank_secrets, text)


def _blank_secrets(match: re.Match[str]) -> str:
    text, offset, pieces, position = match.group(0), match.start(), [], 0
    for group in range(1, (match.re.groups or 0) + 1):
        start, end = match.span(group)
        if start < 0:
            continue
        pieces += [text[position : start - offset], REDACTED]
        position = end - offset
    pieces.append(text[position:])
    return "".join(pieces)


redactor = _Redactor()


def secrets_redact(text: str) -> str:
    """`text` with every secret of our URLs in it replaced by REDACTED."""
    return redactor.redact(text)


# The top-level domain may be an internationalized one, in Unicode letters or in its xn-- form
# (the sign form takes such addresses), and the @ may arrive percent-encoded from a URL.
_EMAIL = re.compile(
    r"[^\s@<>()\[\],;:\"'`/=]+(?:@|%40)[^\s@<>()\[\],;:\"'`/]+\.(?:xn--[A-Za-z0-9-]+|[^\W\d_]{2,})",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)")
# Candidates only, each checked by ipaddress: "12:34:56" (a time) is no address and stays.
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?(?![\w:])")
# An organization's API key (accounts.api_tokens: cosign_<prefix>_<secret>) and any credential
# after "Bearer ".
_API_KEY = re.compile(r"cosign_[A-Za-z0-9]+_[A-Za-z0-9_-]{16,}")
_BEARER = re.compile(r"(?i)(\bbearer\s+)[^\s\"',;]+")
# django.template at DEBUG logs each failed variable lookup with a repr of the whole template
# context: the request, the CSRF token, a form's values, a link's token. The key is enough.
_TEMPLATE_CONTEXT = re.compile(r"(Failed lookup for key \[[^\]\n]*\] in ).*")
# PostgreSQL's DETAIL of a constraint violation quotes the row's values (names, postal codes):
# "Key (petition_id, email)=(3, ...) already exists", "Failing row contains (...)".
_DB_ROW_VALUES = re.compile(
    r"(\bKey \([^)\n]*\)=|\bFailing row contains )\(.*?\)(?= already| is not|\.?$)", re.M
)
# A string literal of PostgreSQL or SQLite SQL, with doubled quotes inside and an E prefix.
_SQL_STRING = re.compile(r"(?:\b[Ee])?'(?:[^']|'')*'")


def _ip_or_text(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    return "[ip]"


def personal_data_redact(text: str) -> str:
    """`text` with our URLs' secrets, email and IP addresses, API keys and bearer credentials
    replaced."""
    text = secrets_redact(text)
    if "Failed lookup" in text:
        text = _TEMPLATE_CONTEXT.sub(r"\1[template context not logged]", text)
    if "Key (" in text or "Failing row" in text:
        text = _DB_ROW_VALUES.sub(r"\1([redacted])", text)
    if "@" in text or "%40" in text:
        text = _EMAIL.sub("[email]", text)
    if "." in text:
        text = _IPV4.sub(_ip_or_text, text)
    if ":" in text:
        text = _IPV6.sub(_ip_or_text, text)
    if "cosign_" in text:
        text = _API_KEY.sub(REDACTED, text)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)


def sql_redact(sql: str) -> str:
    """A logged SQL statement with every string literal blanked."""
    return _SQL_STRING.sub("'…'", personal_data_redact(sql))


def _redact_value(value: Any) -> Any:
    return personal_data_redact(value) if isinstance(value, str) else value


def _sql_record_redact(record: logging.LogRecord) -> None:
    """django.db.backends' DEBUG line: "(duration) SQL; args=PARAMS; alias=ALIAS", with the SQL
    and the parameters also as attributes a formatter may print."""
    if isinstance(getattr(record, "sql", None), str):
        record.sql = sql_redact(record.sql)  # type: ignore[attr-defined]
    if getattr(record, "params", None) is not None:
        record.params = REDACTED
    if isinstance(record.args, tuple) and len(record.args) == 4:
        duration, sql, params, alias = record.args
        record.args = (
            duration,
            sql_redact(str(sql)),
            None if params is None else REDACTED,
            alias,
        )
    elif isinstance(record.msg, str):
        record.msg = sql_redact(record.msg)


class SecretRedactionFilter(logging.Filter):
    """Redacts our URLs' secrets from a record (never drops it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_secrets_redacted", False):
            return True
        if record.name.startswith("django.db.backends"):
            _sql_record_redact(record)
        try:
            # The message as formatters will print it: a path may be split across arguments.
            message = record.getMessage()
        except Exception:
            message = None  # the formatter will report the broken record; redact the parts
        if message is None:
            record.msg = _redact_value(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(_redact_value(value) for value in record.args)
        elif (redacted := personal_data_redact(message)) != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text: an exception's message may quote the path.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = personal_data_redact(record.exc_text)
        if record.stack_info:
            record.stack_info = personal_data_redact(record.stack_info)
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            # Django's mail_admins and any formatter printing the request read these.
            record.request = _RedactedRequest(request)
        record._secrets_redacted = True
        return True


class _RedactedRequest:
    """A log record's request as formatters and Django's error reports read it: the path and
    its META copies redacted, everything else as the request has it."""

    def __init__(self, request: Any) -> None:
        self._request = request
        self.path = secrets_redact(str(request.path))
        self.path_info = secrets_redact(str(getattr(request, "path_info", "")))
        self.META = {
            name: _redact_value(value) for name, value in getattr(request, "META", {}).items()
        }

    def get_full_path(self, force_append_slash: bool = False) -> str:
        return secrets_redact(self._request.get_full_path(force_append_slash))

    def build_absolute_uri(self, location: str | None = None) -> str:
        return secrets_redact(self._request.build_absolute_uri(location))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)

    def __repr__(self) -> str:
        return f"<{type(self._request).__name__}: {self.method} {self.get_full_path()!r}>"


def filter_install(filter_: logging.Filter | None = None) -> None:
    """Put the redaction filter, and the request id's, on every handler of every logger that
    exists now."""
    from mechanisms.request_ids import RequestIdFilter

    filter_ = filter_ or SecretRedactionFilter()
    request_id = RequestIdFilter()
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, SecretRedactionFilter) for f in handler.filters):
                handler.addFilter(filter_)
            if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                handler.addFilter(request_id)


def logging_configure(config: dict[str, Any]) -> None:
    """Django's LOGGING_CONFIG: settings.LOGGING, then the filter on every handler (Django's
    defaults, applied before, and gunicorn's, made before Django starts, included)."""
    logging.config.dictConfig(config)
    filter_install()
