# The media service's image (README: Production). Built from the repository root:
#   docker build -f deploy/docker/media.Dockerfile -t returns/media .
# Only the shared contracts and this service's own package are installed, each as a wheel, over
# the third-party packages of deploy/docker/media.lock (exact versions, sha256 hashes).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY deploy/docker/build.lock deploy/docker/media.lock /src/locks/
# /opt/build holds the build backend (hatchling, locked too); /opt/venv is what the image ships.
RUN python -m venv /opt/build \
 && /opt/build/bin/pip install --require-hashes --no-deps -r locks/build.lock \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes --no-deps -r locks/media.lock
COPY contracts /src/contracts
COPY services/media /src/services/media
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /src/wheels \
      ./contracts ./services/media \
 && /opt/venv/bin/pip install --no-deps /src/wheels/*.whl

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 returns \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin returns
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8002
USER 10001:10001
EXPOSE 8002
# Ready means MongoDB, Kafka (and S3 where used) answer: the kit's /readyz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/readyz' % os.environ.get('HTTP_PORT', '8002'); sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"]
CMD ["returns-media"]
