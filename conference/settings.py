"""MedVenue settings: one module, configured by environment variables only.

With no variable set this is the embedded default (SQLite, in-memory channel layer, a Celery
broker on the local file system). `DATABASE_URL`, `REDIS_URL` and `MEDVENUE_PRODUCTION=1`
switch to PostgreSQL, Redis and hardened settings. See README.md, "Production".
"""

import json
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from conference.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("MEDVENUE_DATA_DIR") or BASE_DIR / "var")

PRODUCTION = env_bool("MEDVENUE_PRODUCTION", default=False)
DEBUG = env_bool("DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when MEDVENUE_PRODUCTION=1")


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when MEDVENUE_PRODUCTION=1")
    # Embedded default: a random key kept in the data folder, so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
# The public address of the site, printed on certificates (verification URL and QR code) and
# in e-mails; empty: http://127.0.0.1:8000, the `make run` address (`services.cme.site`).
MEDVENUE_SITE_URL = env_url("MEDVENUE_SITE_URL", schemes=("http", "https")).rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Certificates of the claims made within this many seconds are rendered together in batches
# (PostgreSQL); a single learner's certificate is ready about this much later.
CME_CERTIFICATE_WINDOW_SECONDS = env_int("CME_CERTIFICATE_WINDOW_SECONDS", 1, minimum=0)
# Encrypts the organizers' credential signing keys at rest (empty: SECRET_KEY). Changing it
# makes the stored keys unreadable: rotate the keys instead (docs/cme-claims.md).
CME_CREDENTIAL_KEY_SECRET = env_str("CME_CREDENTIAL_KEY_SECRET")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "venues",
    "conference",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "conference.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "conference.unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "conference.middleware.EventTimezoneMiddleware",
]

ROOT_URLCONF = "conference.urls"
# A load balancer probes the health endpoints over plain HTTP on the process's own port.
SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$"]
ASGI_APPLICATION = "conference.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
# PostgreSQL: each process keeps at most DATABASE_POOL_SIZE connections in a psycopg pool
# (Django returns a connection to it when a request or task ends); a request that finds the pool
# exhausted waits DATABASE_POOL_TIMEOUT seconds, then gets 503 (conference/errors.py).
# DATABASE_POOL_SIZE=0 turns the pool off; connections then live DATABASE_CONN_MAX_AGE seconds.
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 10, minimum=0)
DATABASE_POOL_TIMEOUT = env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
            conn_health_checks=True,
        )
    }
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        options = DATABASES["default"].setdefault("OPTIONS", {})
        # Fail fast (health check, workers) instead of waiting minutes for a lost server.
        options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1))
        if DATABASE_POOL_SIZE:
            options["pool"] = {
                "min_size": min(2, DATABASE_POOL_SIZE),
                "max_size": DATABASE_POOL_SIZE,
                "timeout": DATABASE_POOL_TIMEOUT,
                # Connections idle this long are closed, down to min_size.
                "max_idle": 300,
                # While the server refuses, the pool retries 1 s and 2 s apart, then gives up
                # until a request needs a connection (which starts a new attempt at once): after
                # an outage it connects again within about 2 s, instead of backing off for as
                # long as the outage lasted (psycopg's default keeps doubling for 5 minutes).
                "reconnect_timeout": 5,
            }
            # The pool owns the connections: Django must return them after each use.
            DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Behind PgBouncer in transaction mode a server-side cursor (`.iterator()`) cannot live.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
        "DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False
    )
elif PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL must be set when MEDVENUE_PRODUCTION=1")
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "medvenue.sqlite3"),
            # WAL + immediate transactions: the web process and the Celery worker write at once.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery broker -----------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set when MEDVENUE_PRODUCTION=1")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "medvenue",
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "medvenue:asgi", "capacity": 1500},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_BROKER_DIR = DATA_DIR / "broker"
CELERY_LONGEST_TASK_SECONDS = env_int("CELERY_LONGEST_TASK_SECONDS", 3600, minimum=60)

