#!/usr/bin/env bash
# Every check, in the order that fails fastest: lint, contracts, types,
# migrations, pytest on SQLite (with the browser tests), pytest on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE=tongban.settings
export TONGBAN_VAR_DIR=${TONGBAN_VAR_DIR:-$PWD/var/test}
mkdir -p "$TONGBAN_VAR_DIR"

step() { printf '\n== %s\n' "$*"; }

step "System packages"
bash scripts/system-deps.sh

step "ruff"
$BIN/ruff check src tests bench
step "import-linter (layers)"
$BIN/lint-imports --no-cache
step "mypy"
$BIN/mypy
step "migrations are up to date"
$BIN/tongban makemigrations --check --dry-run >/dev/null
step "deployment checks (production settings)"
TONGBAN_ENV=production TONGBAN_SECRET_KEY="ci-$(head -c 32 /dev/urandom | base64 | tr -d '/+=')" \
  TONGBAN_DATA_MASTER_KEY=ci-master-key TONGBAN_OIDC_RSA_PRIVATE_KEY="$(cat "$TONGBAN_VAR_DIR/oidc_rsa_key.pem" 2>/dev/null || $BIN/python -c 'from tongban.settings import _local_rsa_key; print(_local_rsa_key())')" \
  TONGBAN_ALLOWED_HOSTS=tongban.example.gov.cn \
  $BIN/tongban check --deploy --fail-level WARNING

step "pytest on SQLite (with browser tests)"
$BIN/pytest

step "pytest on PostgreSQL 15"
DATABASE_URL=$(bash scripts/pg-test-cluster.sh start)
trap 'bash scripts/pg-test-cluster.sh stop' EXIT
DATABASE_URL=$DATABASE_URL $BIN/pytest -m "not browser"
