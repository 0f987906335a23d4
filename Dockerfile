# Ketenpoort gateway image.
#
#   docker build -t ketenpoort:dev .
#   docker run --rm ketenpoort:dev types            # any `ketenpoort` command
#   docker run ... ketenpoort:dev                   # `ketenpoort serve` (the default)
#
# Configuration comes from KETENPOORT_* environment variables (gateway/settings.py); see
# deploy/README.md, deploy/compose.yaml and deploy/k8s/ for complete examples.

# ---------------------------------------------------------------------- build stage
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# The locked dependencies first, every file checked against its hash (requirements.lock,
# scripts/lock.sh), then the project without dependencies: nothing unpinned or unhashed.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
# Only what `pip install .` needs: the metadata (pyproject.toml names README.md as the
# readme) and the two packages. schemas/ policy/ examples/ are data, copied below.
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY adapters ./adapters
RUN pip install --no-deps --no-build-isolation . \
    && pip check \
    && ketenpoort --help >/dev/null

# -------------------------------------------------------------------- runtime stage
FROM python:3.11-slim

# Dutch local time (a person's inzage shows times in Europe/Amsterdam) needs the IANA time
# zone data, which the slim image does not promise.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*

# A fixed, non-root uid/gid: Kubernetes' runAsNonRoot checks a numeric USER, and the
# compose volumes (certs, keys) are created owned by it.
ARG UID=10001
ARG GID=10001
RUN groupadd --system --gid "$GID" ketenpoort \
    && useradd --system --uid "$UID" --gid ketenpoort --no-create-home \
        --home-dir /var/lib/ketenpoort --shell /usr/sbin/nologin ketenpoort \
    && mkdir -p /var/lib/ketenpoort/keys /var/lib/ketenpoort/certs \
    && chown -R ketenpoort:ketenpoort /var/lib/ketenpoort \
    && chmod 0750 /var/lib/ketenpoort /var/lib/ketenpoort/keys

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
COPY schemas ./schemas
COPY policy ./policy
COPY examples ./examples

# The installed package cannot find schemas/ and policy/ next to itself (it lives in
# site-packages), so their folders are named here. Everything else is deployment-specific
# and set by compose or the Kubernetes Deployment.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KETENPOORT_SCHEMA_DIR=/app/schemas/v1 \
    KETENPOORT_POLICY_DIR=/app/policy/v1 \
    KETENPOORT_AUDIT_KEY_DIR=/var/lib/ketenpoort/keys \
    KETENPOORT_HTTP_HOST=0.0.0.0 \
    KETENPOORT_HTTP_PORT=8443 \
    KETENPOORT_OPS_HOST=0.0.0.0 \
    KETENPOORT_OPS_PORT=9464 \
    KETENPOORT_LOG_JSON=true

USER 10001:10001

# The HTTPS door (partner API, audit pages; TLS) and the ops port (/health/live,
# /health/ready, /metrics; plain HTTP, keep it off the partners' network).
EXPOSE 8443 9464

# No HEALTHCHECK: Kubernetes probes /health/live and /health/ready itself.
ENTRYPOINT ["ketenpoort"]
CMD ["serve"]
