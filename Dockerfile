# Jiexiangtong: one image for web (gunicorn), worker and beat (celery). See docs/operations.md.
FROM python:3.11-slim

# PYTHONPATH: the source tree, not the copy pip puts in site-packages, must win, because
# settings find templates/, static/ and locale/ next to config/.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    JXT_VAR_DIR=/app/var \
    WEB_CONCURRENCY=3

WORKDIR /app
RUN useradd --system --create-home --uid 10001 --user-group jxt

# Dependencies first, in their own layer, so a code change does not reinstall them: exactly the
# versions CI tested, every file checked against its hash. requirements-runtime.lock is
# requirements.lock (what dev.py and CI install) without the test extra, made from the same pins,
# so the image carries no pytest, playwright or mypy.
COPY requirements-runtime.lock ./
RUN pip install --require-hashes -r requirements-runtime.lock

COPY . .
# collectstatic needs settings, and production settings need a secret: a throwaway one, only for this step.
RUN pip install --no-deps . \
    && DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only-not-a-secret-collectstatic-placeholder-value \
       python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var/media \
    && chown -R jxt:jxt /app/var

USER jxt
EXPOSE 8000
# WEB_CONCURRENCY sets the number of gunicorn workers.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
