# One image, one process per container: SQLite in /data by default,
# or PostgreSQL (+ Redis for several replicas) through PARLEY_DATABASE_URL / PARLEY_REDIS_URL.
# tests/test_dockerfile.py runs these steps (the pip install and the CMD) without a Docker engine.

FROM node:20-slim AS web
WORKDIR /app/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PARLEY_DATA_DIR=/data \
    PARLEY_HOST=0.0.0.0 \
    PARLEY_PORT=8000 \
    PARLEY_WEB_DIR=/app/web \
    PARLEY_LOG_JSON=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY server server
COPY db db
COPY client_demo client_demo
RUN pip install --no-cache-dir .
COPY web web
COPY --from=web /app/web/node_modules web/node_modules
# /files: the shared files volume of several nodes (deploy/compose.yaml), owned like /data.
RUN useradd --system --uid 10001 parley && mkdir -p /data /files && chown parley /data /files
USER parley
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"]
CMD ["parley", "serve"]
