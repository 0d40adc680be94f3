# MotorNet Studio server (CPU). Build: docker build -t motornet-studio .
# GPU images: see docs/server.md ("GPU").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MOTORNET_STUDIO_HOST=0.0.0.0 \
    MOTORNET_STUDIO_PORT=8000 \
    MOTORNET_STUDIO_DATA_DIR=/data \
    MOTORNET_STUDIO_FRONTEND_DIR=/app/frontend

WORKDIR /app

# CPU-only torch from PyTorch's CPU index first: the default PyPI wheel bundles CUDA libraries.
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu "torch==2.13.*" \
    && pip install --no-cache-dir "psycopg[binary]==3.2.*"

COPY pyproject.toml README.md ./
COPY motornet_core ./motornet_core
COPY backend ./backend
COPY frontend ./frontend
# EXTRAS="[ray]": the image of docker compose --profile ray (Ray head, workers and the studio using them)
ARG EXTRAS=""
# the project itself (its extras are pinned in pyproject.toml)
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".${EXTRAS}" \
    && useradd --create-home --uid 1000 --user-group studio \
    && mkdir -p /data \
    && chown studio /data

USER 1000:1000
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4) if not os.environ.get('MOTORNET_STUDIO_ACCESS_TOKEN') else urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/api/health', headers={'X-Access-Token': os.environ['MOTORNET_STUDIO_ACCESS_TOKEN']}), timeout=4)"]

CMD ["motornet-studio", "serve"]
