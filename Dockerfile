# The bot as an image: CPU-only PyTorch, the shipped models inside, running as a non-root user.
#   docker build -t autointel-bot .
#   docker run --env-file .env autointel-bot                      # one process, SQLite in /data
#   docker compose up                                             # PostgreSQL + two shard processes
# Nothing here was built on the machine this was written on (it has no Docker daemon); see README,
# "Scaling out".
FROM python:3.11-slim

ARG TORCH_SPEC=torch==2.13.0
# The CPU build of PyTorch goes in first, from PyTorch's CPU wheel index: otherwise installing
# sentence-transformers pulls the CUDA build (gigabytes this bot never uses).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    DATA_DIR=/data

RUN pip install --index-url "${TORCH_INDEX_URL}" "${TORCH_SPEC}"

WORKDIR /app
# Dependencies first (a code change does not reinstall them), then the code and the models.
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
COPY core ./core
COPY models ./models
# Editable, so core/ finds models/ beside it (core/inference loads them from the repository root).
RUN pip install -e . \
    && useradd --create-home --uid 10001 --user-group intel \
    && mkdir -p /data \
    && chown intel:intel /data

USER intel
VOLUME ["/data"]
# Prometheus /metrics when METRICS_PORT is set (compose sets 9100).
EXPOSE 9100

ENTRYPOINT ["python", "-m", "bot"]
