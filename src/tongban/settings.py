"""Django settings for Tongban, read from the environment.

Development defaults (``make run``) need no configuration: an SQLite database and
generated keys under ``var/``. Production sets ``TONGBAN_ENV=production`` and then
every secret must come from the environment; see docs/operations.md.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("TONGBAN_PROJECT_DIR", BASE_DIR.parent.parent))
VAR_DIR = Path(os.environ.get("TONGBAN_VAR_DIR", PROJECT_DIR / "var"))

ENVIRONMENT = os.environ.get("TONGBAN_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _local_secret(name: str, nbytes: int = 32) -> str:
    """Return a development secret kept in ``var/``, creating it on first use.

    Production must pass every secret through the environment instead, so that
    several stateless app nodes share them.
    """
    if PRODUCTION:
        raise RuntimeError(f"Set {name.upper()} in the environment for production.")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / f"{name}.secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("TONGBAN_SECRET_KEY") or _local_secret("tongban_secret_key", 50)
# The master key protects personal data at rest (ID numbers) and derives the
# blind-index key; losing it makes those fields unreadable.
DATA_MASTER_KEY = os.environ.get("TONGBAN_DATA_MASTER_KEY") or _local_secret("tongban_data_master_key")


def _local_rsa_key() -> str:
    """Return the development OpenID Connect signing key (RSA, PEM), kept in ``var/``."""
    if PRODUCTION:
        raise RuntimeError("Set TONGBAN_OIDC_RSA_PRIVATE_KEY in the environment for production.")
    path = VAR_DIR / "oidc_rsa_key.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    return path.read_text()


# Dotted path of a kernel.crypto.CryptoProvider class (an HSM or SM4 provider);
# empty means the software provider keyed by DATA_MASTER_KEY.
TONGBAN_CRYPTO_PROVIDER = os.environ.get("TONGBAN_CRYPTO_PROVIDER", "")
DEBUG = os.environ.get("TONGBAN_DEBUG", "false").lower() == "true"
ALLOWED_HOSTS = _env_list("TONGBAN_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = _env_list("TONGBAN_CSRF_TRUSTED_ORIGINS", "")
PUBLIC_BASE_URL = os.environ.get("TONGBAN_PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# The algorithm of new seals' credential keys: "Ed25519" (EdDSA, the default) or "ES256".
CREDENTIAL_SIGNING_ALGORITHM = os.environ.get("TONGBAN_CREDENTIAL_ALGORITHM", "Ed25519")

INSTALLED_APPS = [
    "tongban.workbench.apps.TongbanAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "oauth2_provider",
    # Ninja serves its bundled Swagger UI from static files (no CDN at run time).
    "ninja",
    # Background work: the django.tasks API (backport) with its database backend.
    "django_tasks",
    "django_tasks_db",
    "tongban.kernel",
    "tongban.registries",
    "tongban.identity",
    "tongban.catalog",
    "tongban.notices",
    "tongban.exchange",
    "tongban.credentials",
    "tongban.services",
    "tongban.cases",
    "tongban.portal",
    "tongban.workbench",
    "tongban.demo",
]

MIDDLEWARE = [
    "tongban.kernel.middleware.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tongban.kernel.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tongban.kernel.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tongban.identity.middleware.ActingForMiddleware",
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"

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
                "tongban.notices.context_processors.inbox",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{VAR_DIR / 'tongban.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers never both read the
    # audit chain head and then fail on upgrade; WAL lets readers run alongside.
    # Connections persist (one per server thread): SQLite checkpoints and removes
    # the WAL whenever its last connection closes, which per request made every
    # write pay a synchronous checkpoint. PostgreSQL uses its pool instead.
    DATABASES["default"]["CONN_MAX_AGE"] = None
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 1, "max_size": 8}}
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TONGBAN_TEST_DB_NAME", "test_tongban")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.Account"
LOGIN_URL = "identity:sign_in"
LOGIN_REDIRECT_URL = "portal:profile"
LOGOUT_REDIRECT_URL = "portal:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "tongban.identity.passwords.ChineseCommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(VAR_DIR / "media")}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if not DEBUG else "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Files uploaded to bulk-load a registry: full of personal data, never served,
    # kept only until their import finishes. On several nodes, point this at
    # private shared storage (an S3-compatible bucket through django-storages).
    "registry_imports": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                         "OPTIONS": {"location": str(VAR_DIR / "imports"), "file_permissions_mode": 0o600,
                                     "directory_permissions_mode": 0o700}},
    # Applicants' uploaded materials: personal data, served only to the applicant and
    # the officers handling the case, through the application (never as static files).
    "case_materials": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                       "OPTIONS": {"location": str(VAR_DIR / "materials"), "file_permissions_mode": 0o600,
                                   "directory_permissions_mode": 0o700}},
}
# The largest file an applicant may upload as one material (bytes), and the virus
# scanner every upload passes: "local" (kernel.uploads.LocalScanner, no service)
# or ClamAV's daemon, clamd://host:port or clamd:///run/clamav/clamd.ctl.
UPLOAD_MAX_BYTES = int(os.environ.get("TONGBAN_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
VIRUS_SCANNER = os.environ.get("TONGBAN_VIRUS_SCANNER", "local")
# The largest registry file an officer may upload from the workbench (bytes).
REGISTRY_IMPORT_MAX_BYTES = int(os.environ.get("TONGBAN_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
# What an .xlsx upload may expand to (its zip members' sizes): a guard against zip bombs.
REGISTRY_IMPORT_MAX_EXPANDED_BYTES = int(os.environ.get("TONGBAN_IMPORT_MAX_EXPANDED_BYTES",
                                                        str(512 * 1024 * 1024)))

# The CJK font licence PDFs embed (a TrueType file or collection, and the font's
# index in a collection): Debian's fonts-wqy-microhei by default.
LICENCE_PDF_FONT = os.environ.get("TONGBAN_LICENCE_PDF_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
LICENCE_PDF_FONT_INDEX = int(os.environ.get("TONGBAN_LICENCE_PDF_FONT_INDEX", "0"))

# Email: TONGBAN_EMAIL_URL names the mail server, e.g.
# smtp://user:password@mail.example.gov.cn:587?tls=1 (STARTTLS), smtps://…:465 (TLS from
# the start), file:///path (one file per message), console:// or locmem://. Without it,
# development writes messages to var/mail/ (no mail server needed) and production
# uses the local mail server (smtp://localhost:25).
def _email_settings(url: str) -> dict[str, object]:
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    backends = {"smtp": "smtp", "smtps": "smtp", "file": "filebased", "console": "console", "locmem": "locmem"}
    if parts.scheme not in backends:
        raise RuntimeError(f"TONGBAN_EMAIL_URL: unknown scheme {parts.scheme!r} (smtp, smtps, file, console, locmem)")
    values: dict[str, object] = {"EMAIL_BACKEND": f"django.core.mail.backends.{backends[parts.scheme]}.EmailBackend"}
    if parts.scheme == "file":
        values["EMAIL_FILE_PATH"] = unquote(parts.path)
    elif parts.scheme in ("smtp", "smtps"):
        values.update(
            EMAIL_HOST=parts.hostname or "localhost",
            EMAIL_PORT=parts.port or (465 if parts.scheme == "smtps" else 25),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=parts.scheme == "smtps",
            EMAIL_USE_TLS=parts.scheme == "smtp" and query.get("tls", "0").lower() in ("1", "true", "yes"),
            EMAIL_TIMEOUT=int(query.get("timeout", "10")),
        )
    return values


globals().update(_email_settings(os.environ.get(
    "TONGBAN_EMAIL_URL", "smtp://localhost:25" if PRODUCTION else f"file://{VAR_DIR / 'mail'}"
)))
DEFAULT_FROM_EMAIL = os.environ.get("TONGBAN_EMAIL_FROM", "通办 Tongban <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Notices (ADR 0015). SMS goes through the gateway class named here (a
# tongban.notices.sms.SmsGateway); the default writes JSON lines to a local file.
NOTICES_SMS_GATEWAY = os.environ.get("TONGBAN_SMS_GATEWAY", "tongban.notices.sms.FileSmsGateway")
NOTICES_SMS_FILE = Path(os.environ.get("TONGBAN_SMS_FILE", VAR_DIR / "sms" / "outbox.jsonl"))
# A message that failed is retried after 1, 2, 4, … minutes (at most 6 hours apart),
# and marked failed after this many attempts (about two hours with the defaults).
NOTICES_MAX_ATTEMPTS = int(os.environ.get("TONGBAN_NOTICES_MAX_ATTEMPTS", "8"))
NOTICES_RETRY_BASE_SECONDS = int(os.environ.get("TONGBAN_NOTICES_RETRY_SECONDS", "60"))
NOTICES_RETRY_MAX_SECONDS = 6 * 60 * 60
# How long a worker may take to send one claimed batch before another worker may take it over.
NOTICES_CLAIM_SECONDS = 10 * 60

# Background tasks are rows in the database, run by ``tongban worker`` (which
# ``tongban serve`` starts beside gunicorn): no extra server to run.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# A page must render even if a file is missing from the collected manifest: fall
# back to the unhashed name rather than fail with a server error.
WHITENOISE_MANIFEST_STRICT = False

CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                      "LOCATION": "tongban_cache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 8
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind a TLS-terminating load balancer in production; the demo serves plain HTTP
# on loopback, so these are on only when TONGBAN_ENV=production.
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = PRODUCTION and os.environ.get("TONGBAN_SSL_REDIRECT", "true") == "true"
SECURE_HSTS_SECONDS = 31_536_000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)
# Addresses of reverse proxies whose X-Forwarded-For may be believed.
TRUSTED_PROXIES = _env_list("TONGBAN_TRUSTED_PROXIES", "")

# Sign-in protection: lock an account after this many failures for this long.
SIGN_IN_MAX_FAILURES = 5
SIGN_IN_LOCK_SECONDS = 15 * 60
# Requests per window (seconds) per client address and per account.
RATE_LIMITS = {
    "sign_in": (20, 60),
    "sign_up": (10, 60),
    "real_name": (10, 60),
    "officer_sign_in": (20, 60),
    # Exchange-gateway calls per department system (client id).
    "exchange_call": (600, 60),
    # Licence verifications per client address (the verification API is public).
    "credential_verify": (120, 60),
}

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": os.environ.get("TONGBAN_OIDC_RSA_PRIVATE_KEY") or _local_rsa_key(),
    "PKCE_REQUIRED": True,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise"],
    # What discovery advertises; TongbanOAuth2Validator enforces the same.
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token"],
    # RFC 9700 (OAuth 2.0 Security BCP): refuse the implicit and password grants,
    # PKCE "plain" and tokens in query strings; send RFC 9207 ``iss`` with the
    # authorization response; keep only token digests at rest.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["http", "https"],
    "REFRESH_TOKEN_EXPIRE_SECONDS": 60 * 60 * 8,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "OAUTH2_VALIDATOR_CLASS": "tongban.identity.oidc.TongbanOAuth2Validator",
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Name and assurance level",
        "api": "Call the Tongban API as a department system",
    },
    "DEFAULT_SCOPES": ["openid"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "ID_TOKEN_EXPIRE_SECONDS": 600,
    "OIDC_ISS_ENDPOINT": os.environ.get("TONGBAN_OIDC_ISSUER", ""),
    "REQUEST_APPROVAL_PROMPT": "auto",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact": {"()": "tongban.kernel.logging.RedactIdentifiersFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("TONGBAN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # SpiffWorkflow logs every task state change at INFO; the process engine's callers record what matters.
        "spiff": {"level": "WARNING"},
    },
}

# django-oauth-toolkit's swappable models, named so that our foreign keys to them
# migrate cleanly.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"

CSRF_FAILURE_VIEW = "tongban.kernel.errors.csrf_failure"
