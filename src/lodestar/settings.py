"""Django settings, read from the environment (12-factor).

Every value has a safe embedded default so `make run` works on a fresh clone; production sets
DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=false.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent
env = environ.Env()
VAR_DIR = Path(env.str("LODESTAR_VAR_DIR", default=str(Path.cwd() / "var")))

DEBUG = env.bool("DEBUG", default=False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the var folder."""
    from_env: str = env.str("SECRET_KEY", default="")
    if from_env:
        return from_env
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "lodestar.org.admin_apps.LodestarAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    # Needed for counting failed sign-ins and locking them out (`lodestar.web.signin`).
    "axes",
    "huey.contrib.djhuey",
    "lodestar.org",
    "lodestar.crm",
    "lodestar.playbooks",
    "lodestar.events",
    "lodestar.automation",
    "lodestar.insights",
    "lodestar.integrations",
    "lodestar.imports",
    "lodestar.api",
    "lodestar.web",
    "lodestar.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "lodestar.ops.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Errors under /api/ answered by Django or ninja (404, 405, 400, 500) in the API's JSON shape.
    "lodestar.api.middleware.ApiErrorShapeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Sign-in and password-reset posts beyond their rate per address, refused in the language
    # of the request before the form is read (`lodestar.web.signin`).
    "lodestar.web.signin.SignInThrottleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Pages show times in the member's organization's time zone (`lodestar.web.readable`).
    "lodestar.web.readable.OrganizationTimeZoneMiddleware",
    # The language a signed-in user reads in, for the e-mails and messages sent to them later.
    "lodestar.integrations.middleware.RememberLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: turns a locked-out sign-in into the "try again at …" page.
    "axes.middleware.AxesMiddleware",
]

# What runs on every batch of appended events, in this order and in the append's transaction
# (`lodestar.events.processing`). The apps that consume events name their steps here, so the
# events app imports none of them. Each is called as `step(events=…, now=…)`.
LODESTAR_EVENT_STEPS = [
    # The deals' activity summary (latest event, latest customer interaction) first: the risk
    # checks at the end read it.
    "lodestar.insights.activity.activity_on_events",
    # Triggers next: they open the tasks the events call for and close those the same events
    # satisfy, and a completed task counts as the rep's last action for the stale-deal check.
    "lodestar.automation.triggers.run_triggers",
    # Last, the risk checks of the touched deals (alerts, notifications through the outbox);
    # their scores follow in the worker once the batch is committed.
    "lodestar.insights.steps.insights_on_events",
]

# What runs when someone completes a task by hand, in this order and in the same transaction
# (`lodestar.automation.services.task_complete`): the automation app names none of the apps
# that react. Each is called as `step(tasks=…, now=…)`.
LODESTAR_TASK_DONE_STEPS = [
    # The task's overdue and escalation alerts resolve at once, not at the next sweep.
    "lodestar.insights.task_alerts.alerts_on_tasks_done",
]

# What runs once the worker has read an uploaded file's text, called as `step(attachment_id=…)`:
# minutes close the "upload the minutes" task only when their text is long enough, which is known
# after the upload's event has been processed.
LODESTAR_TEXT_READ_STEPS = [
    "lodestar.automation.triggers.close_tasks_on_text_read",
]

# The tables the API's `…/export` operations write (`lodestar.exporting.table_builder`): they
# word their rows as the pages do, so the pages register them and the API names none of them.
# Each is called as `build(user=…, rows=…)` (the metric: `build(user=…, name=…, report=…)`).
LODESTAR_EXPORT_TABLES = {
    "opportunities": "lodestar.web.exports.deals_table",
    "accounts": "lodestar.web.exports.accounts_table",
    "contacts": "lodestar.web.exports.contacts_table",
    "tasks": "lodestar.web.exports.tasks_table",
    "alerts": "lodestar.web.exports.alerts_table",
    "metric": "lodestar.web.exports.metric_table",
    "communication_scores": "lodestar.web.exports.scorecards_table",
    "audit": "lodestar.web.exports.audit_table",
    "members": "lodestar.web.exports.members_table",
}

# What runs when a deal changes stage (`lodestar.gates.services.opportunity_advance`), in the
# move's transaction, and when a gate refuses a move, after the refused move has rolled back: the
# gates name none of the apps that react. Called as `step(opportunity=…, transition=…,
# decision=…, user=…, now=…)` and `step(opportunity=…, decision=…, user=…, now=…)`.
LODESTAR_STAGE_MOVED_STEPS = ["lodestar.integrations.outbound_events.on_stage_moved"]
LODESTAR_GATE_REFUSED_STEPS = ["lodestar.integrations.outbound_events.on_gate_refused"]

# Outbound webhooks (`lodestar.integrations.outbound`): loopback and private addresses and plain
# http are refused unless allowed (a receiver on the same network); a webhook is switched off
# after this many deliveries in a row failed for good.
LODESTAR_WEBHOOK_ALLOW_PRIVATE = env.bool("LODESTAR_WEBHOOK_ALLOW_PRIVATE", default=False)
LODESTAR_WEBHOOK_MAX_FAILURES = env.int("LODESTAR_WEBHOOK_MAX_FAILURES", default=10)

