"""Settings for the community platform, read from the environment (django-environ).

Without DATABASE_URL / REDIS_URL the project runs on the *embedded default*: SQLite,
Celery tasks executed in-process, e-mail printed to the console. That is what `make run`
gives a newcomer. Production sets the variables listed in README.md.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------------------------
# The embedded default (no DATABASE_URL: SQLite next to manage.py) is for trying the project on
# one machine: debug mode and a development key unless told otherwise, so `python manage.py …`
# works there as `make run` does. With DATABASE_URL (production, docker-compose) debug is off
# and DJANGO_SECRET_KEY is required.
EMBEDDED = not env.str("DATABASE_URL", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=EMBEDDED)
if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key-do-not-deploy")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "anymail",
    # The five packages, in their import order (CONVENTIONS.md).
    "members",
    "questions",
    "rewards",
    "rotation",
    "community",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "community.middleware.ContentSecurityPolicyMiddleware",
    # Redis or the broker failing inside a view: 503 "try again shortly", never a 500.
    "community.degraded.ServiceUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "community.urls"
WSGI_APPLICATION = "community.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "community.context_processors.notifications",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# The embedded default is SQLite next to manage.py; DATABASE_URL selects PostgreSQL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# PostgreSQL connections are kept for a minute and reused (opening one per request cost most
# of a short request's time), each checked before it is reused after a request, so a database
# restart costs one failed check, not an error. Many workers: put pgbouncer in front (README).
DATABASES["default"]["CONN_MAX_AGE"] = env.int(
    "DATABASE_CONN_MAX_AGE", default=60 if env.str("DATABASE_URL", default="") else 0
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind pgbouncer in transaction pooling, a server-side cursor (the streamed exports) cannot
# outlive its transaction's connection: Django then reads them client-side.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DATABASE_TRANSACTION_POOLING", default=False
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "members.User"

# --- Redis: cache, Celery ---------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # While Redis is down the cache answers from this process's memory (community/degraded.py):
    # pages see a miss, rate limits count per process, nothing answers 500. Short timeouts,
    # so an unreachable Redis costs a request little.
    CACHES = {
        "default": {
            "BACKEND": "community.degraded.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="community"),
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=0.5),
                "socket_timeout": env.float("REDIS_TIMEOUT", default=1.0),
            },
        }
    }
    # Sessions stay in PostgreSQL (Django's default), not cached_db: while Redis is down the
    # cache answers from each process's memory, so a sign-out then would not reach Redis and
    # the old session would be read from it again once Redis is back.
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tasks are queued through the transactional outbox (members/outbox.py): a broker outage
# delays them (the beat relay sends them once it is back) but loses none.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Embedded default: no broker, so tasks run in the calling process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fixup closes the database connection around every task unless told to keep
# it for this many tasks: on a busy worker (the weekly close fans out one task per
# community) a new PostgreSQL connection per task costs about a fifth of the machine.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=0) or None

# --- Authentication (django-allauth) ----------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# Verification is mandatory wherever real users sign up; the embedded default relaxes it so a
# newcomer can try sign-up without a mail server.
ACCOUNT_EMAIL_VERIFICATION = env.str(
    "ACCOUNT_EMAIL_VERIFICATION", default="optional" if EMBEDDED else "mandatory"
)
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# allauth's rate limits stay on, stored in the cache (Redis in production; while Redis is down,
# each process's memory: community/degraded.py). They count per client address, so behind a
# proxy set TRUSTED_PROXY_COUNT (the docker-compose path: 1).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Community")
# A code is accepted for one 30-second step either side of now (RFC 6238 §5.2): a code
# typed as it turns over, or from a phone whose clock is a little off, still works. allauth
# refuses a code used once already, so the wider window does not allow replays.
MFA_TOTP_TOLERANCE = 1
# Organisers reach money pages only when signed in with TOTP (members.access.access_money).
# The embedded default relaxes it so the demo organiser can open the ledger at once.
COMMUNITY_ORGANISER_MFA_REQUIRED = env.bool(
    "COMMUNITY_ORGANISER_MFA_REQUIRED", default=not EMBEDDED
)

# --- Moderator rotation (rotation/) ----------------------------------------------------------
# Weeks of the schedule published after the current one, and how many days before a shift
# its moderator is reminded.
ROTATION_SCHEDULE_WEEKS = env.int("ROTATION_SCHEDULE_WEEKS", default=8)
ROTATION_REMINDER_DAYS = env.int("ROTATION_REMINDER_DAYS", default=2)

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "members.pagination.Pagination",
    "DEFAULT_PARSER_CLASSES": [
        "community.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "community.api.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"token": env.str("API_TOKEN_THROTTLE", default="10/min")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "community.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Community API",
    "DESCRIPTION": "Paid learning communities: members, profiles, questions, the fund.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name with another: each its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "MembershipRoleEnum": "members.models.Membership.Role",
        "QuestionStateEnum": "questions.models.Question.State",
        "SwapStateEnum": "rotation.models.SwapRequest.State",
        "PaymentMethodEnum": "rewards.models.Payment.Method",
        # The names these had before the output shapes used the same field names.
        "RoleEnum": "members.serializers.ADDABLE_ROLES",
        "PayoutInputMethodEnum": "rewards.models.Payout.Method",
        "StateEnum": "questions.digests.models.Digest.State",
        "StatusEnum": "members.models.Membership.Status",
    },
}

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (WhiteNoise) ----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Question and answer attachments: outside MEDIA_ROOT, with no URL; they are served only
    # through questions.views.attachment after an access check.
    "attachments": {
        "BACKEND": "community.storage.PrivateFileSystemStorage",
        "OPTIONS": {
            "location": env.path("DJANGO_PRIVATE_MEDIA_ROOT", default=BASE_DIR / "private-media"),
        },
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("DJANGO_STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10_485_760
MEMBER_IMPORT_MAX_BYTES = env.int("MEMBER_IMPORT_MAX_BYTES", default=2_000_000)
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)

# --- E-mail -----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Community <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A provider's API instead of SMTP, through django-anymail: set EMAIL_BACKEND to its backend
# (e.g. anymail.backends.postmark.EmailBackend) and ANYMAIL to its settings as JSON
# ({"POSTMARK_SERVER_TOKEN": "…", "WEBHOOK_SECRET": "user:password"}). Point the provider's
# tracking webhook at /anymail/<provider>/tracking/: bounces, rejections and complaints mark
# the address undeliverable (members.mail) and nothing more is sent to it.
if env.str("EMAIL_BACKEND", default=""):
    EMAIL_BACKEND = env.str("EMAIL_BACKEND")
ANYMAIL = env.json("ANYMAIL", default={})

# --- The weekly digest (questions.digests) ----------------------------------------------------
# The "digest on time" KPI: published within this many days after the week's end.
DIGEST_DUE_DAYS = env.int("DIGEST_DUE_DAYS", default=3)
# One-click unsubscribe links in digest e-mails stop working after this many days.
DIGEST_UNSUBSCRIBE_MAX_AGE_DAYS = env.int("DIGEST_UNSUBSCRIBE_MAX_AGE_DAYS", default=180)
# E-mails sent per batch (one task, one connection to the mail server).
DIGEST_BATCH_SIZE = env.int("DIGEST_BATCH_SIZE", default=200)

# --- Security (checked by `manage.py check --deploy`) ----------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
# Subdomains and the browsers' preload list are the deployer's decision (both are hard to
# undo), so they are opt-in and their deploy-check warnings are silenced until chosen.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Content-Security-Policy (community.middleware): scripts and styles only from this site.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- Stripe -----------------------------------------------------------------------------------
# Payments through Stripe Checkout and its webhooks (rewards.stripe.gateway). Without a secret
# key the join and tip pages say paying online is not set up. Fees are sent inline
# (price_data) because every community sets its own, so no Stripe prices need creating.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Where the SDK sends API calls: empty means Stripe itself; the tests set a local fake.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Payment methods switched on in the site's Stripe account, e.g. "card,alipay,wechat_pay".
# Checkout offers cards, plus Alipay and WeChat Pay where a community accepts them (its
# settings) and they are listed here; WeChat Pay cannot pay a subscription.
STRIPE_PAYMENT_METHODS = env.list("STRIPE_PAYMENT_METHODS", default=["card"])
# This deployment's name on a Stripe account it shares with others (staging and a demo on
# the same test keys): it prefixes every idempotency key we send (keys name our own rows,
# e.g. "checkout:17") and marks the metadata of what we create, so one deployment never
# gets another's session nor acts on another's webhooks. Each must set a different one.
STRIPE_DEPLOYMENT_NAME = env.str("STRIPE_DEPLOYMENT_NAME", default="")
# Stripe Connect: members connect an Express account from their earnings page and organisers
# pay them out by transfer. Needs Connect switched on in the Stripe account; a connected
# account's country defaults to the platform's (STRIPE_CONNECT_COUNTRY, e.g. "SG").
STRIPE_CONNECT = env.bool("STRIPE_CONNECT", default=False)
STRIPE_CONNECT_COUNTRY = env.str("STRIPE_CONNECT_COUNTRY", default="")
# Events about connected accounts (account.updated) come to a Connect webhook endpoint in
# Stripe's dashboard with its own signing secret; point it at the same address.
STRIPE_CONNECT_WEBHOOK_SECRET = env.str("STRIPE_CONNECT_WEBHOOK_SECRET", default="")
# The demo's way in without Stripe: with no STRIPE_SECRET_KEY and DEBUG on, the join page
# offers a clearly marked "demo payment" that records the fees as an offline payment (no money
# moves; rewards.checkout.join_demo). Never offered with DEBUG off or Stripe keys set.
DEMO_PAYMENTS = env.bool("DEMO_PAYMENTS", default=DEBUG)

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- The product's own defaults ---------------------------------------------------------------
DIRECTORY_PAGE_SIZE = 24
QUESTIONS_PAGE_SIZE = 20
COMMENT_EDIT_WINDOW_MINUTES = env.int("COMMENT_EDIT_WINDOW_MINUTES", default=15)
# How long the rendered HTML of answers and discussions is kept in the cache
# (questions/fragments.py; its keys change with what it shows); 0 turns it off.
FRAGMENT_CACHE_SECONDS = env.int("FRAGMENT_CACHE_SECONDS", default=24 * 60 * 60)
# A community's landing page as visitors see it, per language (members/views.py); its active
# members' count may be this old. 0 turns it off.
LANDING_CACHE_SECONDS = env.int("LANDING_CACHE_SECONDS", default=60)