# --- Recordings -----------------------------------------------------------------------------------
# Video files live here, outside MEDIA_ROOT: viewers reach them only through signed URLs.
RECORDINGS_ROOT = Path(env_str("RECORDINGS_ROOT") or DATA_DIR / "recordings")
RECORDING_MAX_UPLOAD_BYTES = env_int("RECORDING_MAX_UPLOAD_BYTES", 8 * 1024**3, minimum=1024)
# Signed segment and playlist URLs stay valid this long.
RECORDING_URL_TTL_SECONDS = env_int("RECORDING_URL_TTL_SECONDS", 4 * 3600, minimum=60)
# Captures start this long before a session's start and end this long after its end.
RECORDING_CAPTURE_MARGIN_SECONDS = env_int("RECORDING_CAPTURE_MARGIN_SECONDS", 300, minimum=0)
# Long media tasks run on their own queue; their limit stays below the broker's visibility timeout.
CELERY_MEDIA_QUEUE = "media"
# The external encoders' SRT listeners (docs/media.md, "External encoder") run on this queue.
CELERY_INGEST_QUEUE = "ingest"
RECORDING_TASK_TIME_LIMIT_SECONDS = min(
    env_int("RECORDING_TASK_TIME_LIMIT_SECONDS", CELERY_LONGEST_TASK_SECONDS, minimum=60),
    CELERY_LONGEST_TASK_SECONDS,
)

# --- Live media (Janus) ---------------------------------------------------------------------------
# One or more Janus hosts: browsers connect to JANUS_WS_URLS, the server to JANUS_ADMIN_URLS (same
# order). Unset: `make run` writes the address and secrets of its own loopback Janus into
# $MEDVENUE_DATA_DIR/janus/medvenue.json when Janus is installed; without either, media is off.
JANUS_WS_URLS = env_list("JANUS_WS_URLS")
JANUS_ADMIN_URLS = env_list("JANUS_ADMIN_URLS")
JANUS_ADMIN_SECRET = env_str("JANUS_ADMIN_SECRET")
JANUS_TOKEN_SECRET = env_str("JANUS_TOKEN_SECRET")
JANUS_ROOM_SECRET = env_str("JANUS_ROOM_SECRET")
JANUS_LOCAL_FILE = DATA_DIR / "janus" / "medvenue.json"
if not JANUS_WS_URLS and not PRODUCTION and JANUS_LOCAL_FILE.exists():
    _local_janus = json.loads(JANUS_LOCAL_FILE.read_text())
    JANUS_WS_URLS = [_local_janus["ws_url"]]
    JANUS_ADMIN_URLS = [_local_janus["admin_url"]]
    JANUS_ADMIN_SECRET = _local_janus["admin_secret"]
    JANUS_TOKEN_SECRET = _local_janus["token_secret"]
    JANUS_ROOM_SECRET = _local_janus["room_secret"]
if len(JANUS_WS_URLS) != len(JANUS_ADMIN_URLS):
    raise ImproperlyConfigured("JANUS_WS_URLS and JANUS_ADMIN_URLS must list the same hosts")
if not all(url.startswith(("ws://", "wss://")) for url in JANUS_WS_URLS):
    raise ImproperlyConfigured("JANUS_WS_URLS must be ws:// or wss:// addresses")
if not all(url.startswith(("http://", "https://")) for url in JANUS_ADMIN_URLS):
    raise ImproperlyConfigured("JANUS_ADMIN_URLS must be http:// or https:// addresses")
if JANUS_WS_URLS and not (JANUS_ADMIN_SECRET and JANUS_TOKEN_SECRET and JANUS_ROOM_SECRET):
    raise ImproperlyConfigured(
        "JANUS_ADMIN_SECRET, JANUS_TOKEN_SECRET and JANUS_ROOM_SECRET are required with JANUS_WS_URLS"
    )