# Who takes over a deactivated member's open work, in the deactivation's transaction
# (`lodestar.org.members.member_deactivate`): the apps that own the work register here, so the
# organization app names none of them. Each is called as
# `step(organization_id=…, from_user_id=…, to_user_id=…, now=…)` and answers what it moved.
LODESTAR_MEMBER_HANDOVER_STEPS = [
    "lodestar.crm.handover.hand_over_deals",
    "lodestar.automation.handover.hand_over_tasks",
    "lodestar.insights.handover.hand_over_alerts",
]

# The lookup of the playbook a deal is opened and edited under (its first stage, its custom
# fields): the playbooks app keeps them and sits above the deals (`lodestar.crm.services`), which
# name none of its modules. Called as `lookup(organization_id=…, team_id=…)`; answers the
# compiled playbook, or None while none is published.
LODESTAR_DEAL_PLAYBOOK = "lodestar.playbooks.selectors.published_playbook"

# The lookup of tasks' titles in both languages (`lookup(tasks)` → {task id: Message}) for the
# tasks API, which sits below the apps that word the tasks they make (coaching, re-checks).
LODESTAR_TASK_TITLES = "lodestar.insights.task_titles.task_titles"

# The most rows an Excel (XLSX) export holds: a workbook is written whole before it is sent, and
# a longer one would outlast the web server's request timeout. CSV exports stream, any length.
LODESTAR_EXPORT_XLSX_MAX_ROWS = env.int("LODESTAR_EXPORT_XLSX_MAX_ROWS", default=20_000)

ROOT_URLCONF = "lodestar.urls"
WSGI_APPLICATION = "lodestar.wsgi.application"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

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
                "lodestar.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'lodestar.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while one of them writes. A batch of events
    # dirties thousands of index pages; checkpointing every 1000 pages (the default) would copy
    # them back into the database after nearly every batch, so the log is let grow to ~40 MB.
    # Reads go through a memory map of the file (up to SQLite's 2 GB limit) instead of a read
    # call per page into a 2 MB cache: the hourly sweep's index seeks over 50,000 deals spent
    # more time in those calls than in SQLite.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; "
                "PRAGMA wal_autocheckpoint=10000; PRAGMA mmap_size=2147418112; "
                "PRAGMA cache_size=-32768;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
    )
# Keeping connections saves a connect (and, on SQLite, its PRAGMAs) on every request.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env.str("HUEY_QUEUE", default="lodestar"),
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": env.int("WORKER_THREADS", default=2), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "lodestar",
        "filename": str(VAR_DIR / "worker-queue.sqlite3"),
        "immediate": env.bool("HUEY_IMMEDIATE", default=False),
        "consumer": {"workers": env.int("WORKER_THREADS", default=2), "worker_type": "thread"},
    }

# Workers beat every minute (`lodestar.ops.tasks`); `/api/v1/health` calls a worker gone when
# no beat is younger than this: three missed beats by default.
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=180)
if WORKER_HEARTBEAT_MAX_AGE < 90:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"WORKER_HEARTBEAT_MAX_AGE={WORKER_HEARTBEAT_MAX_AGE}: workers beat once a minute, so "
        "give at least 90 seconds (the default is 180)."
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our adjustments to Django's number and date formats per language (amounts grouped in Chinese).
FORMAT_MODULE_PATH = ["lodestar.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded quotes and minutes stay small; larger files are refused with a clear error.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Limits on reading the text of attachments (decompression bombs, slow files); each is taken
# from the environment when set there. Their defaults live in one place,
# `lodestar.crm.extraction.limits()`, which refuses a value that is not a positive whole number;
# docs/operations.md lists them.
for _limit in (
    "ATTACHMENT_MAX_UNPACKED_BYTES",
    "ATTACHMENT_MAX_ZIP_ENTRIES",
    "ATTACHMENT_MAX_COMPRESSION_RATIO",
    "ATTACHMENT_MAX_PDF_PAGES",
    "ATTACHMENT_MAX_PDF_PAGE_BYTES",
    "ATTACHMENT_MAX_TEXT_CHARS",
    "ATTACHMENT_TEXT_SECONDS",
):
    if _limit in env.ENVIRON:
        globals()[_limit] = env.int(_limit)
# Limits on import files (`lodestar.imports.services.import_limits()`, which holds the defaults —
# 50 MB, 200 columns, 1,000,000 rows — and refuses a value that is not a positive whole number).
for _limit in (
    "LODESTAR_IMPORT_MAX_BYTES",
    "LODESTAR_IMPORT_MAX_COLUMNS",
    "LODESTAR_IMPORT_MAX_ROWS",
):
    if _limit in env.ENVIRON:
        globals()[_limit] = env.int(_limit)

# Secure by default (`check --deploy` is clean); `lodestar run` on loopback turns off the HTTPS-only
# parts through the environment because the local demo is served over plain HTTP.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Links to other sites do not carry our addresses (they name deals and accounts).
SECURE_REFERRER_POLICY = "same-origin"
# Load balancers probe the web processes over plain HTTP, behind the proxy that ends HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Scripts and styles only from files this server sends: nothing inline (no event handler
# attributes, no <style>, no eval), so injected markup cannot run or restyle the page. Swagger UI
# shows icons as data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# A form refused by the CSRF check gets the site's own page: Django's is English and styled inline.
CSRF_FAILURE_VIEW = "lodestar.web.errors.csrf_failure"
# Browser features no page uses are switched off for every page (`lodestar.ops.middleware`).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
        "magnetometer", "microphone", "midi", "payment", "publickey-credentials-get",
        "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    )
}  # fmt: skip

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="lodestar@localhost")
# The site's address as people open it (https://lodestar.example.com): links in e-mails and robot
# messages (a weekly report, a task) are made absolute with it; empty leaves them site-relative.
LODESTAR_BASE_URL = env.str("LODESTAR_BASE_URL", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The worker's consumer installs its own handler; do not print its lines twice.
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def _shared_cache(name: str, entries: int) -> dict[str, object]:
    """A cache every process sees: a folder under the var directory, or Redis when set."""
    if REDIS_URL:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"lodestar-{name}",
        }
    return {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache" / name),
        "OPTIONS": {"MAX_ENTRIES": entries},
    }


