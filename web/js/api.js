// REST calls (section 6 of the protocol). Every failure becomes a ChatError.
import { ChatError } from "./errors.js";

async function call(method, path, { body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin", // the refresh cookie (Path /api/auth) goes with the auth calls
    });
  } catch {
    throw new ChatError("network");
  }
  const payload = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) return payload;
  throw errorFrom(response.status, payload);
}

function errorFrom(status, payload) {
  const error = payload?.error;
  if (error && typeof error === "object") return new ChatError(error.code, error.message);
  const detail = typeof payload?.detail === "string" ? payload.detail : "";
  const code = { 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
    413: "too_large", 422: "invalid", 429: "rate_limited" }[status] ?? "internal";
  const result = new ChatError(code, detail);
  result.enveloped = false; // not a protocol error body (e.g. a route that does not exist)
  return result;
}

/** POST /api/users {username, password, invite?} -> {user, token} (section 19: `invite` when registration is by invitation) */
export const register = (username, password, invite = null) =>
  call("POST", "/api/users", { body: invite ? { username, password, invite } : { username, password } });

/** POST /api/auth/login -> {token, expires_at} */
export const login = (username, password) =>
  call("POST", "/api/auth/login", { body: { username, password } });

/** GET /api/auth/methods -> {password: bool, oidc: null | {name}} (section 14) */
export const authMethods = () => call("GET", "/api/auth/methods");

/** POST /api/auth/oidc/token {code}: the one-time code of single sign-on -> {token, expires_at} */
export const oidcToken = (code) => call("POST", "/api/auth/oidc/token", { body: { code } });

/** GET /api/users/me -> Profile */
export const me = (token) => call("GET", "/api/users/me", { token });

/**
 * POST /api/auth/refresh with the refresh cookie only (section 19) -> {token, expires_at}; the
 * server rotates the cookie. 401 when there is no session (or it was signed out).
 */
export const refreshSession = () => call("POST", "/api/auth/refresh");

/** POST /api/auth/logout: ends this session (its cookie, tokens and sockets). */
export const logout = (token) => call("POST", "/api/auth/logout", { token });

// Passwords and sessions (section 19).

/** POST /api/users/me/password {current, new}: every other session is signed out. */
export const changePassword = (token, current, next) =>
  call("POST", "/api/users/me/password", { token, body: { current, new: next } });

/** POST /api/auth/password-reset {username} or {email}: always 202, whether the account exists or not. */
export const requestPasswordReset = (who) =>
  call("POST", "/api/auth/password-reset", { body: who.includes("@") ? { email: who } : { username: who } });

/** POST /api/auth/password-reset/confirm {code, password}: every session is signed out. */
export const confirmPasswordReset = (code, password) =>
  call("POST", "/api/auth/password-reset/confirm", { body: { code, password } });

/** GET /api/users/me/sessions -> [{id, created_at, last_used_at, user_agent, address, current}] */
export async function listSessions(token) {
  const data = await call("GET", "/api/users/me/sessions", { token });
  return Array.isArray(data) ? data : data?.sessions ?? [];
}

/** DELETE /api/users/me/sessions/{id}: that session's tokens are revoked and its sockets close. */
export const endSession = (token, id) => call("DELETE", `/api/users/me/sessions/${encodeURIComponent(id)}`, { token });

/** DELETE /api/users/me/sessions: every session but this one. */
export const endOtherSessions = (token) => call("DELETE", "/api/users/me/sessions", { token });

// The workspace's administration (section 19), for its owners and admins.
const query = (params) => {
  const kept = Object.entries(params).filter(([, value]) => value !== "" && value != null);
  return kept.length ? `?${new URLSearchParams(kept)}` : "";
};
const listOf = (data, key) => (Array.isArray(data) ? data : data?.[key] ?? []);

/**
 * GET /api/admin/users?q=&role=&disabled=&after= -> {users: [{username, display_name, role, state, bot,
 * last_seen, methods}], next}: a page by name; `next` is the `after` of the next one (null: the last).
 */
export const adminUsers = async (token, params = {}) => {
  const data = await call("GET", `/api/admin/users${query(params)}`, { token });
  return { users: listOf(data, "users"), next: typeof data?.next === "string" ? data.next : null };
};

/** PATCH /api/admin/users/{name} {role?, disabled?} */
export const adminUpdateUser = (token, name, changes) =>
  call("PATCH", `/api/admin/users/${encodeURIComponent(name)}`, { token, body: changes });

/** POST /api/admin/users {username, email?, password?}: without a password an invite mail is sent. */
export const adminCreateUser = (token, fields) => call("POST", "/api/admin/users", { token, body: fields });

/** POST /api/admin/users/{name}/password-reset: the reset mail, as the user would ask for it. */
export const adminPasswordReset = (token, name) =>
  call("POST", `/api/admin/users/${encodeURIComponent(name)}/password-reset`, { token });

/** DELETE /api/admin/users/{name}: erase the account (section 16's erasure, by a workspace admin). */
export const adminEraseUser = (token, name) => call("DELETE", `/api/admin/users/${encodeURIComponent(name)}`, { token });

