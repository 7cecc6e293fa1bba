// A static file server for dist/ that behaves like a plain static host, so that load
// measurements (scripts/measure-load.mjs) see what a visitor sees: gzip, content types, ETag and
// Last-Modified validators, 304 answers, and `Cache-Control: no-cache` (a host that cannot promise
// freshness: the browser keeps the files but revalidates each one). Unlike `trunk serve` there is
// no live reload and no dev-only header.
//
// Usage: node scripts/static-server.mjs [--port 8080] [--dir dist] [--host 127.0.0.1]
//                                       [--mbit 10 --latency 40]
// As a module: startStaticServer({ dir, port, host, link }) -> { server, base, log }, where `log`
// gets one { path, query, status, bytes, encoding, start, end } per request (`bytes`: body bytes
// sent, compressed size; 0 for a 304 or HEAD; `start`, `end`: Date.now() at arrival and once
// sent), so a caller can count the downloads of each file; `log.inFlight` counts the requests
// being answered (a caller can wait for a quiet link).
//
// `link: { mbit, latencyMs }` (optional) sends every response through ONE emulated link: each
// response waits `latencyMs` before its headers, and the bodies of all responses share `mbit`.
// Chromium's DevTools throttling is per client (the page and its dedicated workers share one
// budget, but a service worker or a nested worker gets its own, or none), so this is the way to
// put every byte a visit pulls, from whichever context, over one link.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import crypto from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".bpk": "application/octet-stream",
  ".idx": "application/octet-stream",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};
// What hosts commonly gzip: text, scripts, wasm, JSON; and the weights (.bpk), which a host can
// be told to compress. Images are compressed already; other binaries are sent as they are.
const COMPRESSED = new Set([".html", ".js", ".mjs", ".css", ".wasm", ".json", ".webmanifest", ".svg", ".txt", ".bpk"]);
// zlib's default level: what a host compressing on the fly typically spends.
const GZIP_LEVEL = 6;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One shared link: `send(res, body)` writes `body` at the link's pace, interleaved with the
 *  other responses in flight. Times are absolute, so a late timer costs no bandwidth later. */
function makeLink({ mbit, latencyMs = 0 }) {
  const bytesPerMs = (mbit * 1e6) / 8 / 1000;
  const chunk = Math.max(16 * 1024, Math.round(bytesPerMs * 10)); // about 10 ms of link a piece
  let free = 0; // performance.now() at which the link is next idle
  const drained = (res) => new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
  return {
    latencyMs,
    async send(res, body) {
      for (let off = 0; off < body.length && !res.destroyed; off += chunk) {
        const piece = body.subarray(off, off + chunk);
        const now = performance.now();
        // A link idle for a while starts now; a busy one goes on from where it was, so that
        // late timers (up to 50 ms) are caught up instead of lost.
        if (now - free > 50) free = now;
        free += piece.length / bytesPerMs;
        await sleep(free - now); // the piece has crossed the link
        if (res.destroyed) break;
        res.sentBody = (res.sentBody || 0) + piece.length;
        if (!res.write(piece)) await drained(res);
      }
      res.end();
    },
  };
}

