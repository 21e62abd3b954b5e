#!/usr/bin/env bash
# Installs what a fresh machine lacks, and nothing that is already there:
# the Rust wasm target, the wasm-bindgen CLI (pinned to the crate's version),
# Debian's PHP, MariaDB, zip and Chromium, and the npm packages.
# Idempotent: a second run takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }
WASM_BINDGEN_VERSION=0.2.130

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else say "need root for: $*"; return 1; fi
}

# --- Rust: wasm target and wasm-bindgen CLI -------------------------------
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  # Not --locked: its lock file wants a webpki-roots the registry mirror lacks.
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes on 2 cores)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# --- Debian packages: PHP, MariaDB, Chromium --------------------------------
debs=(php-cli php-mysql php-curl php-xml php-mbstring php-zip php-gd php-intl php-bcmath
      mariadb-server mariadb-client chromium)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package starts a system MariaDB we do not use: our sites run their own.

# --- npm packages ------------------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "ready"
