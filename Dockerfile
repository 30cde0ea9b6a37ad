# The production image: gunicorn serving Django, static files by WhiteNoise.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    PATH="/opt/venv/bin:$PATH"

WORKDIR /app
RUN pip install --no-cache-dir "uv==0.13.9"
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
# Build-time only settings: collect static files and compile the translations.
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput \
 && DJANGO_SECRET_KEY=build-only python manage.py compiletranslations \
 && useradd --system --home /app community && chown -R community /app
USER community

EXPOSE 8000
# gunicorn reads its number of sync workers from WEB_CONCURRENCY: about one per core, plus one
# (set it in .env).
ENV WEB_CONCURRENCY=3
CMD ["gunicorn", "community.wsgi:application", "--bind", "0.0.0.0:8000", "--timeout", "60", "--access-logfile", "-"]
