# syntax=docker/dockerfile:1
#
# Bedside container image.
#
#   docker build -t bedside:0.1.0 .
#   docker run --rm -p 8080:8080 -v bedside-data:/data -e BEDSIDE_QUICKSTART=1 bedside:0.1.0
#
# Two stages: `build` installs the locked, hash-checked runtime dependencies
# (requirements-runtime.lock, no test or lint tools) and the package into a virtual environment;
# the runtime stage copies only that environment, the migrations and the example policies, and
# runs as an unprivileged user. docs/deploy.md has the details.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/bedside
ENV PATH=/opt/bedside/bin:$PATH
WORKDIR /src

# Dependencies first, so this layer is reused until the lock changes. The runtime lock only
# (compiled without the dev extra: no test or lint tool in the image; .dockerignore keeps the dev
# lock out of the build context). Every file is checked against the hashes in the lock;
# --no-deps means nothing outside the lock is ever installed.
COPY requirements-runtime.lock /src/requirements-runtime.lock
RUN pip install --require-hashes --no-deps -r /src/requirements-runtime.lock

# Then the package itself: a regular (not editable) install into the environment. Its build
# backend (setuptools) comes from the lock above, hence --no-build-isolation.
COPY pyproject.toml README.md /src/
COPY proxy /src/proxy
RUN pip install --no-deps --no-build-isolation /src \
 && bedside version

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="Bedside" \
      org.opencontainers.image.description="An OpenAI-compatible guardrail proxy: policies as code in front of any chat model" \
      org.opencontainers.image.licenses="Apache-2.0"

ARG UID=10001
RUN groupadd --system --gid "${UID}" bedside \
 && useradd --system --uid "${UID}" --gid bedside --home-dir /home/bedside --create-home \
            --shell /usr/sbin/nologin bedside \
 && mkdir -p /data /etc/bedside /usr/share/bedside \
 && chown bedside:bedside /data

COPY --from=build /opt/bedside /opt/bedside
# The package finds its alembic scripts beside the source tree, which an installed package does
# not have: BEDSIDE_MIGRATIONS_DIR points it here instead.
COPY migrations /usr/share/bedside/migrations
# The example policies, used unless a directory (e.g. a Kubernetes ConfigMap) is mounted over it.
COPY policies /etc/bedside/policies

ENV PATH=/opt/bedside/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BEDSIDE_DATA_DIR=/data \
    BEDSIDE_SERVER__HOST=0.0.0.0 \
    BEDSIDE_SERVER__PORT=8080 \
    BEDSIDE_POLICY__DIRECTORY=/etc/bedside/policies \
    BEDSIDE_MIGRATIONS_DIR=/usr/share/bedside/migrations

# SQLite database and generated keys (subject.key). With PostgreSQL only the keys live here.
VOLUME ["/data"]
WORKDIR /home/bedside
USER ${UID}:${UID}
EXPOSE 8080

# /healthz answers as soon as the server runs (no curl in a slim image: Python's urllib).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BEDSIDE_SERVER__PORT', '8080'), timeout=4); sys.exit(0 if r.status == 200 else 1)"]

# SIGTERM drains (BEDSIDE_SERVER__SHUTDOWN_GRACE_SECONDS, 20 s, then the last audit write):
# stop with `docker stop -t 35` or run with `--stop-timeout 35` (Docker's default is 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["bedside"]
CMD ["serve"]
