"""Settings, all read from the environment (12-factor). See README.md for every variable."""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
TESTING = env_bool("ANIMATE_TESTING")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    # Only for local development and tests; production refuses to start without a real key.
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if (DEBUG or TESTING) else "")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", PUBLIC_BASE_URL)
# Whether Runware can reach PUBLIC_BASE_URL (webhooks, signed input URLs). Unset: decided from the host
# (loopback/private addresses are not reachable); set it for tunnels or private networks Runware can reach.
PUBLIC_BASE_URL_REACHABLE = (
    env_bool("PUBLIC_BASE_URL_REACHABLE") if os.environ.get("PUBLIC_BASE_URL_REACHABLE") else None
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "animate",
]

MIDDLEWARE = [
    # First: /healthz answers before host validation and the HTTPS redirect (animate/health.py).
    "animate.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "animate.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "animate.middleware.TemporaryPasswordMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout into the sign-in page's message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "animate.context_processors.header",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process worker threads read while a request writes; IMMEDIATE takes the write
    # lock at BEGIN so two writers queue instead of failing with "database is locked". The threads of
    # this process queue for it in Python, not in SQLite's sleeping busy handler (animate/sqlite).
    DATABASES["default"]["ENGINE"] = "animate.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Failed sign-ins are throttled per account and per address by django-axes (the lockout list is in the
# admin); failed API tokens count against their address too (animate/services/throttling.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = "animate.services.throttling.lockout_parameters"
AXES_CLIENT_IP_CALLABLE = "animate.services.throttling.request_client_ip"
AXES_LOCKOUT_CALLABLE = "animate.views.accounts.locked_out"
AXES_VERBOSE = False  # no banner on every start and manage.py command
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Serve static files straight from the source folders (no collectstatic step needed to run).
WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Media (uploads, posters, outputs) in an S3-compatible bucket when AWS_STORAGE_BUCKET_NAME is set, through
# django-storages; the other AWS_* variables as django-storages names them (see animate/storage.py).
# Without it media stay on the local disk under MEDIA_ROOT.
from animate.storage import s3_origins, s3_storage_options  # noqa: E402

_S3_OPTIONS = s3_storage_options(os.environ)
if _S3_OPTIONS is not None:
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _S3_OPTIONS}
# Presigned URLs handed to browsers (media views) live this long: they are bearer credentials.
ANIMATE_MEDIA_URL_SECONDS = int(os.environ.get("ANIMATE_MEDIA_URL_SECONDS", "300"))
# Results come back by Runware's PUT to ``uploadEndpoint`` (a presigned PUT on S3, our single-use
# endpoint otherwise) when a task has one result; off, they are always downloaded from ``videoURL``.
ANIMATE_RESULT_UPLOADS = env_bool("ANIMATE_RESULT_UPLOADS", True)

# Every request body has a size limit suited to its route, enforced by the ASGI handler before the body
# is read (animate/requestlimits.py); what is received is spooled to disk past 256 KiB. Uploaded files
# are then parsed into a temporary file from the first byte: nothing is held whole in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
ANIMATE_WEBHOOK_MAX_BYTES = 256 * 1024
ANIMATE_API_MAX_BYTES = 1024 * 1024
ANIMATE_LOGIN_MAX_BYTES = 16 * 1024
ANIMATE_MAX_BODY_BYTES = 1024 * 1024

# How long getResponse may answer that Runware does not know a task (taskFailedOrNotFound) before the run
# is failed with that reason; and how long a run may go without a complete result at all.
ANIMATE_UNKNOWN_TASK_SECONDS = float(os.environ.get("ANIMATE_UNKNOWN_TASK_SECONDS", "600"))
ANIMATE_POLL_GIVE_UP_SECONDS = float(os.environ.get("ANIMATE_POLL_GIVE_UP_SECONDS", str(3 * 3600)))

SESSION_COOKIE_SECURE = not DEBUG and not TESTING
CSRF_COOKIE_SECURE = not DEBUG and not TESTING
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# A strict Content-Security-Policy on every page, DEBUG included: scripts, styles, fonts and frames from
# our own origin only, no inline code. Media are our own files (and blob: for a file previewed before it
# is uploaded); the live-status websocket is this host's (animate/security.py adds it per request).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if _S3_OPTIONS is not None:
    # Media views redirect to presigned URLs of the bucket: images, videos and fetches load from there.
    for _directive in ("img-src", "media-src", "connect-src"):
        CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive] += s3_origins(_S3_OPTIONS)

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    from animate.channel_layer import layer_config

    # channels-redis, with socket timeouts past its blocking wait and Redis outages ridden out.
    CHANNEL_LAYERS = {"default": layer_config(REDIS_URL, prefix=os.environ.get("REDIS_PREFIX", "asgi"))}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Embedded mode runs the database worker as threads inside the ASGI server (see project/asgi.py).
