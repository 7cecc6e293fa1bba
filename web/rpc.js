// Calls into a worker that answers each { type, replyTo, ... } with
// { type: "reply", replyTo, value } or { type: "reply", replyTo, error }: the page uses it for the
// models' worker, the models' worker for its helpers.

/** The message of an error (or of anything thrown), to show or to post. */
export const errorText = (e) => (e && e.message ? e.message : String(e));

/** A channel to `worker`; `makeError(message)` builds the error a failed call rejects with. */
export function channel(worker, makeError = (message) => new Error(message)) {
  const pending = new Map();
  let next = 0;
  return {
    /** Posts `{ type, ...payload }`; resolves with the reply's value. */
    call(type, payload = {}) {
      return new Promise((resolve, reject) => {
        const replyTo = next++;
        pending.set(replyTo, { resolve, reject });
        worker.postMessage({ type, replyTo, ...payload });
      });
    },
    /** Settles the call a reply answers; false for any other message. */
    settle(m) {
      if (m.type !== "reply") return false;
      const p = pending.get(m.replyTo);
      pending.delete(m.replyTo);
      if (p && m.error !== undefined) p.reject(makeError(m.error));
      else if (p) p.resolve(m.value);
      return true;
    },
    /** Rejects every call still waiting with `message`. */
    failAll(message) {
      for (const p of pending.values()) p.reject(makeError(message));
      pending.clear();
    },
  };
}
