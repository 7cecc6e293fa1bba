#!/usr/bin/env bash
# The whole test suite: the Rust tests (library and trainer), then the page built for wasm32 and
# driven in headless Chromium. Installs what it needs on a fresh machine, skipping what is there.
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
cd "$root"

# The tool installs and Chromium compile and download beside the native build.
logs=$(mktemp -d)
( setup_rust_tools && setup_browser ) >"$logs/setup.log" 2>&1 &
setup_pid=$!

echo "== Rust tests (release profile, shared with the trainer)"
cargo test --release --workspace --exclude web

echo "== tools for the page"
if ! wait "$setup_pid"; then
  cat "$logs/setup.log"
  echo "setup failed" >&2
  exit 1
fi
setup_node_tools

echo "== the page, built for wasm32 with Trunk"
trunk build --release

echo "== the page in headless Chromium"
node tests/browser/page.test.mjs
