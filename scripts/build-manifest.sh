#!/usr/bin/env bash
# Trunk's post-build hook (see Trunk.toml), or by hand: `scripts/build-manifest.sh dist`.
# Lists the build's files with the size and a hash of each one's bytes: in build.json (the
# totals of the page's progress line) and in sw.js (which bytes the service worker may serve;
# a changed file gets a new cache key, so a visit after a new build downloads only what changed).
set -euo pipefail
dir="${TRUNK_STAGING_DIR:-${1:?usage: scripts/build-manifest.sh DIST_DIR}}"
cd "$dir"
[ -f sw.js ] || { echo "build-manifest: no sw.js in $dir (index.html copies web/sw.js)" >&2; exit 1; }

entry() { # "path":{"hash":"...","bytes":N}
  case "$1" in *'"'* | *'\'*) echo "build-manifest: cannot list a file named $1" >&2; exit 1 ;; esac
  printf '"%s":{"hash":"%s","bytes":%s}' "$1" "$(sha256sum "$1" | cut -c1-16)" "$(stat -c %s "$1")"
}

files=""
while IFS= read -r -d '' f; do
  f="${f#./}"
  case "$f" in sw.js | build.json) continue ;; esac
  files+="${files:+,}$(entry "$f")"
done < <(find . -type f -print0 | sort -z)
version=$(printf '%s' "$files" | sha256sum | cut -c1-16)
printf '{"version":"%s","files":{%s}}\n' "$version" "$files" > build.json

# What the page loads before its service worker takes over: on a first visit, the worker caches
# these from the browser's HTTP cache (no second download). The page itself it gets from the
# page (app.js), which knows the address it was loaded from.
shell=""
for f in style.css app.js rpc.js; do
  [ -f "$f" ] && shell+="${shell:+,}\"$f\""
done
build=$(printf '{"version":"%s","shell":[%s],"files":{%s,%s}}' "$version" "$shell" "$files" "$(entry build.json)")
grep -q '/\*@build\*/' sw.js || { echo "build-manifest: sw.js has no /*@build*/ line" >&2; exit 1; }
awk -v build="$build" '/\/\*@build\*\// { print "const BUILD = " build "; /*@build*/"; next } { print }' sw.js > sw.js.tmp
mv sw.js.tmp sw.js
echo "build-manifest: build $version, $(grep -o '"bytes"' build.json | wc -l) files"
