"""Settings of the ERP API, all from the environment (12-factor).

SECRET_KEY        required unless DEBUG is on
DEBUG             True/False (default False)
ALLOWED_HOSTS     comma-separated (default: none, so every request is refused with 400 while DEBUG is off)
DATABASE_URL      postgres://USER:PASSWORD@HOST:PORT/NAME[?option=value]  (wins over DB_*)
DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD   the same, one variable each (DB_PORT default 5432)
CELERY_BROKER_URL Celery broker (default: REDIS_URL, else redis://localhost:6379/0)
CELERY_RESULT_BACKEND   optional
LOG_LEVEL         root log level (default INFO)
"""
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in ("true", "1", "yes", "on"):
        return True
    if raw.lower() in ("false", "0", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be True or False, got {raw!r}")


def env_list(name):
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def database_from_env():
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        u = urlparse(url)
        if u.scheme not in ("postgres", "postgresql"):
            raise ImproperlyConfigured(f"DATABASE_URL must be a postgres:// or postgresql:// URL, got scheme {u.scheme!r}")
        db = {
            "HOST": u.hostname or "",
            "PORT": str(u.port or 5432),
            "NAME": unquote(u.path.lstrip("/")),
            "USER": unquote(u.username or ""),
            "PASSWORD": unquote(u.password or ""),
            "OPTIONS": dict(parse_qsl(u.query)),
        }
    else:
        missing = [k for k in ("DB_HOST", "DB_NAME", "DB_USER") if not os.environ.get(k)]
        if missing:
            raise ImproperlyConfigured(
                "No database configured: set DATABASE_URL, or DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASSWORD "
                f"(missing: {', '.join(missing)})"
            )
        db = {
            "HOST": os.environ["DB_HOST"],
            "PORT": os.environ.get("DB_PORT") or "5432",
            "NAME": os.environ["DB_NAME"],
            "USER": os.environ["DB_USER"],
            "PASSWORD": os.environ.get("DB_PASSWORD", ""),
            "OPTIONS": {},
        }
    db["OPTIONS"].setdefault("connect_timeout", 5)
    return {"ENGINE": "django.db.backends.postgresql", "CONN_MAX_AGE": 0, **db}


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is not set: it is required when DEBUG is off (set the SECRET_KEY environment variable)")
    SECRET_KEY = "django-insecure-development-only"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_celery_beat",
    "core",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_L10N = True
USE_TZ = True

STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = "/app/media"

# Celery (config/celery.py reads every CELERY_* setting)
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or "redis://localhost:6379/0"
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "core.tasks.heartbeat", "schedule": 60.0},
}

# Logs go to stdout only (the root file system is read-only in the pods).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"}},
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