/** GET /api/admin/settings -> {registration, allowed_domains, members_invite} */
export const adminSettings = (token) => call("GET", "/api/admin/settings", { token });

/** PATCH /api/admin/settings {registration?, allowed_domains?, members_invite?} -> the settings */
export const saveAdminSettings = (token, changes) => call("PATCH", "/api/admin/settings", { token, body: changes });

/** GET /api/invites -> [{id, expires_at, uses_left, max_uses, email, topics, created_by, created_at, revoked, usable}] (no code) */
export const listInvites = async (token) => listOf(await call("GET", "/api/invites", { token }), "invites");

/** POST /api/invites {max_uses?, expires_in?, email?, topics?} -> 201 {id, code, url, expires_at, uses_left} */
export const createInvite = (token, fields) => call("POST", "/api/invites", { token, body: fields });

/** DELETE /api/invites/{id} */
export const revokeInvite = (token, id) => call("DELETE", `/api/invites/${encodeURIComponent(id)}`, { token });

/** GET /api/admin/topics -> [{name, kind, owner, members, last_seq, created_at, archived}]: every public topic. */
export const adminTopics = async (token) => listOf(await call("GET", "/api/admin/topics", { token }), "topics");

/** PATCH /api/topics/{name} {name}: rename (section 10; workspace admins may, section 19). */
export const renameTopic = (token, name, newName) =>
  call("PATCH", `/api/topics/${encodeURIComponent(name)}`, { token, body: { name: newName } });

/** POST /api/topics/{name}/archive or /unarchive */
export const archiveTopic = (token, name, archived) =>
  call("POST", `/api/topics/${encodeURIComponent(name)}/${archived ? "archive" : "unarchive"}`, { token });

/** PUT /api/admin/topics/{name}/owner {username}: the topic is theirs, its owner before stays an admin. */
export const transferTopic = (token, name, username) =>
  call("PUT", `/api/admin/topics/${encodeURIComponent(name)}/owner`, { token, body: { username } });

/** GET /api/admin/reports -> {reports: [...]} (the Admin UI's Reports list, for workspace admins). */
export const adminReports = async (token) => listOf(await call("GET", "/api/admin/reports", { token }), "reports");

/** GET /api/admin/audit?actor=&action=&since=&limit= -> {entries: [...]}, newest first */
export const adminAudit = async (token, params = {}) =>
  listOf(await call("GET", `/api/admin/audit${query(params)}`, { token }), "entries");

/** DELETE /api/admin/messages/{id}: a reported message removed (the audit row names the admin). */
export const adminDeleteMessage = (token, id) => call("DELETE", `/api/admin/messages/${encodeURIComponent(id)}`, { token });

/** DELETE /api/users/me {password}: erase the account (section 16) -> {username, state: "erasing", ...} */
export const deleteAccount = (token, password) => call("DELETE", "/api/users/me", { token, body: { password } });

/** POST /api/conversations {recipient}: open a direct conversation (idempotent). */
export const openConversation = (token, recipient) =>
  call("POST", "/api/conversations", { token, body: { recipient } });

// Bots and incoming webhooks (section 12). A token or a hook URL is in the answer once.
const path = (name) => encodeURIComponent(name);

/** GET /api/bots -> {bots: [{username, bot, owner}]} */
export const listBots = (token) => call("GET", "/api/bots", { token });

/** POST /api/bots {username} -> {username, bot, owner} */
export const createBot = (token, username) => call("POST", "/api/bots", { token, body: { username } });

/** GET /api/bots/{name}/tokens -> {tokens: [{id, label, created_at}]} */
export const listBotTokens = (token, bot) => call("GET", `/api/bots/${path(bot)}/tokens`, { token });

/** POST /api/bots/{name}/tokens {label} -> {id, token} */
export const createBotToken = (token, bot, label) =>
  call("POST", `/api/bots/${path(bot)}/tokens`, { token, body: { label } });

/** DELETE /api/bots/{name}/tokens/{id}: its sockets close. */
export const revokeBotToken = (token, bot, id) => call("DELETE", `/api/bots/${path(bot)}/tokens/${path(id)}`, { token });

/** GET /api/topics/{name}/hooks -> {hooks: [{id, bot, created_at}]} */
export const listHooks = (token, topic) => call("GET", `/api/topics/${path(topic)}/hooks`, { token });

/** POST /api/topics/{name}/hooks {} -> {id, url} */
export const createHook = (token, topic) => call("POST", `/api/topics/${path(topic)}/hooks`, { token, body: {} });

/** DELETE /api/topics/{name}/hooks/{id} */
export const revokeHook = (token, topic, id) => call("DELETE", `/api/topics/${path(topic)}/hooks/${path(id)}`, { token });

// Outgoing webhooks (PROTOCOL.md section 12), for a topic's owner and admins.
const hooksOf = (topic) => `/api/topics/${encodeURIComponent(topic)}/webhooks`;

