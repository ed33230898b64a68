"""Settings for Jiexiangtong: one file, every value from the environment.

With no environment at all the project runs on a SQLite file and an embedded
Celery broker (kombu's SQLAlchemy transport over another SQLite file), so a
newcomer sees worker and beat run for real. Set DATABASE_URL and REDIS_URL for
PostgreSQL and Redis; set DJANGO_DEBUG=0 and DJANGO_SECRET_KEY for production.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("JXT_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG: bool = env.bool("DJANGO_DEBUG", default=True)
_DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production-jiexiangtong"  # noqa: S105
SECRET_KEY: str = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The public base URL printed on QR codes and in notifications (the QR must work off-site). Unset,
# pages use the address they were requested at and messages the dev server's (core/site.py).
SITE_URL: str = env.str("JXT_SITE_URL", default="").rstrip("/")

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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "alleys",
    "issues",
    "dispatch",
    "members",
    "evaluation",
    "participation",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The text boundary (core/text.py): NUL refused, XML-forbidden characters removed, in and out.
    "core.middleware.TextBoundaryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "issues.context_processors.inbox",
                "issues.context_processors.calendar_banner",
                "alleys.context_processors.expenses_nav",
                "members.context_processors.members_nav",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'jiexiangtong.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3's pool (Django >= 5.1) when asked; persistent connections otherwise.
    if env.bool("DATABASE_POOL", default=False):
        _db["CONN_MAX_AGE"] = 0
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=10),
        }
    else:
        _db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        _db["CONN_HEALTH_CHECKS"] = True
    # Django's documented server-side binding (docs/ref/databases, "Server-side parameters
    # binding"): parameters travel apart from the statement, so the batch statements' arrays
    # (the sweep's escalation, the notification fan-out's insert: ``%b`` placeholders) go as
    # binary values instead of being quoted element by element into the SQL text in Python.
    # Nothing is prepared (Django's prepare_threshold None): every statement keeps a plan for
    # its own values, which the partial indexes need. 0 falls back to client-side binding.
    if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
        _db.setdefault("OPTIONS", {})["server_side_binding"] = True
else:
    # SQLite: wait for the writer instead of failing with "database is locked"
    # when web, worker and beat share the file.
    # WAL lets the site read while the worker writes.
    _db.setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
IS_POSTGRES: bool = _db["ENGINE"] == "django.db.backends.postgresql"
# A PostgreSQL streaming replica for the reads that may lag a few seconds (core/replica.py): dashboards,
# exports, the public board, API lists. Without DATABASE_REPLICA_URL the alias is another name for the
# primary and nothing is routed to it. In the tests it mirrors the primary (Django's TEST MIRROR).
DATABASE_REPLICA_URL: str = env.str("DATABASE_REPLICA_URL", default="")
DATABASES["replica"] = {
    **copy.deepcopy(_db),
    **(env.db_url_config(DATABASE_REPLICA_URL) if DATABASE_REPLICA_URL else {}),
    "TEST": {"MIRROR": "default"},
}
DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
JXT_REPLICA_READS: bool = env.bool("JXT_REPLICA_READS", default=bool(DATABASE_REPLICA_URL))
JXT_REPLICA_READ_PATHS: list[str] = env.list("JXT_REPLICA_READ_PATHS", default=["/dashboard/"])
JXT_REPLICA_READ_VIEWS: list[str] = env.list(
    "JXT_REPLICA_READ_VIEWS", default=["public-board", "staff:case-export", "v1:*-list"]
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, dashboard rollups) -------------------------------------
REDIS_URL: str = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("CACHE_REDIS_URL", default=REDIS_URL),
            "KEY_PREFIX": "jxt",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "jxt"}}
    # One process on a laptop: a local-memory cache is shared enough for rate limits.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Celery -----------------------------------------------------------------------
CELERY_BROKER_URL: str = env.str(
    "CELERY_BROKER_URL", default=REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_RESULT_BACKEND: str | None = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task gets its message redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER: bool = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Separate queues, so a flood of one kind of work never delays another: the sweep (escalations and
# deadlines) has a queue of its own; notifications (inbox, e-mail, webhooks, SMS) another; photo
# processing and the dashboards' roll-ups theirs. A worker started without -Q consumes every queue
# below (the embedded default, the tests, a small deployment); a larger one runs workers per queue
# (docker-compose.yml's "scale" profile, docs/operations.md). Routes are by task name.
CELERY_TASK_DEFAULT_QUEUE = "celery"
JXT_QUEUES: tuple[str, ...] = ("celery", "sweep", "notify", "photos", "rollups")
CELERY_TASK_QUEUES = tuple(Queue(name) for name in JXT_QUEUES)
CELERY_TASK_ROUTES = {
    "dispatch.sweep": {"queue": "sweep"},
    "dispatch.notify_events": {"queue": "notify"},
    "dispatch.deliver": {"queue": "notify"},
    "participation.*": {"queue": "notify"},
    "issues.process_photo*": {"queue": "photos"},
    "evaluation.*": {"queue": "rollups"},
}
CELERY_TIMEZONE = "Asia/Shanghai"
# Broker outages heal by themselves: the worker and beat reconnect for ever (not 100 tries),
# and a publish fails fast (the outbox keeps what it was about; the sweep publishes it again).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# A task cut off by a lost broker connection is given back (acks late), not left running.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# A message a dead worker had taken comes back after this many seconds (kombu's default is an
# hour). Sized to the longest task: a sweep batch, a fan-out and a roll-up take seconds, a mass
# event's sweep a few minutes; a task still running when it ends is delivered once more, which
# every task tolerates (claims, unique constraints, the outbox row). What matters most comes
# back sooner anyway: the next minute's sweep finds due work again, and the outbox is relayed
# after JXT_OUTBOX_RETRY_SECONDS.
CELERY_VISIBILITY_TIMEOUT: int = env.int("CELERY_VISIBILITY_TIMEOUT", default=600)
# Redis's own options. The SQLite broker hands its options to SQLAlchemy's create_engine, which
# refuses unknown ones; what a killed laptop worker held, the sweep and the outbox find again.
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, int] = (
    {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
        "health_check_interval": 25,
    }
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    else {}
)
# Celery's Django fixup would close the DB connection around every task (measured in bench/:
# ~5x on tiny tasks); connections are reused instead and checked before each task by
# config.celery (close_old_connections + CONN_HEALTH_CHECKS), so a restarted PostgreSQL costs
# no failed task. 0 closes them every time.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=200)

# --- Auth -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGOUT_REDIRECT_URL = "login"
LOGIN_REDIRECT_URL = "/staff/"

# --- i18n -------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static & media ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Photos are served through permission-checked views, never from a public URL.
MEDIA_ROOT = Path(env.str("JXT_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# --- Product limits (defaults a deployment may change) -------------------------------
JXT_MAX_PHOTOS = env.int("JXT_MAX_PHOTOS", default=6)
JXT_MAX_PHOTO_BYTES = env.int("JXT_MAX_PHOTO_BYTES", default=8 * 1024 * 1024)
JXT_MAX_PHOTO_PIXELS = env.int("JXT_MAX_PHOTO_PIXELS", default=40_000_000)
JXT_MAX_DESCRIPTION = env.int("JXT_MAX_DESCRIPTION", default=2000)
# Meeting attachments and standing-mechanism documents (PDF, .docx, .xlsx, photos): issues/documents.py.
JXT_MAX_DOCUMENT_BYTES = env.int("JXT_MAX_DOCUMENT_BYTES", default=10 * 1024 * 1024)
# Idempotent submissions: a form's one-time key is honoured this long (a back-and-resubmit a
# week later still gives the first receipt); an identical Open311 request from the same key
# within JXT_OPEN311_REPEAT_SECONDS gets the first request's answer, not a second case.
JXT_SUBMISSION_KEEP_DAYS = env.int("JXT_SUBMISSION_KEEP_DAYS", default=7)
JXT_OPEN311_REPEAT_SECONDS = env.int("JXT_OPEN311_REPEAT_SECONDS", default=600)
JXT_REPORT_RATE_IP = env.str("JXT_REPORT_RATE_IP", default="10/h")
JXT_REPORT_RATE_PHONE = env.str("JXT_REPORT_RATE_PHONE", default="5/h")
# Wrong tracking codes per address (over it the address may not open any tracking page for
# the window), feedback posts per address, wrong phone digits per case.
JXT_TRACK_RATE_IP = env.str("JXT_TRACK_RATE_IP", default="30/h")
JXT_FEEDBACK_RATE_IP = env.str("JXT_FEEDBACK_RATE_IP", default="30/h")
JXT_FEEDBACK_GUESS_RATE = env.str("JXT_FEEDBACK_GUESS_RATE", default="5/h")
# If the rate-limit cache (Redis) is down, let residents' reports through rather than refuse
# every one of them: the honeypot, CSRF and the photo checks still apply.
RATELIMIT_FAIL_OPEN = env.bool("RATELIMIT_FAIL_OPEN", default=True)
JXT_WARN_FRACTION = env.float("JXT_WARN_FRACTION", default=0.8)
# A deadline within this many hours counts as near (临期) on every page and count (issues/deadline_state.py).
JXT_NEAR_HOURS = env.int("JXT_NEAR_HOURS", default=24)
# "Already reported?": open cases of the same type in the same alley from this many days back
# (issues/duplicates.py), shown on the residents' form and the staff case page.
JXT_DUPLICATE_DAYS = env.int("JXT_DUPLICATE_DAYS", default=14)
# …and, when a report gives its location, open cases of the type within this many metres in any alley.
JXT_DUPLICATE_METERS = env.int("JXT_DUPLICATE_METERS", default=100)
# SMS (core/sms.py): the console backend prints each message (number masked) so a newcomer reads the
# one-time code in the terminal; production names a provider adapter and its credentials.
JXT_SMS_BACKEND = env.str("JXT_SMS_BACKEND", default="core.sms.ConsoleBackend")
JXT_SMS_FILE = env.str("JXT_SMS_FILE", default=str(VAR_DIR / "sms" / "messages.jsonl"))
# The provider adapter (core/sms_providers.py, JXT_SMS_BACKEND=core.sms_providers.TencentSmsBackend):
# Tencent Cloud SMS credentials, signature, region, endpoint and our template names' provider ids.
JXT_SMS_TENCENT_SECRET_ID = env.str("JXT_SMS_TENCENT_SECRET_ID", default="")
JXT_SMS_TENCENT_SECRET_KEY = env.str("JXT_SMS_TENCENT_SECRET_KEY", default="")
JXT_SMS_TENCENT_APP_ID = env.str("JXT_SMS_TENCENT_APP_ID", default="")
JXT_SMS_SIGN_NAME = env.str("JXT_SMS_SIGN_NAME", default="街巷通")
JXT_SMS_REGION = env.str("JXT_SMS_REGION", default="ap-guangzhou")
JXT_SMS_ENDPOINT = env.str("JXT_SMS_ENDPOINT", default="https://sms.tencentcloudapi.com")
JXT_SMS_TIMEOUT_SECONDS = env.int("JXT_SMS_TIMEOUT_SECONDS", default=10)
# name=template id[:param,param];… e.g. "phone_code=1234567:code;case_accepted=1234568:what,link"
JXT_SMS_TEMPLATES = env.str("JXT_SMS_TEMPLATES", default="")
# At most this many SMS about cases to one number in 24 hours (issues/resident_sms.py): a case
# bouncing between tiers does not flood its resident.
JXT_SMS_PER_NUMBER_DAY = env.int("JXT_SMS_PER_NUMBER_DAY", default=10)
# Verified phone numbers (participation/phones.py): the one-time code's life, tries and limits, and how
# long a verified number stays verified in the resident's session.
JXT_PHONE_CODE_MINUTES = env.int("JXT_PHONE_CODE_MINUTES", default=10)
JXT_PHONE_CODE_TRIES = env.int("JXT_PHONE_CODE_TRIES", default=5)
JXT_PHONE_CODE_INTERVAL_SECONDS = env.int("JXT_PHONE_CODE_INTERVAL_SECONDS", default=60)
JXT_PHONE_CODE_PER_NUMBER_DAY = env.int("JXT_PHONE_CODE_PER_NUMBER_DAY", default=5)
JXT_PHONE_CODE_PER_ADDRESS_HOUR = env.int("JXT_PHONE_CODE_PER_ADDRESS_HOUR", default=10)
JXT_PHONE_SESSION_MINUTES = env.int("JXT_PHONE_SESSION_MINUTES", default=30)
# Notices (participation/notices.py): at most this many notice SMS to one number in 24 hours.
JXT_NOTICE_SMS_PER_NUMBER_DAY = env.int("JXT_NOTICE_SMS_PER_NUMBER_DAY", default=3)
# The common-issue proposal (issues/common_proposals.py): this many open cases of one type from two or
# more communities of one street, submitted in this many days, are proposed as a common issue.
JXT_COMMON_ISSUE_MIN_CASES = env.int("JXT_COMMON_ISSUE_MIN_CASES", default=3)
JXT_COMMON_ISSUE_DAYS = env.int("JXT_COMMON_ISSUE_DAYS", default=30)
# One working window per working day; deadlines in working hours count only inside it.
JXT_WORK_START = env.str("JXT_WORK_START", default="09:00")
JXT_WORK_END = env.str("JXT_WORK_END", default="17:00")
# Rows the sweep claims (locks) and writes per transaction. A batch of 2,000 escalations is
# written in about 0.2 s on two cores, the longest a holder's click on a claimed case waits
# (an ordinary minute escalates a handful); halving it costs a mass escalation ~15 % more
# time in per-batch overhead (claim, commit, enqueue).
JXT_SWEEP_BATCH = env.int("JXT_SWEEP_BATCH", default=2000)
# How long one escalation batch may hold its cases' row locks (seconds, 0: no limit): a mass event
# on a busy machine or a large database gets smaller batches (down to a quarter of JXT_SWEEP_BATCH),
# so a click on a case being escalated waits about this long at most (issues.sweep.next_batch_size;
# bench/README.md, "bench_mass_sweep").
JXT_SWEEP_LOCK_SECONDS = env.float("JXT_SWEEP_LOCK_SECONDS", default=0.3)
# A case photo still pending this long after its processing task was published: the message was
# lost (broker down or flushed, worker killed), so the sweep publishes it again (issues.photos).
JXT_PHOTO_RELAY_SECONDS = env.int("JXT_PHOTO_RELAY_SECONDS", default=300)
# The notification outbox: how long a published fan-out or delivery may wait before the sweep
# publishes it again (doubling each time, at most an hour), how long a send may take before it
# is taken for dead, and how often a failing e-mail or webhook is tried.
JXT_OUTBOX_RETRY_SECONDS = env.int("JXT_OUTBOX_RETRY_SECONDS", default=60)
JXT_DELIVERY_LEASE_SECONDS = env.int("JXT_DELIVERY_LEASE_SECONDS", default=120)
JXT_DELIVERY_MAX_ATTEMPTS = env.int("JXT_DELIVERY_MAX_ATTEMPTS", default=6)
JXT_FEEDBACK_WINDOW_DAYS = env.int("JXT_FEEDBACK_WINDOW_DAYS", default=5)
# When the window passes without the resident's answer the community makes a return visit
# (Jilin's orange light, 橘灯 "处理完结等待回访"); the case closes unrated only after this many
# recorded attempts (phone or in person) failed to reach the resident.
JXT_RETURN_VISIT_ATTEMPTS = env.int("JXT_RETURN_VISIT_ATTEMPTS", default=2)
if JXT_RETURN_VISIT_ATTEMPTS < 1:
    raise environ.ImproperlyConfigured("JXT_RETURN_VISIT_ATTEMPTS must be at least 1")
# The department ranking's red and black lists (红榜/黑榜) are decided by the composite score
# (0-100), not by position, so equal scores are listed alike: at least the red minimum, at most
# the black maximum. A department with fewer orders in the period than the minimum is listed as
# 样本不足 and not ranked: one late order is no measure of a department. The articles give no
# figures; these are the usual excellent/fail lines of Chinese assessments (优秀 90, 及格 60).
JXT_RED_LIST_MIN_SCORE = env.float("JXT_RED_LIST_MIN_SCORE", default=90.0)
JXT_BLACK_LIST_MAX_SCORE = env.float("JXT_BLACK_LIST_MAX_SCORE", default=60.0)
JXT_RANKING_MIN_ORDERS = env.int("JXT_RANKING_MIN_ORDERS", default=3)
if JXT_BLACK_LIST_MAX_SCORE >= JXT_RED_LIST_MIN_SCORE:
    raise environ.ImproperlyConfigured("JXT_BLACK_LIST_MAX_SCORE must be below JXT_RED_LIST_MIN_SCORE")
# Areas (streets, communities, alleys: the chiefs' units) need this many cases in the period to
# be ranked; the others are listed after the ranked ones, unranked, as 样本不足.
JXT_RANKING_MIN_CASES = env.int("JXT_RANKING_MIN_CASES", default=5)
# A rate over fewer cases (answers, orders) than this is shown as 样本不足（n=…）, not as a figure,
# and the composite score needs all three of its rates at least this large: one resident's
# "not solved" must not swing a district's score by fifty points (evaluation/rates.py).
JXT_RATE_MIN_SAMPLE = env.int("JXT_RATE_MIN_SAMPLE", default=5)
# The annual assessment can weigh in-service Party members' service (双报到): points added to a
# department's computed score per service its members did in the street's communities and the community
# confirmed that year (through the Party organisation linked to the department), at most the cap.
# 0 by default, so scores stay what the communities' evaluations make them until a city decides.
JXT_ASSESSMENT_MEMBER_SERVICE_WEIGHT: float = env.float("JXT_ASSESSMENT_MEMBER_SERVICE_WEIGHT", default=0.0)
JXT_ASSESSMENT_MEMBER_SERVICE_CAP: float = env.float("JXT_ASSESSMENT_MEMBER_SERVICE_CAP", default=5.0)
if JXT_RATE_MIN_SAMPLE < 1 or JXT_RANKING_MIN_CASES < 0:
    raise environ.ImproperlyConfigured(
        "JXT_RATE_MIN_SAMPLE must be at least 1, JXT_RANKING_MIN_CASES at least 0"
    )
# The wall screen's colours (percent): a rate at least GOOD is green, at least FAIR amber, else red;
# 样本不足 is grey. 0.0 % is never green.
JXT_RATE_GOOD_MIN = env.float("JXT_RATE_GOOD_MIN", default=90.0)
JXT_RATE_FAIR_MIN = env.float("JXT_RATE_FAIR_MIN", default=75.0)
if not 0 < JXT_RATE_FAIR_MIN < JXT_RATE_GOOD_MIN <= 100:
    raise environ.ImproperlyConfigured("Need 0 < JXT_RATE_FAIR_MIN < JXT_RATE_GOOD_MIN <= 100")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="jiexiangtong@localhost")
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)

# --- REST framework / OpenAPI ----------------------------------------------------------
REST_FRAMEWORK = {
    # Token schemes first: an anonymous caller is told (401, WWW-Authenticate) how to authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "issues.api.authentication.StaffTokenAuthentication",
        "issues.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # An active account; an integration client marked read-only may only read.
    "DEFAULT_PERMISSION_CLASSES": ["issues.api.permissions.IsActiveUser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # The text boundary for request bodies (core/text.py): DRF's three parsers, each then cleaning.
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "core.api.parsers.FormParser",
        "core.api.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "街巷通 Jiexiangtong API",
    "DESCRIPTION": "Cases, the whistle chain, dispatch orders, evaluations and rates.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One component name per choice set: several fields share AreaLevel, CaseState, … (the schema
    # view and `manage.py spectacular` both read it here).
    "ENUM_NAME_OVERRIDES": {
        "AreaLevelEnum": "alleys.choices.AreaLevel",
        "TierEnum": "alleys.choices.TIER_CHOICES",
        "RoleEnum": "alleys.choices.Role",
        "ServiceKindEnum": "alleys.choices.ServiceKind",
        "DepartmentKindEnum": "alleys.choices.DepartmentKind",
        "CaseStateEnum": "issues.choices.CaseState",
        "CaseSourceEnum": "issues.choices.CaseSource",
        "StaffSourceEnum": "issues.api.serializers.StaffSource",
        "UrgencyEnum": "issues.choices.Urgency",
        "EventKindEnum": "issues.choices.EventKind",
        "PhotoKindEnum": "issues.choices.PhotoKind",
        "PatrolKindEnum": "issues.choices.PatrolKind",
        "FeedbackSolvedEnum": "issues.choices.FeedbackSolved",
        "SatisfactionEnum": "issues.choices.Satisfaction",
        "FeedbackChannelEnum": "issues.choices.FeedbackChannel",
        "ReturnVisitChannelEnum": "issues.choices.ReturnVisitChannel",
        "OrderStateEnum": "issues.choices.OrderState",
        "OrderRoleEnum": "issues.choices.OrderRole",
        "ExtensionStateEnum": "issues.choices.ExtensionState",
        "MeetingStateEnum": "issues.choices.MeetingState",
        "AgendaStateEnum": "issues.choices.AgendaState",
        "DecisionEnum": "issues.choices.Decision",
        "AgendaGroundEnum": "issues.choices.AgendaGround",
        "TimelinessEnum": "evaluation.choices.Timeliness",
        "RatingEnum": "evaluation.choices.Rating",
        "RegistrationStateEnum": "members.choices.RegistrationState",
        "NeedStateEnum": "members.choices.NeedState",
        "NeedKindEnum": "members.choices.NeedKind",
        "ClaimStateEnum": "members.choices.ClaimState",
        "DeliveryStateEnum": "issues.choices.DeliveryState",
        "AttendanceStateEnum": "issues.choices.AttendanceState",
        "ConsultationStateEnum": "issues.choices.ConsultationState",
    },
}

# --- Security (check --deploy passes with DEBUG off) --------------------------------
SECURE_SSL_REDIRECT: bool = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE: bool = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE: bool = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS: int = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS: bool = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD: bool = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("DJANGO_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Staff logins, sessions and the client address (issue 14) ----------------------------
# The one rule for "which address is this client" (core/client.py, docs/operations.md): empty
# = the peer address, X-Forwarded-For ignored; a count of proxies ("1") or their networks
# ("10.0.0.0/8,172.16.0.0/12") = the right-most X-Forwarded-For entry that is not one of them.
JXT_TRUSTED_PROXIES: str = env.str("JXT_TRUSTED_PROXIES", default="")
RATELIMIT_IP_META_KEY = "core.client.client_address"
# django-axes: failed logins (admin, staff pages, API token) counted per account and per
# address, each locked for the cool-off after AXES_FAILURE_LIMIT failures; every attempt is
# logged and shown to superusers in the admin.
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT: int = env.int("JXT_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("JXT_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_CLIENT_IP_CALLABLE = "core.client.client_address"
AXES_LOCKOUT_TEMPLATE = "staff/locked_out.html"
AXES_COOLOFF_MESSAGE = _("登录失败次数过多，该账号或地址已被暂时锁定，请稍后再试或联系管理员解锁。")
# Staff sessions end after JXT_SESSION_IDLE_MINUTES without a request (the session's age, renewed
# at most once a minute rather than written on every request: core/sessions.py) and
# JXT_SESSION_MAX_HOURS after the login whatever happens.
SESSION_COOKIE_AGE: int = env.int("JXT_SESSION_IDLE_MINUTES", default=30) * 60
JXT_SESSION_TOUCH_SECONDS = 60
JXT_SESSION_MAX_AGE: int = env.int("JXT_SESSION_MAX_HOURS", default=12) * 3600
MIDDLEWARE += [
    "core.sessions.SessionLifetimeMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last: marks the reads that may come from the replica (core/replica.py).
    "core.replica.ReplicaReadsMiddleware",
]

# --- Browser protections (issue 14): CSP, Permissions-Policy, no-store, error pages -----
# django-csp's documented settings (4.x). No inline script or style anywhere: every script
# and stylesheet is a static file, so 'self' is the whole allow-list. img-src allows data:
# for the empty favicon and stylesheets' small icons; ECharts draws on <canvas>.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# The residents' form may ask for the position (同意定位); nothing uses the rest.
JXT_PERMISSIONS_POLICY: str = env.str(
    "JXT_PERMISSIONS_POLICY",
    default="accelerometer=(), camera=(), geolocation=(self), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()",
)
# Responses under these prefixes are never stored by a browser or proxy (core/browser.py);
# the API and Open311 are added when the caller identified itself.
JXT_NO_STORE_PREFIXES: list[str] = ["/staff/", "/dashboard/", "/admin/", "/track/", "/report/done/"]
MIDDLEWARE.insert(1, "csp.middleware.CSPMiddleware")
MIDDLEWARE.insert(2, "core.browser.browser_protections")
# Chinese error pages with the reason (core/error_pages.py; handler400… in config/urls.py).
CSRF_FAILURE_VIEW = "core.error_pages.csrf_failure"
RATELIMIT_VIEW = "core.error_pages.too_many_requests"

# --- Logging: never write residents' personal data ------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "alleys.logging.MaskPersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
