#!/usr/bin/env bash
# Every check, in the order that fails fastest: system packages, lint, contracts,
# types, migrations, deployment checks, pytest on SQLite (with the browser tests),
# pytest on PostgreSQL 15 (a fresh throw-away cluster, removed afterwards).
#
# With CI=true missing Debian packages are installed and a skipped test fails the
# run. Extra arguments go to both pytest runs (e.g. scripts/test-suite.sh -x).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE=tongban.settings
export TONGBAN_VAR_DIR=${TONGBAN_VAR_DIR:-$PWD/var/test}
export TONGBAN_PG_TEST_DIR=${TONGBAN_PG_TEST_DIR:-$TONGBAN_VAR_DIR/pgtest}
# The test plugins (tests/plugins/) are imported before pytest reads conftest files.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# The SQLite run must not pick up a developer's PostgreSQL by accident.
unset DATABASE_URL TONGBAN_ENV
mkdir -p "$TONGBAN_VAR_DIR"

PYTEST=("$BIN/pytest" -p tests.plugins.no_skips -p tests.plugins.databases)
if [[ "${CI:-}" == "true" ]]; then
  PYTEST+=(--no-skips)
fi

SUITE_START=$SECONDS
STEP_START=$SECONDS
STEP_NAME=""
SUMMARY=()
step() {
  finish_step
  STEP_NAME="$*"
  STEP_START=$SECONDS
  printf '\n== %s\n' "$*"
}
finish_step() {
  if [[ -n "$STEP_NAME" ]]; then
    SUMMARY+=("$(printf '%4ss  %s' "$((SECONDS - STEP_START))" "$STEP_NAME")")
  fi
}
report() {
  local status=$?
  finish_step
  STEP_NAME=""
  if ((${#SUMMARY[@]})); then
    printf '\n== Timings\n'
    printf '%s\n' "${SUMMARY[@]}"
  fi
  if ((status == 0)); then
    printf '\nAll checks passed in %ss.\n' "$((SECONDS - SUITE_START))"
  else
    printf '\nFAILED at step "%s" (exit %s) after %ss.\n' "${SUMMARY[-1]##*  }" "$status" \
      "$((SECONDS - SUITE_START))" >&2
  fi
  bash scripts/pg-test-cluster.sh destroy >/dev/null 2>&1 || true
}
trap report EXIT

run_pytest() {
  # pytest exits 5 when it collected nothing: that is a failure here, not a pass.
  local status=0
  "${PYTEST[@]}" "$@" || status=$?
  if ((status == 5)); then
    echo "pytest collected no tests" >&2
    return 1
  fi
  return "$status"
}

step "System packages"
bash scripts/system-deps.sh

step "ruff"
"$BIN/ruff" check src tests bench scripts

step "import-linter (layers)"
"$BIN/lint-imports" --no-cache

step "mypy"
"$BIN/mypy"

step "migrations are up to date"
"$BIN/tongban" makemigrations --check --dry-run >/dev/null

step "deployment checks (production settings)"
TONGBAN_ENV=production \
  TONGBAN_SECRET_KEY="ci-$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')" \
  TONGBAN_DATA_MASTER_KEY="ci-$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')" \
  TONGBAN_OIDC_RSA_PRIVATE_KEY="$("$BIN/python" -c '
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
print(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption()).decode())')" \
  TONGBAN_ALLOWED_HOSTS=tongban.example.gov.cn \
  "$BIN/tongban" check --deploy --fail-level WARNING

step "pytest on SQLite (with browser tests)"
run_pytest "$@"

step "pytest on PostgreSQL 15"
DATABASE_URL=$(bash scripts/pg-test-cluster.sh fresh)
echo "throw-away cluster at $DATABASE_URL ($TONGBAN_PG_TEST_DIR)"
DATABASE_URL=$DATABASE_URL run_pytest -m "not browser" "$@"