# Caches. `default` is each process's own memory: the pages keep rendered HTML and data there
# (`lodestar.web.caching`). `shared` is seen by every process and holds only the versions
# that make kept pages stale after a write (the data version and one per scope) and the
# worker's heartbeat (changing them never lists thousands of sessions); `sessions` holds the
# sessions' cached copies. Several hosts need REDIS_URL.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": env.int("PAGE_CACHE_ENTRIES", default=1000)},
    },
    # Two version files per user and per team (`lodestar.changes` scopes): a culled one only
    # makes pages render again, but culling lists the folder on every write.
    "shared": _shared_cache("shared", 100_000),
    "sessions": _shared_cache("sessions", 5000),
    # Request counters of the rate limits (`lodestar.throttling`): shared through Redis when
    # set; otherwise each process's memory (a file per counter would cost more than it saves).
    "ratelimit": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
         "KEY_PREFIX": "lodestar-ratelimit"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"}
    ),
}  # fmt: skip
# Sessions are read on every page: from the cache, written through to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"
# First django-axes, which refuses a locked-out sign-in before any password is hashed; then
# the model backend, with the session's user and membership kept until anyone's write.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "lodestar.web.auth.KeptUserBackend",
]

# Signing in (`lodestar.web.signin`, docs/operations.md): failed sign-ins lock an account after
# LOGIN_FAILURE_LIMIT, an address after LOGIN_ADDRESS_FAILURE_LIMIT, until LOGIN_COOLOFF_MINUTES
# after the last counted failure; sign-in posts are limited per address per minute.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
LOGIN_RATE_PER_MINUTE = env.int("LOGIN_RATE_PER_MINUTE", default=20)
# Password checks hashing at once on this machine; a sign-in finding them all busy waits up to
# LOGIN_CHECK_WAIT_SECONDS for one, then is refused.
LOGIN_CONCURRENT_CHECKS = env.int("LOGIN_CONCURRENT_CHECKS", default=1)
LOGIN_CHECK_WAIT_SECONDS = env.float("LOGIN_CHECK_WAIT_SECONDS", default=1.5)
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_HANDLER = "lodestar.web.signin.SignInAttempts"
AXES_LOCKOUT_CALLABLE = "lodestar.web.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "lodestar.throttling.client_ip"
# Attempts while locked are refused uncounted: the lock ends by itself, and costs no write.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
# Attempts name accounts and addresses of every organization: not in the (per-organization)
# admin; operators use `lodestar manage axes_list_attempts` and the axes_reset_* commands.
AXES_ENABLE_ADMIN = False
# Reverse proxies of ours in front of the web processes; only then is X-Forwarded-For read.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Password reset by e-mail: how long a link holds (seconds), and requests per address and
# mails per e-mail address per hour.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
PASSWORD_RESET_RATE_PER_HOUR = env.int("PASSWORD_RESET_RATE_PER_HOUR", default=10)
PASSWORD_RESET_EMAIL_RATE_PER_HOUR = env.int("PASSWORD_RESET_EMAIL_RATE_PER_HOUR", default=3)
# How long the link of an invitation holds (seconds): it waits in a mailbox for days.
LODESTAR_INVITATION_TIMEOUT = env.int("LODESTAR_INVITATION_TIMEOUT", default=7 * 24 * 3600)
# API requests per caller (a token's user, or a signed-in session's) per minute.
API_RATE_PER_MINUTE = env.int("API_RATE_PER_MINUTE", default=600)

# One-time secrets (a new API token) are shown through messages: keep them server-side.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
