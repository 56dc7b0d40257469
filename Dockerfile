# Cosign's image (README "Deploying"): a builder stage installs the dependencies into a venv and
# prepares the code (translations compiled, static files collected); the runtime stage copies
# those into a clean base image with no compiler, package cache or build tool, and runs as a user
# without privileges. Both stages use the same base, so the venv's python links stay valid.
#
#   docker build -t cosign .
#   docker run --env-file .env -p 8000:8000 cosign              # web (the default command)
#   docker run --env-file .env cosign worker                     # or beat, migrate, any command

FROM python:3.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# msgfmt (gettext) compiles the translations. Not pinned to a version: Debian keeps only the
# current version of a package in a stable release's archive, so a pin would break the build at
# its next point release; the base image's tag already fixes the release (bookworm).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app

# The dependencies first, from pyproject.toml alone, so that a change to the code reuses this
# layer. Every one of them ships a manylinux wheel, so no compiler is needed. pyproject.toml
# installs no package of its own (the code runs from /app), and its metadata names README.md.
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .

# `make messages` without make: each catalog compiled beside its .po (the .mo files are built,
# never committed).
RUN for po in locale/*/LC_MESSAGES/django.po; do \
        msgfmt --check -o "${po%.po}.mo" "$po" || exit 1; \
    done

# Static files collected with DEBUG off, because only then do the settings choose WhiteNoise's
# manifest storage (hashed, compressed copies), which the running site looks names up in. DEBUG=0
# also makes the settings refuse to load without SECRET_KEY, ALLOWED_HOSTS, SITE_URL and
# EMAIL_URL: these placeholders exist for this one command and are not in the image.
RUN DEBUG=0 \
    SECRET_KEY=collectstatic-only-never-used-to-sign \
    ALLOWED_HOSTS=build.invalid \
    SITE_URL=https://build.invalid \
    EMAIL_URL=consolemail:// \
    python manage.py collectstatic --noinput \
    && python -m compileall -q config mechanisms accounts petitions letters


FROM python:3.11-slim-bookworm

# GUNICORN_BIND: every interface of the container, where the published port reaches it (the
# default, 127.0.0.1, is for a host with a proxy beside gunicorn). MEDIA_ROOT: uploaded images, on
# a volume (compose.yaml).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    GUNICORN_BIND=0.0.0.0:8000 \
    MEDIA_ROOT=/var/lib/cosign/media

# The user the processes run as owns only its home and the media folder: the code and the venv
# stay root's, so a compromised process cannot change them.
RUN groupadd --system --gid 10001 cosign \
    && useradd --system --uid 10001 --gid cosign --home-dir /var/lib/cosign \
        --shell /usr/sbin/nologin cosign \
    && install -d -o cosign -g cosign -m 0750 /var/lib/cosign /var/lib/cosign/media

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
WORKDIR /app
# Numeric, so a platform can tell it is not root without reading the image's /etc/passwd.
USER 10001:10001

EXPOSE 8000

# /healthz: the process lives (it reads neither the database nor Redis; config/health.py), which
# is what a restart can mend. compose.yaml gives the worker and beat containers their own checks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# config/entrypoint.py waits for the database, migrates if MIGRATE_ON_START=1, then execs the
# command, which so receives the stop signal itself: `web` is gunicorn -c config/gunicorn.conf.py,
# the production serving model (README "Choosing the serving model").
ENTRYPOINT ["python", "/app/config/entrypoint.py"]
CMD ["web"]
