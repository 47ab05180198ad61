# Shared by scripts/run and scripts/test: where builds are cached, installing what is missing,
# and building the site (wasm + CSS) and the server. Source it; it defines functions only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Builds and installed tools live outside the clone, so a fresh clone reuses them.
CACHE=${LAMBDAPORT_CACHE:-$HOME/.cache/lambdaport}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/target}
SITE=$CARGO_TARGET_DIR/site
WASM_BINDGEN_VERSION=0.2.130 # must equal the wasm-bindgen pin in Cargo.toml
SQLX_CLI_VERSION=0.8.6
export PATH=$HOME/.cargo/bin:$PATH

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=
apt_install() {
  command -v apt-get >/dev/null || die "missing $*; install it with your package manager"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

postgres_bin_dir() {
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

ensure_build_tools() {
  command -v cargo >/dev/null || die "Rust is not installed: see https://rustup.rs"
  command -v cc >/dev/null || apt_install gcc
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
    # Not --locked: its lock file pins a webpki-roots release that the index no longer has.
    log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2-3 minutes, once)"
    env -u CARGO_TARGET_DIR cargo install --quiet wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
  [ -n "$(postgres_bin_dir)" ] || apt_install postgresql
}

ensure_test_tools() {
  ensure_build_tools
  if ! cargo sqlx --version 2>/dev/null | grep -q " $SQLX_CLI_VERSION\$"; then
    log "cargo install sqlx-cli $SQLX_CLI_VERSION (about 2 minutes, once)"
    env -u CARGO_TARGET_DIR cargo install --quiet sqlx-cli --version "$SQLX_CLI_VERSION" --locked \
      --no-default-features --features postgres,rustls
  fi
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
  [ -x /usr/bin/chromium ] || apt_install chromium
  command -v psql >/dev/null || apt_install postgresql-client
  command -v python3 >/dev/null || apt_install python3 python3-pip
  # The engine is tested with the real AWS clients.
  python3 -c 'import boto3' 2>/dev/null || { log "pip install boto3"; python3 -m pip install --quiet boto3; }
  if ! command -v aws >/dev/null; then
    log "pip install awscli"
    python3 -m pip install --quiet awscli
    command -v pyenv >/dev/null && pyenv rehash # a pyenv python needs a shim for the new command
  fi
  # The catalog is also tested against an independent Lambda emulator, moto.
  if ! command -v moto_server >/dev/null; then
    log "pip install moto[server]"
    python3 -m pip install --quiet 'moto[server]'
    command -v pyenv >/dev/null && pyenv rehash
  fi
  # AWS's Node.js runtime client (aws-lambda-ric) builds its native part from source at install.
  local tool missing=()
  for tool in cmake autoconf automake libtool g++ make; do
    command -v "$tool" >/dev/null || command -v "${tool}ize" >/dev/null || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

# The browser side: the hydrate build of `app` as wasm + JS, and the stylesheet, in $SITE/pkg.
build_site() {
  log "building the site (wasm)"
  (cd "$ROOT" && cargo build --quiet -p frontend --lib --target wasm32-unknown-unknown)
  mkdir -p "$SITE/pkg"
  wasm-bindgen --target web --no-typescript --out-dir "$SITE/pkg" --out-name lambdaport \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug/frontend.wasm"
  cp "$ROOT/style/main.css" "$SITE/pkg/lambdaport.css"
}

build_server() {
  log "building the server"
  (cd "$ROOT" && SQLX_OFFLINE=true cargo build --quiet -p server --bin lambdaport)
}

LAMBDAPORT_BIN() { echo "$CARGO_TARGET_DIR/debug/lambdaport"; }
