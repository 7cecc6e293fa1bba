# Installs what building the page needs, skipping whatever is already there; sourced by
# scripts/serve.sh and tests/run.sh, which call its functions (setup_browser: Chromium, for the
# browser tests only).
# Versions are pinned: Trunk runs offline and accepts only these exact tool versions.

TRUNK_VERSION=0.21.14          # 0.22 needs a newer rustc than the toolchain here
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate in Cargo.lock

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
have() { command -v "$1" >/dev/null 2>&1; }

setup_rust_tools() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  if ! have trunk || [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
    echo "setup: installing trunk $TRUNK_VERSION (about 15 minutes on 2 cores)"
    cargo install --locked "trunk@$TRUNK_VERSION"
  fi
  if ! have wasm-bindgen || [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    echo "setup: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 7 minutes)"
    # Not --locked: its lock file pins a crate version the registry no longer serves.
    cargo install "wasm-bindgen-cli@$WASM_BINDGEN_VERSION"
  fi
}

setup_node_tools() {
  # npm's binaryen (Debian's wasm-opt 108 breaks the wasm) and playwright-core (no browser download).
  if [ ! -x "$root/scripts/node_modules/.bin/wasm-opt" ] || [ ! -d "$root/scripts/node_modules/playwright-core" ]; then
    (cd "$root/scripts" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  export PATH="$root/scripts/node_modules/.bin:$HOME/.cargo/bin:$PATH"
}

setup_browser() {
  if ! have chromium; then
    echo "setup: installing Chromium (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}