/** GET /api/topics/{name}/webhooks -> {webhooks: [{id, url, events, created_at}]} */
export const listWebhooks = (token, topic) => call("GET", hooksOf(topic), { token });

/** POST /api/topics/{name}/webhooks {url, events, secret} -> {id} */
export const addWebhook = (token, topic, url, events, secret) =>
  call("POST", hooksOf(topic), { token, body: { url, events, secret } });

/** DELETE /api/topics/{name}/webhooks/{id} */
export const removeWebhook = (token, topic, id) => call("DELETE", `${hooksOf(topic)}/${id}`, { token });

/** GET /api/topics/{name}/webhooks/{id}/deliveries -> {deliveries: [{id, event, attempt, at, status, code}]} */
export const webhookDeliveries = (token, topic, id) => call("GET", `${hooksOf(topic)}/${id}/deliveries`, { token });

// Notifications (PROTOCOL.md section 15): Web Push subscriptions, preferences and the email address.

/** GET /api/push/key -> {public_key} (the VAPID application server key, base64url) */
export const pushKey = (token) => call("GET", "/api/push/key", { token });

/** POST /api/push/subscriptions {endpoint, keys: {p256dh, auth}} -> 201 {id, endpoint_host, created_at} */
export const addPushSubscription = (token, subscription) =>
  call("POST", "/api/push/subscriptions", { token, body: subscription });

/** GET /api/push/subscriptions -> {subscriptions: [{id, endpoint_host, created_at}]} */
export const listPushSubscriptions = (token) => call("GET", "/api/push/subscriptions", { token });

/** DELETE /api/push/subscriptions/{id} */
export const removePushSubscription = (token, id) =>
  call("DELETE", `/api/push/subscriptions/${encodeURIComponent(id)}`, { token });

/**
 * GET /api/users/me/notifications -> {push, email, email_digest_minutes, quiet_hours: null | {from, to},
 * email_address, email_verified, email_available}
 */
export const notificationPrefs = (token) => call("GET", "/api/users/me/notifications", { token });

/** PUT /api/users/me/notifications {push, email, email_digest_minutes, quiet_hours} -> the same object as GET */
export const saveNotificationPrefs = (token, prefs) =>
  call("PUT", "/api/users/me/notifications", { token, body: prefs });

/** PUT /api/users/me/email {email}: sends a verification mail. */
export const setEmail = (token, email) => call("PUT", "/api/users/me/email", { token, body: { email } });

// A user's export (section 16).
/** POST /api/users/me/export -> {id} (202; one an hour: rate_limited) */
export const requestExport = (token) => call("POST", "/api/users/me/export", { token });

/** GET /api/users/me/exports/{id} -> {ready: false, retryAfter} while it is built (202), or
 * {ready: true, blob, filename} with the ZIP. Anything else is a ChatError. */
export async function fetchExport(token, id) {
  let response;
  try {
    response = await fetch(`/api/users/me/exports/${encodeURIComponent(id)}`, {
      headers: { Authorization: `Bearer ${token}`, Accept: "application/zip, application/json" },
    });
  } catch {
    throw new ChatError("network");
  }
  if (response.status === 202) {
    return { ready: false, retryAfter: Number(response.headers.get("Retry-After")) || 2 };
  }
  if (response.ok) {
    const disposition = response.headers.get("Content-Disposition") ?? "";
    const filename = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? `parley-export-${id}.zip`;
    return { ready: true, blob: await response.blob(), filename };
  }
  throw errorFrom(response.status, await response.json().catch(() => null));
}

/** GET /api/emoji -> [{name, url, by, created_at}] (custom emoji, PROTOCOL.md section 13) */
export const listEmoji = async (token) => listOf(await call("GET", "/api/emoji", { token }), "emoji");

/** POST /api/emoji multipart {name, file} (owners and admins) -> {name, url, by, created_at} */
export async function addEmoji(token, name, file) {
  const form = new FormData();
  form.append("name", name);
  form.append("file", file, file.name || "emoji.png");
  let response;
  try {
    response = await fetch("/api/emoji", { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: form });
  } catch {
    throw new ChatError("network");
  }
  const payload = await response.json().catch(() => null);
  if (response.ok) return payload;
  throw errorFrom(response.status, payload);
}

/** DELETE /api/emoji/{name} (owners and admins) */
export const removeEmoji = (token, name) => call("DELETE", `/api/emoji/${encodeURIComponent(name)}`, { token });

/** GET /api/admin/keys -> [{id, label, scopes, bot, created_at}]: the server API's keys (never the keys) */
export const listServerKeys = async (token) => listOf(await call("GET", "/api/admin/keys", { token }), "keys");

/** POST /api/admin/keys {label, scopes?} -> 201 {id, key, label, scopes}: the key, shown this once */
export const createServerKey = (token, fields) => call("POST", "/api/admin/keys", { token, body: fields });

/** DELETE /api/admin/keys/{id}: every node refuses the key from now on */
export const revokeServerKey = (token, id) => call("DELETE", `/api/admin/keys/${encodeURIComponent(id)}`, { token });
