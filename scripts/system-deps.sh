#!/usr/bin/env bash
# Install the Debian packages the test suite needs: PostgreSQL 15, chromium and a
# CJK font. With CI=true, missing packages are installed (we are root there);
# otherwise only reported, so that a developer decides.
set -euo pipefail

missing=()
command -v /usr/lib/postgresql/15/bin/initdb >/dev/null 2>&1 || missing+=(postgresql-15)
command -v /usr/bin/chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || missing+=(fonts-wqy-microhei)

if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ "${CI:-}" == "true" || "${TONGBAN_INSTALL_SYSTEM_DEPS:-}" == "true" ]]; then
  echo "Installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them (apt-get install ${missing[*]}) or run with TONGBAN_INSTALL_SYSTEM_DEPS=true." >&2
  exit 1
fi
