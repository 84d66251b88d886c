// Entry point: load the Socket.IO client and the Markdown renderer, then show
// the login screen or the chat, and switch between them. A session lasts through
// its refresh cookie (./session.js): a load gets a token through it before
// anything shows; invitation and password-reset links (`/#invite=`, `/#reset=`)
// open their own screens (PROTOCOL.md section 19).
import * as api from "./api.js";
import { Chat } from "./chat.js";
import { clearCredentials, saveCredentials } from "./credentials.js";
import { AUTH_CODES } from "./errors.js";
import * as session from "./session.js";
import { keepLink, pendingLink, takeLink } from "./deep_link.js";
import { loadMarkdown } from "./markdown.js";
import { registerWorker } from "./push.js";
import { loadClient } from "./socket.js";
import { h } from "./ui/dom.js";
import { renderForgot, renderReset } from "./ui/auth_links.js";
import { renderLogin } from "./ui/login.js";
import { Banner, Toasts } from "./ui/notices.js";

const root = document.getElementById("app");
const banner = new Banner(document.getElementById("banner"));
const toasts = new Toasts(document.getElementById("toasts"));
let io = null;
let chat = null;
let screen = 0; // the newest screen asked for: a slower, older one does not replace it
let linkWhileLoading = null; // an invitation or reset link followed before the client was loaded

async function boot() {
  const sso = takeSignOnResult(); // before anything else: the one-time code leaves the URL at once
  const authLink = takeAuthLink(); // #invite=... or #reset=...: leaves the URL at once too
  takeLink(); // #topic=...&message=...: opened once signed in
  window.addEventListener("hashchange", followLink); // a link opened in this tab
  registerWorker(); // shows pushes; asks the user nothing
  listenToWorker();
  try {
    [io] = await Promise.all([loadClient(), loadMarkdown()]); // without Markdown: plain text bodies
  } catch (err) {
    showFatal(err.message);
    return;
  }
  if (sso?.code) return finishSignOn(sso.code);
  if (sso?.error) return showLogin("", `Single sign-on did not sign you in (${sso.error}). Try again.`);
  const auth = linkWhileLoading ?? authLink; // the newest, should one be followed while loading
  if (auth?.reset) return showReset(auth.reset);
  if (auth?.invite) return showLogin("", "", { invite: auth.invite });
  resume();
}

/**
 * No token in this tab's memory: the session's cookie gives one (a reload, another tab, a browser
 * restart), and the chat starts without showing the login form; no session: the login form.
 * Until the answer, the neutral "Loading Parley…" stays.
 */
async function resume() {
  const mine = ++screen;
  let fresh;
  try {
    fresh = await session.refresh();
  } catch (err) {
    if (mine !== screen) return; // a link followed meanwhile shows its own screen
    return showLogin("", AUTH_CODES.has(err.code) || err.code === "not_found" ? "" : err.message);
  }
  if (mine === screen) signedIn(fresh, null).catch((err) => showLogin("", err.message));
}

/** `/#invite=<code>` (registration with an invitation) or `/#reset=<code>` (a new password). */
function takeAuthLink() {
  const found = new URLSearchParams(location.hash.slice(1));
  const invite = found.get("invite");
  const reset = found.get("reset");
  if (!invite && !reset) return null;
  history.replaceState(history.state, "", location.pathname + location.search);
  return { invite: invite || null, reset: invite ? null : reset };
}

/** A token (login, registration, single sign-on, refresh): who I am, then the chat. */
async function signedIn(data, profile, fresh = false) {
  const known = profile ?? await api.me(data.token);
  if (fresh) session.share(data, known.username); // a new session: the other tabs may use its token
  const creds = { token: data.token, username: known.username, role: known.role ?? "member", expiresAt: data.expires_at ?? null };
  saveCredentials(creds);
  startChat(creds);
}

/**
 * Single sign-on ends on `/#oidc_code=<one-time code>` (or `/#oidc_error=<code>`): read it and
 * take it out of the address bar and the history at once.
 */
function takeSignOnResult() {
  const found = new URLSearchParams(location.hash.slice(1));
  const code = found.get("oidc_code");
  const error = found.get("oidc_error");
  if (code === null && error === null) return null;
  history.replaceState(history.state, "", location.pathname + location.search);
  return { code, error: error === null ? null : (/^[a-z_]{1,32}$/.test(error) ? error : "error") };
}

/** Exchange the one-time code for a token (once, within a minute), then sign in as a login does. */
async function finishSignOn(code) {
  try {
    const data = await api.oidcToken(code);
    await signedIn(data, null, true); // the exchange set the session's cookie
  } catch (err) {
    showLogin("", `Single sign-on did not sign you in: ${err.message}`);
  }
}

