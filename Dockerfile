FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY keyboards ./keyboards
COPY backend_client ./backend_client
COPY locales ./locales
RUN pip install . \
 && pybabel compile -d locales -D messages \
 && useradd --system --uid 10001 --home /app emk \
 && mkdir -p /app/var && chown emk /app/var

USER emk
EXPOSE 8080
CMD ["python", "-m", "bot", "run"]
