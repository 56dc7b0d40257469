"""Cosign settings: one module, driven by the environment.

Development defaults are safe and need nothing installed (SQLite, tasks in-process, mail printed
to the console). Production values come only from environment variables, documented in
`.env.example`, and are parsed strictly: a malformed value stops the process at start-up instead of
surprising us later.
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A boolean that refuses anything but an unambiguous spelling ("ture" must not mean False)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off"
    )


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default).strip() or default


# On by default so a fresh checkout runs with no configuration (as healthchecks does); production
# sets DEBUG=0, and then SECRET_KEY and ALLOWED_HOSTS must be given.
DEBUG = env_bool("DEBUG", default=True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example)")
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105


def require_in_production(name: str) -> None:
    """Development defaults that would fail silently in production (dead links in every email,
    mail printed instead of sent, every request refused) must be given explicitly there."""
    if not DEBUG and not os.environ.get(name, "").strip():
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (see .env.example)")


for _name in ("ALLOWED_HOSTS", "SITE_URL", "EMAIL_URL"):
    require_in_production(_name)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} must start with http:// or https://")


_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def env_proxies(name: str) -> list[str]:
    """Proxy addresses and networks (CIDR), IPv4 or IPv6, comma-separated, each written in its
    canonical form; `unix` stands for a peer on a UNIX socket, which has no address. Anything
    else stops start-up: a typo here would silently trust the wrong hosts or none."""
    proxies = []
    for item in env_list(name, []):
        if item.lower() == "unix":
            proxies.append("unix")
            continue
        try:
            if "%" in item:
                raise ValueError("a zone index (%) has no place here")
            network = ipaddress.ip_network(item, strict=True)
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an IP address or network ({error}); write addresses "
                "like 10.0.0.2 or 2001:db8::2 and networks like 10.0.0.0/8 or 2001:db8::/32"
            ) from None
        if network.prefixlen == 0:
            # Every hop trusted means the leftmost X-Forwarded-For entry wins, which the client
            # writes: it could claim any address.
            raise ImproperlyConfigured(
                f"{name}: {item!r} would trust every address, letting any client choose the "
                "address rate limits see; list only your own proxies"
            )
        if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_IPV4_MAPPED):
            # Addresses are compared in their IPv4 form (mechanisms.network), so this never matches.
            raise ImproperlyConfigured(
                f"{name}: {item!r} is an IPv4-mapped IPv6 network; write it in its IPv4 form"
            )
        proxies.append(str(network))
    return proxies


# The reverse proxies (or load balancers) in front of gunicorn. Their X-Forwarded-For is believed,
# walked from the right while each hop is one of them: the first address that is not is the client
# (mechanisms.network.client_ip). A connection from anywhere else is its own client, whatever its
# headers say, so a client reaching gunicorn directly cannot choose the address that rate limits
# and abuse signals see. Empty: no proxy, trust only the connecting address.
TRUSTED_PROXIES = env_proxies("TRUSTED_PROXIES")
# It counted hops by position, so a client that reached gunicorn directly chose its address, and a
# proxy's "unknown" switched every per-address limit off; a stale value must not look honoured.
if os.environ.get("NUM_PROXIES", "").strip():
    raise ImproperlyConfigured(
        "NUM_PROXIES is no longer read: list your proxies' addresses or networks in "
        "TRUSTED_PROXIES instead, e.g. TRUSTED_PROXIES=127.0.0.1 (see .env.example), and remove "
        "NUM_PROXIES"
    )

INSTALLED_APPS = [
    # Before the admin, so the admin's forms know the per-language fields it adds.
    "modeltranslation",
    # Django's admin on Cosign's own site, which asks staff for a second factor (config/apps.py).
    "config.apps.CosignAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Django's own widget templates, for FORM_RENDERER below.
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_countries",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "anymail",
    "mechanisms",
    "accounts",
    "petitions",
    "letters",
    "config.apps.CosignSiteConfig",
]

MIDDLEWARE = [
    # Outermost: every line a request logs, health checks' included, carries its id.
    "mechanisms.request_ids.RequestIdMiddleware",
    # First: load balancers' /healthz and /readyz, answered whatever the Host header and scheme,
    # before CommonMiddleware refuses a missing Host or SecurityMiddleware redirects to https.
    "config.middleware.HealthCheckMiddleware",
    # Next: /metrics, answered as the health checks are; every other request timed for it.
    "config.middleware.MetricsMiddleware",
    # Before anything reads a forwarding header (the page cache asks whether a request is secure).
    "config.middleware.ForwardedHeadersMiddleware",
    # Outside everything else: a hit on a shared copy of a public page needs none of what follows,
    # and the copy keeps the headers the middleware below gave it (mechanisms.page_cache).
    "mechanisms.page_cache.PageCacheMiddleware",
    # Outermost, so every answer carries them: also the 400 that CommonMiddleware gives a request
    # for a host not in ALLOWED_HOSTS, which never passes the middleware below it.
    "csp.middleware.CSPMiddleware",
    # The public read API answers GETs from any origin (CORS_URLS_REGEX): its copies in the page
    # cache keep the header.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything reads a form body: one in a charset Django cannot decode is a 400 page.
    "config.middleware.RequestCharsetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: it marks request.user verified when this session passed a TOTP code.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Widgets render through TEMPLATES, so templates/ can mend one of the admin's (its date-and-time
# widget's two fields had no label: templates/admin/widgets/split_datetime.html).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

env = environ.Env()

# --- Database -------------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
_SUPPORTED_ENGINES = {"django.db.backends.sqlite3", "django.db.backends.postgresql"}
if DATABASES["default"]["ENGINE"] not in _SUPPORTED_ENGINES:
    raise ImproperlyConfigured(
        f"DATABASE_URL uses {DATABASES['default']['ENGINE']!r}; use postgres:// or sqlite:///"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The dev server and the in-process beat loop (`make run`) write at the same time.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Behind PgBouncer in transaction mode (docs/scaling.md): a server-side cursor (the exports'
    # `.iterator()`) outlives the transaction the pooler lends a connection for.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
        "DISABLE_SERVER_SIDE_CURSORS", default=False
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache and tasks ------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must be a redis:// or rediss:// URL")

# Redis may die at any moment, or hang (DESIGN.md): every use of it waits at most this long for a
# connection and for an answer, and after a failure a process skips Redis for
# REDIS_BREAKER_SECONDS (mechanisms.redis_breaker) instead of paying the timeout on every request.
# Pages then render from the database, signatures are stored and mailed by the sweep once Redis
# is back, and rate limits let requests through.
REDIS_TIMEOUT_MS = env_int("REDIS_TIMEOUT_MS", 200, minimum=10)
REDIS_BREAKER_SECONDS = env_int("REDIS_BREAKER_SECONDS", 5, minimum=1)
_REDIS_TIMEOUT = REDIS_TIMEOUT_MS / 1000

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "mechanisms.redis_breaker.BreakerRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "cosign"),
            # Passed to redis-py's connections: no retries, which would multiply the timeout.
            "OPTIONS": {
                "socket_connect_timeout": _REDIS_TIMEOUT,
                "socket_timeout": _REDIS_TIMEOUT,
                "retry_on_timeout": False,
                "retry": None,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery's broker: REDIS_URL's Redis unless CELERY_BROKER_URL names another, such as RabbitMQ for
# tasks kept on disk (README, "Choosing a broker"). Redis stays the cache, rate limits and counters.
# Celery itself also reads this variable, so the name cannot mean anything else.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or REDIS_URL or "memory://"
BROKER_IS_RABBITMQ = CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://"))
if CELERY_BROKER_URL != REDIS_URL and CELERY_BROKER_URL != "memory://":
    if not (BROKER_IS_RABBITMQ or CELERY_BROKER_URL.startswith(("redis://", "rediss://"))):
        raise ImproperlyConfigured(
            f"CELERY_BROKER_URL must be an amqp:// or redis:// URL, not {CELERY_BROKER_URL!r}"
        )
    if not REDIS_URL:
        raise ImproperlyConfigured(
            "CELERY_BROKER_URL needs REDIS_URL too: Redis keeps the cache, rate limits and counters"
        )
# Without a broker there is no worker: tasks run in the process that enqueues them.
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "cosign")
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only once it has run, so a worker killed mid-task hands it to another.
# Every task is idempotent (it claims its work with a conditional UPDATE), which makes that safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Pool processes per worker: two or three outbox dispatchers run at once at full signing speed
# (each tick sends for up to OUTBOX_DISPATCH_RUN_SECONDS, half of it waiting on SMTP and the
# database), and the counter's and other periodic tasks need a process free beside them. Celery's
# default, one per core, left the counter waiting behind the dispatchers on two cores.
CELERY_WORKER_CONCURRENCY = env_int(
    "CELERY_WORKER_CONCURRENCY", max(4, 2 * (os.cpu_count() or 1)), minimum=1
)
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# Redis redelivers unacknowledged tasks after this. It must exceed the longest task and the
# longest retry countdown (600 s), or a task waiting for its retry is delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    # Publishing from a web request waits at most this long, and gives up after one more try:
    # the row is in the database, and the sweep queues what was not.
    "socket_timeout": _REDIS_TIMEOUT,
    "socket_connect_timeout": _REDIS_TIMEOUT,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
CELERY_BROKER_CONNECTION_TIMEOUT = _REDIS_TIMEOUT
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# RabbitMQ: how long connecting, and publishing until the broker confirms the task is on disk,
# may take (a quorum queue confirms once its log is written; more than a Redis answer).
RABBITMQ_TIMEOUT_MS = env_int("RABBITMQ_TIMEOUT_MS", 1000, minimum=10)
if BROKER_IS_RABBITMQ:
    # Quorum queues: replicated across the nodes of a cluster, each task written to disk before
    # the broker confirms it, and a task whose worker died redelivered at once (Redis waits for
    # the visibility timeout). No priorities, never transient: Cosign uses neither.
    # Declared so by Celery for the one queue it routes to (CELERY_TASK_DEFAULT_QUEUE), and for
    # any queue a worker is told to create. Celery then gives each worker a prefetch of its own
    # (quorum queues refuse a channel-wide one), and declares the topic exchanges of RabbitMQ's
    # native delayed delivery, which reaches a queue only through a topic exchange.
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
    CELERY_TASK_CREATE_MISSING_QUEUE_TYPE = "quorum"
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
    CELERY_TASK_DEFAULT_DELIVERY_MODE = "persistent"
    CELERY_WORKER_DETECT_QUORUM_QUEUES = True
    # Publisher confirms: a publish returns once the broker has the task, or raises, so a task
    # the broker refused is not taken for queued (mechanisms.queue bounds the wait).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
    CELERY_BROKER_CONNECTION_TIMEOUT = RABBITMQ_TIMEOUT_MS / 1000
CELERY_TIMEZONE = "UTC"
# An active and a standby beat (mechanisms.beat): on PostgreSQL, only the beat holding an advisory
# lock schedules; the others try again every BEAT_STANDBY_SECONDS and take over when it dies.
# SQLite (development) keeps Celery's own scheduler: one beat, no lock.
BEAT_STANDBY_SECONDS = env_int("BEAT_STANDBY_SECONDS", 3, minimum=1)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    CELERY_BEAT_SCHEDULER = "mechanisms.beat:AdvisoryLockScheduler"
# The worker logs through settings.LOGGING, so its lines are redacted (mechanisms.log_redaction),
# carry the request id of the request that enqueued the task, and follow LOG_FORMAT; Celery's own
# handler on the root logger would bypass all three.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# The public count is at most COUNTER_INTERVAL_SECONDS + PETITION_PAGE_CACHE_SECONDS behind the
# confirmations (4 s with the defaults; the target is 5): the counter adds them in batches, and
# anonymous readers share a copy of the petition page that old (mechanisms.page_cache; 0 switches
# it off). One second is enough for the copy: at 2,000 readers a second it is rendered once.
COUNTER_INTERVAL_SECONDS = env_int("COUNTER_INTERVAL_SECONDS", 3, minimum=1)
PETITION_PAGE_CACHE_SECONDS = env_int("PETITION_PAGE_CACHE_SECONDS", 1)
# The outbox (mechanisms.outbox): every email is a row. The dispatcher, ticked this often,
# claims what is due in batches of 100 and sends each batch over one SMTP connection, so an email
# leaves about OUTBOX_DISPATCH_SECONDS after its commit and no request publishes a task for it.
# One tick sends for at most OUTBOX_DISPATCH_RUN_SECONDS (and the batch under way), then leaves
# the pool process to the next task in line: the counter's ticks (COUNTER_INTERVAL_SECONDS) must
# never wait behind a dispatcher that, at full signing speed, would always find more. A sweep every
# OUTBOX_SWEEP_SECONDS is the backstop should the dispatcher not tick: it queues what has been
# owed for OUTBOX_SWEEP_AGE_SECONDS. A worker's claim on a row lasts OUTBOX_LEASE_SECONDS (keep it
# above CELERY_TASK_TIME_LIMIT, or a slow send still in progress could be claimed twice); after
# OUTBOX_MAX_ATTEMPTS an email fails and waits for staff (admin: Outgoing emails). Sent rows,
# their address already cleared, are deleted after OUTBOX_KEEP_DAYS.
OUTBOX_DISPATCH_SECONDS = env_int("OUTBOX_DISPATCH_SECONDS", 1, minimum=1)
OUTBOX_DISPATCH_RUN_SECONDS = 2
OUTBOX_SWEEP_SECONDS = env_int("OUTBOX_SWEEP_SECONDS", 60, minimum=1)
OUTBOX_SWEEP_AGE_SECONDS = env_int("OUTBOX_SWEEP_AGE_SECONDS", 120, minimum=1)
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", CELERY_TASK_TIME_LIMIT + 30, minimum=1)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
OUTBOX_KEEP_DAYS = env_int("OUTBOX_KEEP_DAYS", 30, minimum=1)
# Celery's format: each entry mixes a task name, a schedule and options.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "petitions-count-confirmed": {
        "task": "petitions.tasks.petition_counts_update",
        "schedule": timedelta(seconds=COUNTER_INTERVAL_SECONDS),
        "options": {"expires": COUNTER_INTERVAL_SECONDS * 2},
    },
    # Every kind of email: the dispatcher, and the sweep behind it.
    "outbox-dispatch": {
        "task": "mechanisms.tasks.outbox_dispatch",
        "schedule": timedelta(seconds=OUTBOX_DISPATCH_SECONDS),
        "options": {"expires": OUTBOX_DISPATCH_SECONDS},
    },
    "outbox-sweep": {
        "task": "mechanisms.tasks.outbox_sweep",
        "schedule": timedelta(seconds=OUTBOX_SWEEP_SECONDS),
        "options": {"expires": OUTBOX_SWEEP_SECONDS},
    },
    "outbox-prune": {
        "task": "mechanisms.tasks.outbox_prune",
        "schedule": crontab(hour=2, minute=47),
    },
    "petitions-open-and-close": {
        "task": "petitions.tasks.petitions_open_and_close",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 60},
    },
    "petitions-recount-nightly": {
        "task": "petitions.tasks.petition_recount_all",
        "schedule": crontab(hour=3, minute=17),
    },
    "petitions-schedule-deliveries": {
        "task": "petitions.tasks.deliveries_schedule",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 300},
    },
    # Privacy: old IP hash keys go (and the hashes made with them), and signers' personal data
    # goes SIGNATURE_RETENTION_DAYS after their campaign closed.
    "privacy-prune-ip-hash-keys": {
        "task": "mechanisms.tasks.ip_hash_keys_prune",
        "schedule": crontab(hour=2, minute=7),
    },
    "privacy-anonymize-expired": {
        "task": "mechanisms.tasks.personal_data_anonymize_expired",
        "schedule": crontab(hour=2, minute=37),
    },
}

# --- Mail -----------------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", f"Cosign <noreply@{urlsplit(SITE_URL).hostname or 'localhost'}>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where the accessibility statement (/accessibility/) asks people to report a barrier or ask for
# content in another form: a mailbox a person reads, since the statement promises an answer.
ACCESSIBILITY_CONTACT_EMAIL = env_str(
    "ACCESSIBILITY_CONTACT_EMAIL", f"accessibility@{urlsplit(SITE_URL).hostname or 'localhost'}"
)
# Emails that anyone can cause to be sent to an address never confirmed on Cosign (confirmation
# links, organization contact links, invitations, password and "your signatures" links): at most
# this many a day to one mailbox, from all campaigns and forms together (mechanisms.mail).
# 0: no cap.
EMAIL_UNSOLICITED_PER_DAY = env_int("EMAIL_UNSOLICITED_PER_DAY", 20, minimum=0)

# --- Bounces (mechanisms.bounces) ----------------------------------------------------------------
# Bounces and complaints come from the mail provider's webhooks (django-anymail checks their
# signatures; each endpoint answers 404 until its key is set) and from a bounce mailbox read over
# IMAP every BOUNCE_MAILBOX_SECONDS (BOUNCE_MAILBOX_URL=imaps://user:password@host/INBOX; empty:
# not read). Bounce records are kept BOUNCE_KEEP_DAYS, suppressed addresses (keyed hashes)
# BOUNCE_SUPPRESSION_DAYS.
ANYMAIL = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": env_str("MAILGUN_WEBHOOK_SIGNING_KEY", ""),
    "MANDRILL_WEBHOOK_KEY": env_str("MANDRILL_WEBHOOK_KEY", ""),
    # Mandrill signs the URL it posts to; behind a proxy that rewrites it, give it here.
    "MANDRILL_WEBHOOK_URL": env_str("MANDRILL_WEBHOOK_URL", "") or None,
}
BOUNCE_WEBHOOK_MAX_BYTES = env_int("BOUNCE_WEBHOOK_MAX_BYTES", 1_000_000, minimum=1)
# A Mailgun webhook signed further than this from now is refused, and each signing token is
# remembered in Redis a little over twice as long, so a captured request cannot be replayed.
# Eight hours: Mailgun retries a webhook we failed to answer for up to eight hours, and the
# remembered tokens (not the window) are what stop a replay.
MAILGUN_WEBHOOK_MAX_AGE_SECONDS = env_int("MAILGUN_WEBHOOK_MAX_AGE_SECONDS", 28_800, minimum=1)
BOUNCE_MAILBOX_URL = env_str("BOUNCE_MAILBOX_URL", "")
if BOUNCE_MAILBOX_URL and not re.match(r"imaps?://[^/]", BOUNCE_MAILBOX_URL):
    raise ImproperlyConfigured(
        "BOUNCE_MAILBOX_URL must look like imaps://user:password@host/INBOX (see .env.example)"
    )
BOUNCE_MAILBOX_SECONDS = env_int("BOUNCE_MAILBOX_SECONDS", 300, minimum=1)
BOUNCE_MAILBOX_TIMEOUT = env_int("BOUNCE_MAILBOX_TIMEOUT", 30, minimum=1)
BOUNCE_KEEP_DAYS = env_int("BOUNCE_KEEP_DAYS", 90, minimum=1)
BOUNCE_SUPPRESSION_DAYS = env_int("BOUNCE_SUPPRESSION_DAYS", 365, minimum=1)
CELERY_BEAT_SCHEDULE["bounces-mailbox-read"] = {
    "task": "mechanisms.tasks.bounce_mailbox_read",
    "schedule": timedelta(seconds=BOUNCE_MAILBOX_SECONDS),
    "options": {"expires": BOUNCE_MAILBOX_SECONDS},
}
CELERY_BEAT_SCHEDULE["bounces-prune"] = {
    "task": "mechanisms.tasks.bounces_prune",
    "schedule": crontab(hour=2, minute=53),
}

# --- Signing --------------------------------------------------------------------------------------
# How long a confirmation link works, and how often one address may be re-sent a link or an
# "already signed" notice for the same petition (so the form cannot be used to flood an inbox).
SIGNATURE_CONFIRM_MAX_AGE = timedelta(days=env_int("SIGNATURE_CONFIRM_MAX_AGE_DAYS", 7, minimum=1))
# At least a minute: the outbox keeps one email per period of this length.
SIGNATURE_NOTICE_INTERVAL = timedelta(
    minutes=env_int("SIGNATURE_NOTICE_INTERVAL_MINUTES", 15, minimum=1)
)
# Response thresholds (petitions.thresholds): a target's answer link keeps working this many days
# past the date its answer was due, so a late answer still arrives; then it expires.
THRESHOLD_ANSWER_GRACE_DAYS = env_int("THRESHOLD_ANSWER_GRACE_DAYS", 60, minimum=1)
# How many thresholds one petition may have (its own and its targets' together).
THRESHOLDS_PER_PETITION = env_int("THRESHOLDS_PER_PETITION", 10, minimum=1)
# The key for the keyed hash of client IP addresses; the raw address is never stored.
IP_HASH_KEY = env_str("IP_HASH_KEY", SECRET_KEY)
# Admission (mechanisms.admission): each web process runs at most SIGN_CONCURRENCY sign POSTs at
# once and lets SIGN_QUEUE_LENGTH more wait up to SIGN_QUEUE_WAIT_MS for a turn; any other signer
# gets what they typed back, with a 503 and Retry-After: SIGN_RETRY_AFTER_SECONDS, nothing written
# and no rate-limit budget spent. A waiting signer holds a thread too, so signers take at most
# SIGN_CONCURRENCY + SIGN_QUEUE_LENGTH of a process's threads: give gunicorn more (--threads; the
# default 12 leaves 2), and readers of the page and widget always find one. The queue is longer than
# the slots because a proxy's kept-alive connections stay with one process: ten signers at once can
# all land on one of three, and the machine is not saturated for that. Four at once already keep a
# process's interpreter and its share of the database busy (a signature is mostly Python, with short
# waits on PostgreSQL and Redis); more would only lengthen each one's wait. A turn normally comes
# within one signature's time (a few milliseconds; six behind four, some 50 ms); a quarter of a
# second without one means the process is saturated. Not less: make bench measured 150 ms (accepted
# p99 at four times capacity 803-903 ms, against 977-1,010 at 250), but with Redis down a signature
# takes longer, and 150 ms turned 263 signers away during the outage where 250 turned away none.
# A queue that overflows is another matter: the process is saturated, and for a second after the
# queue was last full a waiter gets SIGN_QUEUE_WAIT_OVERFLOW_MS, and a signer who already waited
# SIGN_OVERFLOW_LATE_MS for a gunicorn thread (config/gunicorn_worker.py measures it) is refused at
# once: work started that late would be answered too late, and it delays everyone behind it. The
# Redis outage never fills the queue, so it keeps the long wait. make bench at four times capacity,
# one day, one machine: accepted p99 772 ms with both, 929 ms with 500 ms for late, 967-1,198 ms
# with the shorter wait alone, 1,281 ms with neither.
SIGN_CONCURRENCY = env_int("SIGN_CONCURRENCY", 4, minimum=1)
SIGN_QUEUE_LENGTH = env_int("SIGN_QUEUE_LENGTH", 6)
SIGN_QUEUE_WAIT_MS = env_int("SIGN_QUEUE_WAIT_MS", 250)
SIGN_QUEUE_WAIT_OVERFLOW_MS = env_int("SIGN_QUEUE_WAIT_OVERFLOW_MS", 100)
SIGN_OVERFLOW_LATE_MS = env_int("SIGN_OVERFLOW_LATE_MS", 300)
SIGN_RETRY_AFTER_SECONDS = env_int("SIGN_RETRY_AFTER_SECONDS", 3, minimum=1)

# --- Abuse resistance -----------------------------------------------------------------------------
# No third-party captcha and nothing that tracks people: rate limits on keyed IP hashes, a honeypot,
# a minimum fill time and a self-hosted proof of work. Signals flag a signature for a moderator;
# only rate limits and the honeypot refuse.


def env_rates(name: str, default: list[str]) -> list[str]:
    """Comma-separated "COUNT/PERIOD" rates (10/m, 60/h, 300/s, 5/10m); empty switches off."""
    rates = env_list(name, default)
    for rate in rates:
        if not re.fullmatch(r"[1-9]\d*/(?:[1-9]\d*)?[smhd]", rate):
            raise ImproperlyConfigured(f"{name}: {rate!r} is not a rate like 10/m or 5/10m")
    return rates


# Per action, three tiers counted in Redis (mechanisms.abuse.rate_limits): one keyed IP hash, one
# campaign (petition or letter), and the whole site; each a burst and a sustained window. The
# campaign and site limits only stop a flood: a viral petition takes hundreds per second.
_RATE_DEFAULTS = {
    "sign": (["10/m", "60/h"], ["300/s", "200000/h"], ["500/s", "1000000/h"]),
    "letter_sign": (["10/m", "60/h"], ["300/s", "200000/h"], ["500/s", "1000000/h"]),
    "join": (["5/m", "20/h"], [], ["60/m", "1000/h"]),
    "new_link": (["5/m", "30/h"], ["60/m", "2000/h"], ["100/s"]),
    "login": (["10/m", "50/h"], [], ["100/s"]),
    "my_data": (["5/m", "30/h"], [], ["100/s"]),
    # The public read API, per address; and per organization's token ("ip" is the token here).
    "api": (["120/m", "3000/h"], [], ["3000/s"]),
    "api_token": (["600/m", "20000/h"], [], ["3000/s"]),
    # A target answering through its tokenized link (petitions.thresholds), per campaign.
    "threshold_answer": (["10/m", "60/h"], ["30/m", "300/h"], ["100/m"]),
    # Mail providers' bounce webhooks, per sending address (a provider posts from a few).
    "bounce_webhook": (["600/m", "20000/h"], [], ["200/s"]),
}
RATE_LIMITS = {
    action: {
        "ip": env_rates(f"RATE_LIMIT_{action.upper()}_PER_IP", ip),
        "campaign": env_rates(f"RATE_LIMIT_{action.upper()}_PER_CAMPAIGN", campaign),
        "global": env_rates(f"RATE_LIMIT_{action.upper()}_GLOBAL", site),
    }
    for action, (ip, campaign, site) in _RATE_DEFAULTS.items()
}
# Counters and used proof-of-work challenges live under this cache prefix (tests vary it).
ABUSE_CACHE_PREFIX = "abuse:"
# A form sent sooner than this after its page was rendered is flagged `too_fast`; 0 switches the
# fill-time check off entirely (a missing timestamp is then no signal either).
ABUSE_MIN_FILL_SECONDS = env_int("ABUSE_MIN_FILL_SECONDS", 3)
# Proof of work (ALTCHA v1, SHA-256): the solver tries on average half this many hashes, about a
# second on an old phone. Challenges expire; a solved one is accepted once.
ALTCHA_MAX_NUMBER = env_int("ALTCHA_MAX_NUMBER", 100_000, minimum=1)
ALTCHA_EXPIRES_SECONDS = env_int("ALTCHA_EXPIRES_SECONDS", 1800, minimum=60)
# A form is often shown by one app host and sent to another: the fill-time and proof-of-work
# checks compare one host's clock with another's, and give them this much leeway. Hosts must run
# NTP (chrony, systemd-timesyncd), which keeps them within milliseconds; this covers a clock
# that has drifted a little, not one that is not synchronized at all.
CLOCK_SKEW_ALLOWANCE_SECONDS = env_int("CLOCK_SKEW_ALLOWANCE_SECONDS", 2)
# Signals that flag, as "more than COUNT in PERIOD" on one campaign: signatures from one IP hash,
# from one email domain (big free-mail providers get their own, higher threshold) and with
# near-identical names (2/10m: the third such name within ten minutes is flagged).
ABUSE_IP_BURST = env_rates("ABUSE_IP_BURST", ["5/10m"])
ABUSE_DOMAIN_BURST = env_rates("ABUSE_DOMAIN_BURST", ["20/10m"])
ABUSE_FREE_MAIL_BURST = env_rates("ABUSE_FREE_MAIL_BURST", ["1000/10m"])
ABUSE_NEAR_DUPLICATE = env_rates("ABUSE_NEAR_DUPLICATE", ["2/10m"])

# --- Privacy --------------------------------------------------------------------------------------
# Signers' names, emails, postal codes and IP hashes are removed this long after their campaign
# closed; counts, places and dates stay.
SIGNATURE_RETENTION_DAYS = env_int("SIGNATURE_RETENTION_DAYS", 180, minimum=1)
# IP hashes mix IP_HASH_KEY with a random secret per period (mechanisms.network); a daily task
# deletes the secrets of all but the last IP_HASH_KEYS_KEPT periods, after which hashes made with
# them link to no one, and blanks those hashes.
IP_HASH_KEY_ROTATION = env_str("IP_HASH_KEY_ROTATION", "month").lower()
if IP_HASH_KEY_ROTATION not in ("day", "week", "month"):
    raise ImproperlyConfigured(
        f"IP_HASH_KEY_ROTATION={IP_HASH_KEY_ROTATION!r} must be day, week or month"
    )
IP_HASH_KEYS_KEPT = env_int("IP_HASH_KEYS_KEPT", 2, minimum=1)
# A signature never confirmed (perhaps typed by someone else than the address's owner) is deleted
# this long after its last confirmation link stopped working (SIGNATURE_CONFIRM_MAX_AGE).
UNCONFIRMED_RETENTION_DAYS = env_int("UNCONFIRMED_RETENTION_DAYS", 30, minimum=1)
# How long the emailed "your signatures" link (see, download, withdraw) works.
MY_SIGNATURES_LINK_MAX_AGE = timedelta(
    hours=env_int("MY_SIGNATURES_LINK_MAX_AGE_HOURS", 24, minimum=1)
)

# --- Staff accounts -------------------------------------------------------------------------------
# Staff must pass a TOTP second factor to use the admin; on by default in production.
STAFF_REQUIRE_2FA = env_bool("STAFF_REQUIRE_2FA", default=not DEBUG)
# The account's label in authenticator apps; the host tells apart staff accounts on several sites.
OTP_TOTP_ISSUER = f"Cosign {urlsplit(SITE_URL).hostname or ''}".strip()
# Nobody, superusers included, reads a staff member's TOTP key back from the admin: a lost device
# is reset by deleting it, and the owner enrols a new one on their next admin visit.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Internationalization -------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("it", _("Italian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Campaign content (titles, bodies, demands, updates) is stored once per language by
# django-modeltranslation; a language left empty shows the other one, so a petition written in
# Italian reads in Italian to an English visitor until someone translates it.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("en", "it"), "it": ("it", "en")}
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LOGIN_URL = "accounts:login"
# Members log in to act for their organizations; staff keep using /admin/.
LOGIN_REDIRECT_URL = "accounts:my_organizations"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Security -------------------------------------------------------------------------------------
# Pages load nothing from another host: no CDN, web font, analytics or third-party captcha.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
# Pages are never framed, except the petition widget (/p/<slug>/embed/), which its view exempts
# and whose CSP allows any frame-ancestor: campaigners put it on their own sites.
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
_HTTPS = SITE_URL.startswith("https://")
# "Production" for transport security: DEBUG off and the site's public address on https. An
# http:// SITE_URL with DEBUG off is a local trial, where redirecting to https would lock it out.
_PRODUCTION_HTTPS = _HTTPS and not DEBUG
# Off behind a proxy that redirects http to https itself (with TRUST_X_FORWARDED_PROTO set, leaving
# it on is also right: the proxy's header tells Django which requests already came over https).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=_PRODUCTION_HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = _HTTPS
# Lax, not Strict: a supporter opens the confirmation link from their mail program, a cross-site
# navigation; with Strict a staff member following a link from a mail would arrive logged out.
# Lax still withholds the cookies from cross-site POSTs, frames and images.
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = LANGUAGE_COOKIE_SAMESITE = "Lax"
# A year, once the site is on https in production; 0 turns HSTS off.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if _PRODUCTION_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is a promise for the whole registrable domain, hard to take back, and impossible for
# a site on a subdomain (as most Cosign sites are): the operator of the domain opts in.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# `check --deploy` warns while preload is off (security.W021); for the reason above that is the
# operator's choice, not a misconfiguration. Every other deployment check stays on.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Django reads the header from any request; config.middleware.ForwardedHeadersMiddleware removes it
# (with every other forwarding header) from connections that are not TRUSTED_PROXIES, so a client
# reaching gunicorn directly cannot pass plain http off as https.
if env_bool("TRUST_X_FORWARDED_PROTO", default=False):
    if not TRUSTED_PROXIES:
        raise ImproperlyConfigured(
            "TRUST_X_FORWARDED_PROTO needs TRUSTED_PROXIES: X-Forwarded-Proto is believed only "
            "from the proxies listed there (see .env.example)"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# text (default): the human format below; json: one object per line with the request's id
# (mechanisms.log_format). Every line of a request, and of the tasks it enqueued, carries the id
# (mechanisms.request_ids).
LOG_FORMAT = env_str("LOG_FORMAT", "text").lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "mechanisms.log_format.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# The same, then a filter on every handler that redacts the secrets of our URLs (confirmation
# and answer links...) from what is logged (mechanisms.log_redaction).
LOGGING_CONFIG = "mechanisms.log_redaction.logging_configure"

# --- Metrics (mechanisms.metrics) -----------------------------------------------------------
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, the endpoint does not
# exist. Long and random: a guessable token guards nothing.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 24 characters (or unset)")
# prometheus-client reads it itself (multiprocess mode, under gunicorn); checked here so that a
# missing folder stops start-up rather than every worker's first request.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")
if not PROMETHEUS_MULTIPROC_DIR:
    # prometheus-client switches to multiprocess mode when the variable merely exists, and an
    # empty one (`PROMETHEUS_MULTIPROC_DIR=` as in .env.example) makes it write its files into
    # the working directory. Unset, it keeps its counts in memory, as a single process should.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR={PROMETHEUS_MULTIPROC_DIR!r}: no such folder"
    )

# --- Error reports (mechanisms.error_reports) -------------------------------------------------
# Unset: no error reports leave the site. Set: errors of the site and its workers go to Sentry
# (or a compatible service: GlitchTip), scrubbed of personal data as the logs are.
SENTRY_DSN = env_str("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "production")
SENTRY_RELEASE = env_str("SENTRY_RELEASE", "")
if SENTRY_DSN:
    from mechanisms.error_reports import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, release=SENTRY_RELEASE)


# --- API (config/api) -------------------------------------------------------------------------
# The public read API's anonymous answers are cached and may be served this stale (a count is
# already up to COUNTER_INTERVAL_SECONDS behind); browsers and CDNs are told the same.
API_CACHE_SECONDS = env_int("API_CACHE_SECONDS", 30)
REST_FRAMEWORK = {
    # Anonymous reads, and organizations' tokens where a view asks for one: never a session, so
    # no view of the API acts on a logged-in browser's cookie (and none needs CSRF).
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.JSONBodyParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "EXCEPTION_HANDLER": "config.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cosign API",
    "DESCRIPTION": (
        "Public campaign figures as open data, and an organization's own campaigns, signatures "
        "and supporters for its tools (OSDI). See the README's API section."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documentation page's scripts and styles come from Cosign, not a CDN (the CSP allows
    # nothing else).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Without deep links: Swagger UI makes each operation's path a link inside the button that
    # opens it (a control in a control, which screen readers cannot reach, and a target too small
    # to tap; WCAG 4.1.2 and 2.5.8).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PetitionStatusEnum": "petitions.models.Petition.Status",
        "LetterStatusEnum": "letters.models.OpenLetter.Status",
    },
}
CORS_URLS_REGEX = r"^/api/v1/(?!osdi/|webhooks/).*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_ALLOW_CREDENTIALS = False
CORS_EXPOSE_HEADERS = ("ETag", "Retry-After")

# --- Webhooks (accounts.webhooks, mechanisms.webhooks) ----------------------------------------
# Endpoints must be https:// and resolve to public addresses; a local trial or a test may allow
# plain http and private addresses (never in production).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
# A delivery is tried this many times, waiting WEBHOOK_RETRY_BASE_SECONDS, then twice as long
# after each failure (30 s, 1 min, 2 min, ... about two hours in all), then fails for good.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30, minimum=1)
# An endpoint failing this many attempts in a row is disabled, and its organization's
# administrators are emailed.
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 20, minimum=1)
WEBHOOK_DISPATCH_SECONDS = env_int("WEBHOOK_DISPATCH_SECONDS", 2, minimum=1)
# A rotated secret keeps signing beside the new one this long.
WEBHOOK_SECRET_OVERLAP_HOURS = env_int("WEBHOOK_SECRET_OVERLAP_HOURS", 24)
# Delivered and failed events are kept this long for the organization's log, then deleted.
WEBHOOK_DELIVERY_RETENTION_DAYS = env_int("WEBHOOK_DELIVERY_RETENTION_DAYS", 30, minimum=1)
CELERY_BEAT_SCHEDULE["webhooks-prune"] = {
    "task": "accounts.tasks.webhooks_prune",
    "schedule": crontab(hour=2, minute=37),
}
CELERY_BEAT_SCHEDULE["webhooks-dispatch"] = {
    "task": "accounts.tasks.webhooks_dispatch",
    "schedule": timedelta(seconds=WEBHOOK_DISPATCH_SECONDS),
    "options": {"expires": WEBHOOK_DISPATCH_SECONDS},
}

# --- Campaign images and share cards (mechanisms.images, mechanisms.share_cards) -----------------
# Uploaded images are stored re-encoded, under content-hashed names, through Django's storage API:
# local files under MEDIA_ROOT by default (served by Cosign itself at /media/images/, see
# mechanisms.media), or any S3-compatible bucket with MEDIA_STORAGE=s3 (django-storages).
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_STORAGE = env_str("MEDIA_STORAGE", "local").lower()
if MEDIA_STORAGE == "s3":
    AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "")
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
    # Without a custom domain, images load from the bucket's own address, which pages must then
    # be allowed to load (img-src below); a domain of your own keeps readers' browsers off it.
    AWS_S3_CUSTOM_DOMAIN = os.environ.get("AWS_S3_CUSTOM_DOMAIN", "").strip() or None
    AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL", "").strip() or None
    _S3_STORAGE: Any = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "region_name": os.environ.get("AWS_S3_REGION_NAME", "").strip() or None,
            "access_key": os.environ.get("AWS_S3_ACCESS_KEY_ID", "").strip() or None,
            "secret_key": os.environ.get("AWS_S3_SECRET_ACCESS_KEY", "").strip() or None,
            "custom_domain": AWS_S3_CUSTOM_DOMAIN,
            # Public, unsigned, long-lived addresses: the page cache keeps them for its bucket
            # and browsers for a year; names change with the content.
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
    STORAGES["default"] = _S3_STORAGE
    _media_host = AWS_S3_CUSTOM_DOMAIN or (
        urlsplit(AWS_S3_ENDPOINT_URL).netloc
        if AWS_S3_ENDPOINT_URL
        else f"{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com"
    )
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(f"https://{_media_host}")
elif MEDIA_STORAGE != "local":
    raise ImproperlyConfigured(f"MEDIA_STORAGE={MEDIA_STORAGE!r}: use local or s3")
# An upload larger than this (in bytes) is refused before it is decoded; in the workspace, a
# file is dropped as soon as it passes this while it streams in, never stored whole.
IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 10 * 1024 * 1024, minimum=100 * 1024)
# Uploads are streamed to a temporary file past this, not held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Seconds a drawn share card is kept in the cache and by browsers and crawlers; its address
# changes with the count, so a new count gets a new card at once.
SHARE_CARD_CACHE_SECONDS = env_int("SHARE_CARD_CACHE_SECONDS", 7 * 24 * 3600, minimum=60)
