// The session that lasts (PROTOCOL.md section 19): the access token lives in this tab's memory
// only; the session is the refresh cookie (HttpOnly, Path /api/auth), which the page never sees.
// A token comes from POST /api/auth/refresh, which rotates the cookie: two tabs presenting the
// same cookie at once would look like a replay and sign the session out. So one refresh runs at a
// time across the tabs of this browser (the Web Locks API), and a tab that got a fresh token tells
// the others (a BroadcastChannel): one that was waiting for the lock takes it instead of rotating
// again. A tab that signs out tells the others too: they show the login form at once.
import * as api from "./api.js";

const LOCK = "parley.refresh";
const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("parley.session") : null;
const listeners = { token: new Set(), ended: new Set() };
let latest = null; // {token, expires_at, at}: the newest token any tab of this browser got

channel?.addEventListener("message", (event) => {
  const data = event.data ?? {};
  if (data.type === "token" && typeof data.token === "string") {
    latest = { token: data.token, expires_at: data.expires_at ?? null, at: Number(data.at) || Date.now(), username: data.username ?? null };
    for (const listener of listeners.token) listener(latest);
  } else if (data.type === "ended") {
    latest = null;
    for (const listener of listeners.ended) listener(String(data.notice ?? ""));
  }
});

/**
 * Called with {token, expires_at, username} when another tab got a token (username: whose, when
 * that tab knew it: a login as someone else replaces the browser's session). Returns an unsubscribe.
 */
export function onSharedToken(listener) {
  listeners.token.add(listener);
  return () => listeners.token.delete(listener);
}

/** Called with a notice when another tab signed the session out. Returns an unsubscribe. */
export function onSessionEnded(listener) {
  listeners.ended.add(listener);
  return () => listeners.ended.delete(listener);
}

/** A token this tab got (a login, a single sign-on, a password change): the other tabs may use it. */
export function share({ token, expires_at: expiresAt = null }, username = null) {
  latest = { token, expires_at: expiresAt, at: Date.now(), username };
  channel?.postMessage({ type: "token", ...latest });
}

/** This tab signed the session out: the others show the login form. */
export function shareEnded(notice = "") {
  latest = null;
  channel?.postMessage({ type: "ended", notice });
}

const withLock = (run) => (navigator.locks?.request ? navigator.locks.request(LOCK, run) : run());

/**
 * A fresh access token through the cookie: {token, expires_at}, or a ChatError (unauthorized when
 * there is no session). Another tab's token, got while this one waited for the lock, is used as is.
 * username: who this tab is signed in as (told to the other tabs with the token), when known.
 */
export function refresh(username = null) {
  const askedAt = Date.now();
  return withLock(async () => {
    if (latest && latest.at >= askedAt && usable(latest)) return { token: latest.token, expires_at: latest.expires_at };
    const fresh = await api.refreshSession();
    share(fresh, username);
    return { token: fresh.token, expires_at: fresh.expires_at ?? null };
  });
}

function usable({ expires_at: expiresAt }) {
  const at = Date.parse(expiresAt ?? "");
  return Number.isNaN(at) || at - Date.now() > 1000;
}
