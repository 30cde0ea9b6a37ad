"""The framework floor: the least a Django request costs on this machine, served by the same
gunicorn command line as the project (bench/http.py). One view answering ``ok``, no
database, no apps, no templates; only SecurityMiddleware (with the project's production
security settings, so the same headers are checked and added) and CommonMiddleware.
"""

import os

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1").split(",")
INSTALLED_APPS: list[str] = []
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

# As community/settings.py in production: behind a TLS proxy that says X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31_536_000
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
