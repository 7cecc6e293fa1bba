// The page's service worker: after a first visit, the page opens from this cache, online or not,
// and a new build downloads only the files that changed.
//
// `BUILD` is this build's list of files with a hash of each one's bytes, written into this file
// at build time (scripts/build-manifest.sh). A file is cached under its path and its hash
// ("web_bg.wasm?v=<hash>"), so this worker only ever serves the bytes of its own build: a new
// build comes with a new sw.js, which the browser installs beside this one, and which takes over
// when the page says so (no page ever runs files of two builds). Files outside the list (weights
// given by URL, other sites) go to the network untouched.
const BUILD = { version: "unbuilt", files: {} }; /*@build*/
const CACHE = "autoregress";

const scope = new URL(self.registration.scope);

/** `url`'s file in this build ("index.html" for the page itself), or null if not one of its files. */
function buildFile(url, navigation) {
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return null;
  const path = url.pathname.slice(scope.pathname.length);
  if (navigation && (path === "" || path === "index.html")) return "index.html";
  return BUILD.files[path] ? path : null;
}

/** The cache key of `path` in this build. */
const keyOf = (path) => new URL(`${path}?v=${BUILD.files[path].hash}`, scope).href;

async function hashOf(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const inFlight = new Map(); // key -> promise of the whole response: one download per file

/** `path`'s bytes from the cache, or from the network (`cacheMode`: how the browser's HTTP cache
 *  is used), then cached if they are this build's: checked against the hash, so that a newer
 *  build on the server is never cached as this one's. The first asker gets the bytes as they
 *  arrive (the wasm module compiles while it downloads); askers meanwhile get them once whole. */
async function fromCacheOrNetwork(path, cacheMode = "no-cache") {
  const key = keyOf(path);
  if (inFlight.has(key)) return (await inFlight.get(key)).clone();
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  if (hit) return hit;
  if (inFlight.has(key)) return (await inFlight.get(key)).clone();
  let settle;
  inFlight.set(key, new Promise((resolve, reject) => (settle = { resolve, reject })));
  inFlight.get(key).catch(() => {});
  try {
    const response = await fetch(new URL(path, scope), { cache: cacheMode });
    // The bytes as decoded: no content-encoding or length of the compressed transfer.
    const headers = { "content-type": response.headers.get("content-type") || "application/octet-stream" };
    if (!response.ok || !response.body) {
      inFlight.delete(key);
      settle.resolve(response.clone());
      return response;
    }
    const [mine, kept] = response.body.tee();
    // In the background: the whole file, hashed, cached, and handed to whoever asked meanwhile.
    (async () => {
      const body = await new Response(kept).arrayBuffer();
      // The page itself is not checked: a development server (trunk serve) adds a script to it.
      if (path === "index.html" || (await hashOf(body)).startsWith(BUILD.files[path].hash)) {
        await cache.put(key, new Response(body, { status: 200, headers }));
      } else {
        notifyPages({ type: "newBuildOnServer" });
      }
      settle.resolve(new Response(body, { status: 200, headers }));
    })()
      .catch((e) => settle.reject(e))
      .finally(() => inFlight.delete(key));
    return new Response(mine, { status: 200, headers });
  } catch (e) {
    inFlight.delete(key);
    settle.reject(e);
    throw e;
  }
}

async function notifyPages(message) {
  for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage(message);
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const first = !self.registration.active;
    // An update copies from the cache what it can and downloads what changed, of the files the
    // page used so far; the rest it fetches when asked.
    const used = new Set((await cache.keys()).map((r) => new URL(r.url).pathname.slice(scope.pathname.length)));
    for (const path of Object.keys(BUILD.files)) {
      const wanted = used.has(path) || (first && BUILD.shell.includes(path));
      if (!wanted) continue;
      try {
        await (await fromCacheOrNetwork(path, first ? "force-cache" : "no-cache")).arrayBuffer();
        await inFlight.get(keyOf(path)); // stored
      } catch (_) {
        // fetched again when asked for
      }
    }
    // The first visit: nothing to mix with, so this worker takes over at once (the files the
    // page loaded before it, above, come from the browser's HTTP cache, not a second download).
    if (first) await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    // Entries of other builds go.
    const cache = await caches.open(CACHE);
    const mine = new Set(Object.keys(BUILD.files).map(keyOf));
    for (const request of await cache.keys()) if (!mine.has(request.url)) await cache.delete(request);
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "activate") self.skipWaiting();
  // The first visit's page, as the browser received it (the first navigation came before this
  // worker): stored as the build's index.html, which a first install does not download again.
  if (event.data?.type === "page" && BUILD.files["index.html"]) {
    const headers = { "content-type": "text/html" };
    event.waitUntil(caches.open(CACHE).then((cache) => cache.put(keyOf("index.html"), new Response(event.data.bytes, { headers }))));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const path = buildFile(new URL(request.url), request.mode === "navigate");
  if (!path) return;
  // Page loads and subresources alike: this build's bytes, from the cache when they are there.
  event.respondWith(fromCacheOrNetwork(path).then((response) => {
    // Alive until the file is stored, not only until it is answered.
    const storing = inFlight.get(keyOf(path));
    if (storing) event.waitUntil(storing.catch(() => {}));
    return response;
  }));
});
