#!/usr/bin/env bash
# Installs the independent wasi:http hosts serve-check.sh runs.
#  - jco (Node.js), pinned in package-lock.json: `npm ci` (seconds).
#  - wasmtime-cli 48.0.8 (the wasmtime version cto-host uses), only with
#    WITH_WASMTIME=1: `cargo install --locked` into $WASMTIME_ROOT (default
#    ~/.cargo); 15+ minutes on 2 cores. Skipped when that version is present.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WASMTIME_VERSION=48.0.8

if [ ! -x "$HERE/node_modules/.bin/jco" ]; then
    (cd "$HERE" && npm ci --no-audit --no-fund)
fi
"$HERE/node_modules/.bin/jco" --version

if [ "${WITH_WASMTIME:-0}" = 1 ]; then
    root="${WASMTIME_ROOT:-$HOME/.cargo}"
    if ! "$root/bin/wasmtime" --version 2>/dev/null | grep -q "^wasmtime $WASMTIME_VERSION "; then
        cargo install wasmtime-cli --version "$WASMTIME_VERSION" --locked --root "$root"
    fi
    "$root/bin/wasmtime" --version
fi
