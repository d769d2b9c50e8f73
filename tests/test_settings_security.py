"""Production settings: Django's deployment checks pass and the security headers
and cookie flags are on. Each check loads the settings in a fresh interpreter
with ``TONGBAN_ENV=production``, as a deployment would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SRC = Path(__file__).resolve().parents[1] / "src" / "tongban"
HOST = "tongban.example.gov.cn"


@cache
def rsa_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def production_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith("TONGBAN_")
        # tests/conftest.py allows async-unsafe access for Playwright; deployments must not.
        and key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tongban.settings",
        TONGBAN_ENV="production",
        TONGBAN_SECRET_KEY="production-like-secret-" + "k" * 50,
        TONGBAN_DATA_MASTER_KEY="production-like-master-key-" + "m" * 20,
        TONGBAN_OIDC_RSA_PRIVATE_KEY=rsa_private_key_pem(),
        TONGBAN_ALLOWED_HOSTS=HOST,
        TONGBAN_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'production.sqlite3'}",
    )
    return env


def run_python(tmp_path: Path, code: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code], env=production_env(tmp_path), capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_deployment_checks_pass_without_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tongban.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(tmp_path), capture_output=True, text=True, timeout=120, check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_its_secrets(tmp_path):
    env = production_env(tmp_path)
    del env["TONGBAN_SECRET_KEY"]

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )

    assert result.returncode != 0
    assert "TONGBAN_SECRET_KEY" in result.stderr
    assert not list(tmp_path.glob("*.secret")), "production wrote a development secret"


@pytest.fixture(scope="module")
def production_settings(tmp_path_factory):
    return run_python(
        tmp_path_factory.mktemp("prod"),
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "k: getattr(s, k) for k in ['DEBUG', 'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY',"
        " 'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_HTTPONLY', 'SECURE_HSTS_SECONDS',"
        " 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_SSL_REDIRECT', 'X_FRAME_OPTIONS',"
        " 'SECURE_CONTENT_TYPE_NOSNIFF', 'CONTENT_SECURITY_POLICY', 'SESSION_COOKIE_SAMESITE',"
        " 'ALLOWED_HOSTS', 'MIDDLEWARE']}))",
    )


def test_session_and_csrf_cookies_are_secure_and_http_only(production_settings):
    assert production_settings["SESSION_COOKIE_SECURE"] is True
    assert production_settings["SESSION_COOKIE_HTTPONLY"] is True
    assert production_settings["CSRF_COOKIE_SECURE"] is True
    assert production_settings["CSRF_COOKIE_HTTPONLY"] is True
    assert production_settings["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")


def test_transport_security_and_framing_are_locked_down(production_settings):
    assert production_settings["DEBUG"] is False
    assert production_settings["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production_settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["X_FRAME_OPTIONS"] == "DENY"
    assert production_settings["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production_settings["ALLOWED_HOSTS"] == [HOST]


def test_csrf_and_clickjacking_protection_are_installed(production_settings):
    middleware = production_settings["MIDDLEWARE"]

    assert "django.middleware.csrf.CsrfViewMiddleware" in middleware
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in middleware
    assert "django.middleware.security.SecurityMiddleware" in middleware


def test_the_content_security_policy_forbids_inline_code(production_settings):
    policy = production_settings["CONTENT_SECURITY_POLICY"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}

    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]


def test_a_production_response_carries_the_security_headers(tmp_path):
    headers = run_python(
        tmp_path,
        "import django, json; django.setup()\n"
        # A deployment collects static files before serving (docs/operations.md).
        "from django.core.management import call_command\n"
        "call_command('collectstatic', interactive=False, verbosity=0)\n"
        "from django.test import Client\n"
        f"r = Client(HTTP_HOST='{HOST}').get('/no-such-page/', secure=True)\n"
        "plain = Client(HTTP_HOST='" + HOST + "').get('/no-such-page/')\n"
        "print(json.dumps({'status': r.status_code, 'plain_status': plain.status_code,"
        " 'plain_location': plain.get('Location', ''), **{k: r.get(k, '') for k in"
        " ['Strict-Transport-Security', 'X-Frame-Options', 'Content-Security-Policy',"
        " 'X-Content-Type-Options', 'Referrer-Policy']}}))",
    )

    assert headers["status"] == 404
    assert headers["plain_status"] == 301
    assert headers["plain_location"].startswith(f"https://{HOST}/")
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"]


# A <script> that loads a file is allowed; one with code inside, an inline event
# handler or a javascript: URL would be blocked by the policy (and is a smell).
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)


def templates() -> list[Path]:
    return sorted(SRC.glob("**/templates/**/*.html"))


def test_there_are_templates_to_check():
    assert templates()


@pytest.mark.parametrize("template", templates(), ids=lambda path: str(path.relative_to(SRC)))
def test_templates_hold_no_inline_scripts_or_styles(template):
    text = template.read_text(encoding="utf-8")

    assert not INLINE_SCRIPT.search(text), "inline <script>: move the code to a static file"
    assert not EVENT_HANDLER.search(text), "inline event handler (on…=): bind it from a static script"
    assert not JS_URL.search(text), "javascript: URL"
    assert not STYLE_ATTRIBUTE.search(text), "style attribute: the CSP blocks it; use a class"
