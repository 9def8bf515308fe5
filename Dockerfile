# The service behind gunicorn (gunicorn.conf.py), as an unprivileged user.
#   docker build -t staffing .
#   docker run --rm -e SECRET_KEY=... -e DATABASE_URL=postgresql://... staffing \
#       staffing db upgrade
#   docker run -d -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=postgresql://... staffing
#   docker run -d -e REDIS_URL=redis://... -e DATABASE_URL=... staffing staffing worker
# compose.yaml runs all of it (PostgreSQL, Redis, migrations, web, workers): docker compose up
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STAFFING_ENV=production \
    STAFFING_MIGRATIONS_DIR=/app/migrations \
    STAFFING_INSTANCE_PATH=/app/instance

WORKDIR /app
COPY pyproject.toml README.md ./
COPY staffing ./staffing
COPY solver ./solver
RUN pip install .
# Migrations sit beside the package, not in it: STAFFING_MIGRATIONS_DIR points at them.
COPY migrations ./migrations
COPY gunicorn.conf.py ./

# The instance folder (STAFFING_INSTANCE_PATH) holds the SQLite file when no DATABASE_URL is set.
RUN useradd --create-home --uid 10001 staffing \
    && mkdir -p /app/instance && chown staffing /app/instance
USER staffing

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# gunicorn.conf.py: 0.0.0.0:8000, WEB_CONCURRENCY workers (2) of GUNICORN_THREADS threads (8)
CMD ["gunicorn", "-c", "gunicorn.conf.py", "staffing:create_app()"]
