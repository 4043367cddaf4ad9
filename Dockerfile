# Web, worker and beat share this image; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1

# gettext: compilemessages at build time; fonts-wqy-microhei: Chinese in the PDF minutes.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir uv \
    && uv pip install --system -r requirements.lock

COPY . .
# Static files and translations are baked into the image; DEBUG=0 serves them via WhiteNoise.
# The build signs nothing: a throwaway key satisfies the settings (the real one comes at run time).
RUN export SECRET_KEY=build-only-not-used-at-run-time DEBUG=0 \
    && python manage.py compilemessages -v 0 --ignore=.venv \
    && python manage.py collectstatic --noinput -v 0

RUN useradd --create-home --uid 1000 targetpilot
USER targetpilot

EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
