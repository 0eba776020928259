"""Deployment settings: everything that differs between machines comes from the environment.

Business settings (stages, limits, ...) live in the database, not here (ARCHITECTURE rule 6).
"""

import os
import secrets
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("TOKUI_VAR_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Use TOKUI_SECRET_KEY, or a key generated once and kept in var/ for a local install."""
    if key := os.environ.get("TOKUI_SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret.key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("TOKUI_DEBUG")
ALLOWED_HOSTS = os.environ.get("TOKUI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("TOKUI_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "tokui.core",
    "tokui.users",
    "tokui.accounts",
    "tokui.activities",
    "tokui.catalog",
    "tokui.pricing",
    "tokui.orders",
    "tokui.pipeline",
    "tokui.api",
    "tokui.web",
    "tokui.web.admin_site.TokuiAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tokui.web.middleware.PagesLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "tokui.urls"
WSGI_APPLICATION = "tokui.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "tokui.web.context_processors.navigation",
                "tokui.users.notifications.unread_notifications",
                "tokui.pricing.views_approvals.approvals_nav",
            ],
        },
    },
]

# SQLite by default (WAL, IMMEDIATE write transactions, a busy timeout so concurrent writers
# wait instead of failing); DATABASE_URL=postgres://... switches to PostgreSQL.
SQLITE_PATH = VAR_DIR / "tokui.sqlite3"
if database_url := os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "login"
# Failed sign-ins per user name (and per address) within the window before sign-in is refused.
LOGIN_THROTTLE_FAILURES = int(os.environ.get("TOKUI_LOGIN_THROTTLE_FAILURES", "5"))
LOGIN_THROTTLE_WINDOW_SECONDS = int(os.environ.get("TOKUI_LOGIN_THROTTLE_WINDOW", "900"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("TOKUI_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("TOKUI_TIME_ZONE", "Asia/Tokyo")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# whitenoise serves from the apps' static folders (WHITENOISE_USE_FINDERS) and wants this to exist.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Uploaded files (screening evidence, imports). Never served from MEDIA_URL: every download goes
# through a view that checks who may see the record the file belongs to.
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The largest file a person may attach (product images and spec sheets), in megabytes.
TOKUI_MAX_UPLOAD_MB = int(os.environ.get("TOKUI_MAX_UPLOAD_MB", 10))
WHITENOISE_USE_FINDERS = True

MAILERS: dict[str, dict[str, object]] = {
    "default": {
        "BACKEND": os.environ.get(
            "TOKUI_MAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
        ),
    }
}
# Mail out (e-mail to contacts): TOKUI_SMTP_HOST switches to SMTP with these options.
if smtp_host := os.environ.get("TOKUI_SMTP_HOST"):
    MAILERS["default"] = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": smtp_host,
            "port": int(os.environ.get("TOKUI_SMTP_PORT", "587")),
            "username": os.environ.get("TOKUI_SMTP_USER", ""),
            "password": os.environ.get("TOKUI_SMTP_PASSWORD", ""),
            "use_tls": _env_bool("TOKUI_SMTP_STARTTLS", True),
            "use_ssl": _env_bool("TOKUI_SMTP_SSL"),
            "timeout": 30,
        },
    }
# The sender of mail from users without an address of their own.
DEFAULT_FROM_EMAIL = os.environ.get("TOKUI_MAIL_FROM", "tokui@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TOKUI_LOG_LEVEL", "INFO")},
}

# Where people reach Tokui: absolute links in mail and printed calendar-feed URLs use it.
TOKUI_BASE_URL = os.environ.get("TOKUI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Pricing: the lowest gross margin (粗利率, %) any quote may give when the product has a cost;
# 0 means never below cost. An approved agreement price (稟議) below it takes its place.
TOKUI_PRICE_FLOOR_MARGIN_PERCENT = Decimal(os.environ.get("TOKUI_PRICE_FLOOR_MARGIN_PERCENT", "0"))

TOKUI_PAGE_SIZE = 50
TOKUI_MAX_PAGE_SIZE = 200
# Contact lists count exactly up to this many rows, then say "more than" (core.pagination).
TOKUI_CONTACT_COUNT_LIMIT = int(os.environ.get("TOKUI_CONTACT_COUNT_LIMIT", 10_000))

# Background tasks (imports, …): a table in the database, run by `tokui db_worker` (which
# `tokui serve` starts next to the web server). Tests use the immediate backend.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Imports: files past these sizes are refused before they are read. XLSX and vCard files are
# unpacked and parsed, so they have the tighter limit; a CSV streams however long it is.
TOKUI_IMPORT_MAX_BYTES = int(os.environ.get("TOKUI_IMPORT_MAX_BYTES", 50 * 1024 * 1024))
TOKUI_IMPORT_MAX_CSV_BYTES = int(os.environ.get("TOKUI_IMPORT_MAX_CSV_BYTES", 2 * 1024**3))
TOKUI_IMPORT_MAX_UNPACKED_BYTES = int(
    os.environ.get("TOKUI_IMPORT_MAX_UNPACKED_BYTES", 1024 * 1024 * 1024)
)
# Rows per import transaction: SQLite's commit and its search indexes cost less per row in
# bigger batches (ADR 3); a crash loses at most one batch, which a resumed import redoes.
TOKUI_IMPORT_BATCH_SIZE = 2000