/** A link to a message opened in this tab, while it runs: now when signed in, else after sign-in. */
function followLink() {
  const auth = takeAuthLink(); // an invitation or a reset link typed into this tab's address bar
  if (auth) {
    if (!io) linkWhileLoading = auth; // boot shows it once the client is loaded
    else if (chat) toasts.show("You are signed in: log out first to use that link.", "error");
    else if (auth.reset) showReset(auth.reset);
    else showLogin("", "", { invite: auth.invite });
    return;
  }
  const link = takeLink(); // kept for after sign-in
  if (link && chat) chat.openLink(pendingLink()); // signed in: now, and no longer kept
}

/**
 * The service worker's messages (web/sw.js): "parley:showing?" asks which conversation this window
 * shows (answered on the port; none unless the window has focus), "parley:open" says a
 * notification was clicked: its conversation opens now, or once signed in.
 */
function listenToWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event) => {
    const { type, topic, id, seq } = event.data ?? {};
    if (type === "parley:showing?") {
      const seen = document.visibilityState === "visible" && document.hasFocus();
      event.ports[0]?.postMessage({ topic: (seen && chat?.state.currentName) || null });
      return;
    }
    if (type !== "parley:open" || typeof topic !== "string" || !topic) return;
    const link = { topic, id: Number.isSafeInteger(id) ? id : null, seq: Number.isSafeInteger(seq) ? seq : null };
    if (chat) chat.openLink(link);
    else keepLink(link);
  });
  navigator.serviceWorker.startMessages();
}

function showFatal(text) {
  root.replaceChildren(h("main", { class: "auth-screen" },
    h("div", { class: "auth-card fatal", role: "alert", "data-testid": "fatal-error" },
      h("h1", { class: "auth-title" }, "Parley cannot start"),
      h("p", {}, withCode(text)))));
}

/** Show `quoted` parts of a sentence as code (as text nodes: nothing is parsed as HTML). */
function withCode(text) {
  return text.split("`").map((part, i) => (i % 2 ? h("code", {}, part) : part));
}

async function showLogin(notice = "", error = "", { invite = null } = {}) {
  const mine = ++screen;
  banner.show("hidden");
  toasts.clear();
  let methods = { password: true, oidc: null };
  try {
    methods = await api.authMethods();
  } catch {
    // An older server or a network hiccup: the password form, as before.
  }
  if (mine !== screen) return; // another screen was asked for meanwhile (a link followed)
  renderLogin(root, {
    notice, error, methods, invite, submit: (mode, username, password) => signIn(mode, username, password, invite),
    forgot: () => {
      screen += 1;
      renderForgot(root, { submit: (who) => api.requestPasswordReset(who), back: () => showLogin() });
    },
    loginInstead: () => showLogin(),
  });
}

async function showReset(code) {
  screen += 1;
  banner.show("hidden");
  renderReset(root, {
    submit: (password) => api.confirmPasswordReset(code, password),
    done: () => showLogin("Your password is changed: log in with it."),
    back: () => showLogin(),
  });
}

async function signIn(mode, username, password, invite) {
  if (mode === "register") {
    // A sign-up answers a token of no session (section 6); the login that follows opens the
    // session that lasts (section 19: its refresh cookie).
    const made = await api.register(username, password, invite);
    const data = await api.login(username, password);
    await signedIn(data, profileIn(made), true);
  } else {
    const data = await api.login(username, password);
    await signedIn(data, profileIn(data), true);
  }
}

/** The Profile an answer carries, when it says the workspace role too (else GET /api/users/me). */
function profileIn(data) {
  return data.user?.username && data.user.role ? data.user : null;
}

function startChat(creds) {
  screen += 1;
  chat = new Chat(root, {
    io, creds, banner, toasts,
    logout,
    signedOut: (notice) => {
      chat = null;
      clearCredentials();
      showLogin(notice);
    },
  });
}

async function logout() {
  const current = chat;
  if (!current) return;
  try {
    await api.logout(current.env.creds.token);
  } catch {
    // Already invalid or unreachable: forgetting the token locally is what matters.
  }
  session.shareEnded("You were logged out in another tab."); // the session is the same in every tab
  current.end("You are logged out.");
}

// A test sets window.__parleyTest (an init script) to reach the page's state and
// clock (chat().refresher.advanceClock(ms)); a normal page exposes nothing.
if (window.__parleyTest) Object.assign(window.__parleyTest, { chat: () => chat });

boot();