/** Serves `dir`; resolves to { server, base, log } once listening. */
export function startStaticServer({ dir = "dist", port = 0, host = "127.0.0.1", link = null } = {}) {
  const root = path.resolve(dir);
  const shaper = link && link.mbit > 0 ? makeLink(link) : null;
  const cache = new Map(); // file -> { mtimeMs, size, body, gzip, etag, lastModified }
  const log = [];
  log.inFlight = 0;

  // Read (and gzip) once; again only when the file changed on disk (a rebuild).
  function entry(file, stat) {
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) return hit;
    const body = fs.readFileSync(file);
    const ext = path.extname(file).toLowerCase();
    const hash = crypto.createHash("sha256").update(body).digest("base64url").slice(0, 27);
    const e = {
      mtimeMs: stat.mtimeMs,
      size: stat.size,
      body,
      type: TYPES[ext] || "application/octet-stream",
      gzip: COMPRESSED.has(ext) ? zlib.gzipSync(body, { level: GZIP_LEVEL }) : null,
      etag: `"${hash}"`,
      lastModified: new Date(Math.floor(stat.mtimeMs / 1000) * 1000).toUTCString(),
    };
    cache.set(file, e);
    return e;
  }

  function resolveFile(pathname) {
    let rel;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return null;
    }
    const file = path.join(root, rel);
    if (file !== root && !file.startsWith(root + path.sep)) return null; // no way out of dir
    try {
      const stat = fs.statSync(file);
      if (stat.isFile()) return { file, stat };
      if (stat.isDirectory()) {
        const index = path.join(file, "index.html");
        const s = fs.statSync(index);
        if (s.isFile()) return { file: index, stat: s };
      }
    } catch {}
    return null;
  }

  const server = http.createServer(async (req, res) => {
    const start = Date.now();
    log.inFlight++;
    res.on("close", () => log.inFlight--);
    if (shaper && shaper.latencyMs > 0) await sleep(shaper.latencyMs);
    const url = new URL(req.url, "http://localhost");
    // Logged once the response is over; a response the client dropped counts what was sent.
    const record = (status, bytes, encoding = null) => {
      const item = { path: url.pathname, query: url.search, status, bytes, encoding, start };
      res.on("close", () => {
        item.end = Date.now();
        if (!res.writableFinished) Object.assign(item, { aborted: true, bytes: res.sentBody ?? 0 });
        log.push(item);
      });
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      record(405, 0);
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const found = resolveFile(url.pathname);
    if (!found) {
      const body = Buffer.from("not found\n");
      record(404, req.method === "HEAD" ? 0 : body.length);
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "content-length": body.length, "cache-control": "no-cache" });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    const e = entry(found.file, found.stat);
    const gzip = e.gzip && /\bgzip\b/i.test(req.headers["accept-encoding"] || "");
    // One validator per representation (as hosts do): the gzipped body has its own ETag.
    const etag = gzip ? `${e.etag.slice(0, -1)}-gzip"` : e.etag;
    const headers = {
      "content-type": e.type,
      "cache-control": "no-cache",
      etag,
      "last-modified": e.lastModified,
      vary: "Accept-Encoding",
    };
    // If-None-Match wins over If-Modified-Since (RFC 9110); either representation's tag matches.
    const inm = req.headers["if-none-match"];
    const ims = req.headers["if-modified-since"];
    const tags = inm ? inm.split(",").map((t) => t.trim().replace(/^W\//, "")) : [];
    const notModified = inm
      ? tags.includes("*") || tags.includes(e.etag) || tags.includes(`${e.etag.slice(0, -1)}-gzip"`)
      : ims !== undefined && Date.parse(ims) >= Date.parse(e.lastModified);
    if (notModified) {
      record(304, 0);
      res.writeHead(304, headers).end();
      return;
    }
    const body = gzip ? e.gzip : e.body;
    if (gzip) headers["content-encoding"] = "gzip";
    headers["content-length"] = body.length;
    record(200, req.method === "HEAD" ? 0 : body.length, gzip ? "gzip" : null);
    res.writeHead(200, headers);
    if (req.method === "HEAD") res.end();
    else if (shaper) shaper.send(res, body);
    else res.end(body);
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      const shown = host.includes(":") ? `[${host}]` : host;
      resolve({ server, base: `http://${shown}:${p}/`, log });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
  };
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = arg("dir", path.join(here, "../dist"));
  const mbit = Number(arg("mbit", 0));
  const link = mbit > 0 ? { mbit, latencyMs: Number(arg("latency", 0)) } : null;
  const { base, log } = await startStaticServer({ dir, port: Number(arg("port", 8080)), host: arg("host", "127.0.0.1"), link });
  console.log(`serving ${path.resolve(dir)} at ${base}${link ? ` over one ${mbit} Mbit/s link, ${link.latencyMs} ms latency` : ""}`);
  // One line per request, for a person watching the downloads.
  const print = () => {
    while (print.seen < log.length) {
      const r = log[print.seen++];
      console.log(`${r.status} ${r.path}${r.query} ${r.bytes} B${r.encoding ? ` (${r.encoding})` : ""}`);
    }
  };
  print.seen = 0;
  setInterval(print, 250).unref();
  process.on("SIGINT", () => process.exit(0));
}