EMBEDDED_WORKER = env_bool("EMBEDDED_WORKER", default=True)
EMBEDDED_WORKER_THREADS = int(os.environ.get("EMBEDDED_WORKER_THREADS", "2"))
# Worker processes (manage.py worker, scale-out mode) beat this often; one silent for the lease is taken as
# gone, and the work it held is given to the others (animate/services/workers.py).
ANIMATE_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("ANIMATE_WORKER_HEARTBEAT_SECONDS", "5"))
ANIMATE_WORKER_LEASE_SECONDS = float(os.environ.get("ANIMATE_WORKER_LEASE_SECONDS", "30"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "animate.api.authentication.ThrottledTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every API error has one shape: {"errors": {"<field or parameter path>": ["message", ...]}}.
    "EXCEPTION_HANDLER": "animate.api.base.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Animate Studio API",
    "DESCRIPTION": "Drive Runware's Wan2.2 Animate model (runware:200@8) for a team.",
    "VERSION": "1.0.0",
    # The schema endpoint itself is not an operation of the API.
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets are served from the sidecar package: nothing is fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "kind" or a "status": each choice set gets its own, stable name.
    "ENUM_NAME_OVERRIDES": {
        "AssetKindEnum": "animate.models.media.Asset.Kind",
        "CostEntryKindEnum": "animate.models.ledger.CostEntry.Kind",
        "SpendAlertKindEnum": "animate.models.budgets.SpendAlert.Kind",
        "NotificationKindEnum": "animate.models.notifications.Notification.Kind",
        "GenerationStatusEnum": "animate.models.generations.Generation.Status",
        "WebhookEventStatusEnum": "animate.models.generations.WebhookEvent.Status",
        "ReconciliationStatusEnum": "animate.models.budgets.Reconciliation.Status",
        "RoleEnum": "animate.models.teams.Membership.Role",
        "AuditActionEnum": "animate.models.audit.AuditEvent.Action",
        "ArchiveActionEnum": ["archive", "unarchive", "purge"],
    },
}

# --- Runware -------------------------------------------------------------------------------------
RUNWARE_API_KEY = os.environ.get("RUNWARE_API_KEY", "")
# The local sandbox stands in for Runware in development and tests when no real key is configured. It
# renders videos and fetches URLs on request, so outside DEBUG it runs only when asked for explicitly and
# protected by its own API key.
RUNWARE_SANDBOX = env_bool("RUNWARE_SANDBOX", default=not RUNWARE_API_KEY and (DEBUG or TESTING))
RUNWARE_SANDBOX_API_KEY = os.environ.get("RUNWARE_SANDBOX_API_KEY", "")
if RUNWARE_SANDBOX and not (DEBUG or TESTING) and not RUNWARE_SANDBOX_API_KEY:
    raise ImproperlyConfigured("RUNWARE_SANDBOX outside DEBUG needs RUNWARE_SANDBOX_API_KEY to be set.")
RUNWARE_API_URL = os.environ.get(
    "RUNWARE_API_URL",
    f"{PUBLIC_BASE_URL}/sandbox/v1" if RUNWARE_SANDBOX else "https://api.runware.ai/v1",
)
if RUNWARE_SANDBOX and not RUNWARE_API_KEY:
    RUNWARE_API_KEY = RUNWARE_SANDBOX_API_KEY or "sandbox"
RUNWARE_TIMEOUT = float(os.environ.get("RUNWARE_TIMEOUT", "30"))
RUNWARE_MAX_RETRIES = int(os.environ.get("RUNWARE_MAX_RETRIES", "3"))
RUNWARE_BACKOFF_BASE = float(os.environ.get("RUNWARE_BACKOFF_BASE", "1.0"))
RUNWARE_MEDIA_HOSTS = env_list("RUNWARE_MEDIA_HOSTS", "im.runware.ai")
if RUNWARE_SANDBOX and "RUNWARE_MEDIA_HOSTS" not in os.environ:
    # The mounted sandbox serves its result videos from this very server.
    RUNWARE_MEDIA_HOSTS.append(urlsplit(PUBLIC_BASE_URL).hostname or "127.0.0.1")

# Every record of the process is redacted where it is made (webhook secrets and signed-media tokens in
# URLs), whichever handler writes it: see animate/logredact.py.
LOGGING_CONFIG = "animate.logredact.configure_logging"
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers (a DEBUG-only console, mail to ADMINS with the request) are replaced by
        # the one console, so each line is written once.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "uvicorn.access": {"handlers": ["console"], "propagate": False},
        "httpx": {"level": "WARNING"},
    },
}

# Email (budget and balance alerts): printed to the console unless a backend is configured.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Animate Studio <animate@localhost>")

# Behind a proxy: trust the client address it puts first in X-Forwarded-For (audit log, throttling).
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR")
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto so absolute URLs say https.
if env_bool("TRUST_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG and not TESTING:
    # Production: HTTPS only, remembered by browsers (HSTS). Behind a TLS-terminating proxy, set
    # TRUST_X_FORWARDED_PROTO=1 so requests it forwarded over HTTPS are not redirected again.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
