# TPM: one image for every role. The default command serves the web app with gunicorn;
# the same image runs `celery -A tpm worker`, `celery -A tpm beat` and manage.py commands.
# See docs/deployment.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=tpm.settings \
    TPM_DATA_DIR=/app/var

WORKDIR /app

RUN groupadd --system --gid 10001 tpm \
    && useradd --system --uid 10001 --gid tpm --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin tpm

# Dependencies first so source edits don't reinstall them (pyproject declares no packages).
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .

COPY . .
RUN mkdir -p /app/var && chown tpm:tpm /app/var

USER tpm

# Settings only parse DATABASE_URL/REDIS_URL; nothing connects during collectstatic, so any
# syntactically valid URLs keep the embedded servers from starting. Build-time values only.
RUN DATABASE_URL=postgres://x@localhost/x REDIS_URL=redis://localhost:6379/0 \
    SECRET_KEY=build-only python manage.py collectstatic --noinput

EXPOSE 8000

# Host: the first usable ALLOWED_HOSTS entry; X-Forwarded-Proto keeps SECURE_SSL_REDIRECT=1
# from redirecting the probe. Non-web roles (worker, beat) override or disable this check.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; h = next((x.strip().lstrip('.') for x in os.environ.get('ALLOWED_HOSTS', '').split(',') if x.strip() not in ('', '*')), 'localhost'); r = u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}); sys.exit(0 if u.urlopen(r, timeout=5).status == 200 else 1)"]

CMD ["gunicorn", "tpm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
