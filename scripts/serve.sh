#!/usr/bin/env bash
# Builds the demo page with the committed weights and serves it on http://127.0.0.1:8080
# (installs Trunk, wasm-bindgen and wasm-opt first if they are missing).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
setup_rust_tools
setup_node_tools
cd "$root"
exec trunk serve --release "$@"
