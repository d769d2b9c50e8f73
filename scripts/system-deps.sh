#!/usr/bin/env bash
# Check for the Debian packages the test suite needs: PostgreSQL 15, chromium, a
# CJK font (for the browser tests' Chinese pages and the licence PDFs), poppler's
# pdfsig/pdftotext and NSS's certutil (which validate the signed licence PDFs
# independently), zbar's zbarimg (which scans their QR codes), and npm for the
# front-end assets. With CI=true (or TONGBAN_INSTALL_SYSTEM_DEPS=true) missing packages are
# installed; otherwise they are only reported, so that a developer decides.
set -euo pipefail

check() {
  missing=()
  [[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=(postgresql-15)
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  { fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" && [[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]]; } \
    || missing+=(fonts-wqy-microhei)
  [[ -x /usr/bin/pdfsig && -x /usr/bin/pdftotext ]] || missing+=(poppler-utils)
  [[ -x /usr/bin/certutil ]] || missing+=(libnss3-tools)
  [[ -x /usr/bin/zbarimg ]] || missing+=(zbar-tools)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
}

check
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ "${CI:-}" != "true" && "${TONGBAN_INSTALL_SYSTEM_DEPS:-}" != "true" ]]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them (apt-get install ${missing[*]}) or run with TONGBAN_INSTALL_SYSTEM_DEPS=true." >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
as_root=()
if [[ $(id -u) -ne 0 ]]; then
  as_root=(sudo)
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig >/dev/null

check
if ((${#missing[@]})); then
  echo "Still missing after installing: ${missing[*]}" >&2
  exit 1
fi