# A browser's Janus token lives this long; the page renews it before it ends.
JANUS_TOKEN_TTL_SECONDS = env_int("JANUS_TOKEN_TTL_SECONDS", 300, minimum=60)
# WebRTC subscribers one Janus host serves before new viewers get the HLS stage (docs/media.md,
# "HLS beyond capacity"; 80 measured per Janus process, docs/performance.md).
JANUS_WEBRTC_CAPACITY = env_int("JANUS_WEBRTC_CAPACITY", 80, minimum=0)
# TURN (coturn with use-auth-secret): comma-separated turn: URLs and the shared secret.
TURN_URLS = env_list("TURN_URLS")
# The broadcast recorder (ffmpeg on a capture worker) receives Janus's RTP forwards here: 16 UDP
# ports (an even RTP port and its RTCP neighbour per stream) per stage on air (docs/media.md).
RECORDING_RTP_HOST = env_str("RECORDING_RTP_HOST", "127.0.0.1")
RECORDING_RTP_PORTS = env_str("RECORDING_RTP_PORTS", "21000-21999")
TURN_SECRET = env_str("TURN_SECRET")
# External encoders (OBS, vMix; docs/media.md, "External encoder"): the ingest worker (queue
# `ingest`) listens for SRT on ENCODER_SRT_BIND, one port of ENCODER_SRT_PORTS per session whose
# encoder is on, and encoders are told to call ENCODER_SRT_HOST. It sends the media on to the
# hall's Janus (SRTP, as a VideoRoom remote publisher) on one even port of ENCODER_RTP_PORTS each.
ENCODER_SRT_HOST = env_str("ENCODER_SRT_HOST", "127.0.0.1")
ENCODER_SRT_BIND = env_str("ENCODER_SRT_BIND", "127.0.0.1")
ENCODER_SRT_PORTS = env_str("ENCODER_SRT_PORTS", "9710-9759")
ENCODER_RTP_PORTS = env_str("ENCODER_RTP_PORTS", "22000-22099")
# Meeting rooms (docs/rooms.md): someone whose room page has not been heard from for this long
# no longer counts as in the room; a host's removal lasts ROOM_REMOVAL_MINUTES; each publisher's
# video is capped at ROOM_VIDEO_BITRATE bits/s by Janus (360p).
ROOM_PRESENCE_SECONDS = env_int("ROOM_PRESENCE_SECONDS", 20, minimum=5)
ROOM_REMOVAL_MINUTES = env_int("ROOM_REMOVAL_MINUTES", 60, minimum=1)
ROOM_VIDEO_BITRATE = env_int("ROOM_VIDEO_BITRATE", 400_000, minimum=64_000)

# --- Auth ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's default hashers, with PBKDF2 (the one new hashes use) handing its pooled database
# connection back while it hashes (accounts/hashers.py).
PASSWORD_HASHERS = [
    "accounts.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "conference:event-list"
LOGOUT_REDIRECT_URL = "conference:event-list"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling: this many failures per e-mail (or per client address) within the window
# block further attempts for the cool-off, which then expires on its own.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1)
LOGIN_COOLOFF_SECONDS = env_int("LOGIN_COOLOFF_SECONDS", 900, minimum=1)
# Per client address the limit is higher: a hospital or congress Wi-Fi puts many people behind one.
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 4 * LOGIN_FAILURE_LIMIT, minimum=1)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "MedVenue <no-reply@medvenue.localhost>")

# --- Internationalisation and time ----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# The machine's own zone as this process started ($TZ; Django then sets TZ to TIME_ZONE).
MACHINE_TIME_ZONE = env_str("TZ").lstrip(":")
USE_I18N = True
USE_TZ = True

# --- Static and media ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or DATA_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # ?limit= capped at 200 (conference/api/pagination.py); 50 items when not given.
    "DEFAULT_PAGINATION_CLASS": "conference.api.pagination.CappedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_ANON_RATE", "120/min"),
        "user": env_str("API_USER_RATE", "600/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MedVenue API",
    "DESCRIPTION": "Events, schedules, sessions, speakers and registrations of MedVenue.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # API docs assets come from our own static files (drf_spectacular_sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SessionKindEnum": "conference.models.events.SessionKind",
        "HallKindEnum": "venues.models.HallKind",
    },
}

# --- Security --------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    if env_bool("SECURE_PROXY_SSL_HEADER", default=True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
